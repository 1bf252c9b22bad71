// RUN: keops-opt %s --split-input-file --verify-diagnostics

// Every verifier and parser error of the keops dialect, one per split.

func.func @unknown_kind(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{unknown reduction kind 'average'}}
  %0 = keops.reduce average over j (%a = %x : i) : (tensor<?x3xf32>) -> tensor<?x3xf32> {
    keops.yield %a : vector<3xf32>
  }
  return
}

// -----

func.func @unknown_axis(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{unknown axis 'k'}}
  %0 = keops.reduce sum over k (%a = %x : i) : (tensor<?x3xf32>) -> tensor<?x3xf32> {
    keops.yield %a : vector<3xf32>
  }
  return
}

// -----

func.func @unknown_category(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{unknown category 'k'}}
  %0 = keops.reduce sum over j (%a = %x : k) : (tensor<?x3xf32>) -> tensor<?x3xf32> {
    keops.yield %a : vector<3xf32>
  }
  return
}

// -----

func.func @dynamic_dim(%x: tensor<?x?xf32>) {
  // expected-error @+1 {{inputs must be ranked tensors with a static last dimension, got 'tensor<?x?xf32>'}}
  %0 = keops.reduce sum over j (%a = %x : i) : (tensor<?x?xf32>) -> tensor<?x3xf32> {
    keops.yield %a : vector<3xf32>
  }
  return
}

// -----

func.func @i_variable_rank(%x: tensor<3xf32>) {
  // expected-error @+1 {{input #0 of category 'i' must be a tensor<? x D x T> with a static D, got 'tensor<3xf32>'}}
  %0 = keops.reduce sum over j (%a = %x : i) : (tensor<3xf32>) -> tensor<?x3xf32> {
    keops.yield %a : vector<3xf32>
  }
  return
}

// -----

func.func @param_rank(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{input #0 of category 'param' must be a tensor<D x T> with a static D, got 'tensor<?x3xf32>'}}
  %0 = keops.reduce sum over j (%a = %x : param) : (tensor<?x3xf32>) -> tensor<?x3xf32> {
    keops.yield %a : vector<3xf32>
  }
  return
}

// -----

func.func @mixed_element_types(%x: tensor<?x3xf32>, %y: tensor<?x3xf64>) {
  // expected-error @+1 {{input #1 has element type 'f64', expected 'f32' like input #0}}
  %0 = keops.reduce sum over j (%a = %x : i, %b = %y : j) : (tensor<?x3xf32>, tensor<?x3xf64>) -> tensor<?x3xf32> {
    keops.yield %a : vector<3xf32>
  }
  return
}

// -----

func.func @category_count(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{has 1 inputs but 2 categories}}
  %0 = "keops.reduce"(%x) <{axis = #keops<axis j>, categories = [#keops<category i>, #keops<category j>], kind = #keops<reduction sum>}> ({
  ^bb0(%a: vector<3xf32>):
    keops.yield %a : vector<3xf32>
  }) : (tensor<?x3xf32>) -> tensor<?x3xf32>
  return
}

// -----

func.func @region_argument_count(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{region must have one argument per input (1), got 2}}
  %0 = "keops.reduce"(%x) <{axis = #keops<axis j>, categories = [#keops<category i>], kind = #keops<reduction sum>}> ({
  ^bb0(%a: vector<3xf32>, %b: vector<3xf32>):
    keops.yield %a : vector<3xf32>
  }) : (tensor<?x3xf32>) -> tensor<?x3xf32>
  return
}

// -----

func.func @region_argument_type(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{region argument #0 must be 'vector<3xf32>', got 'vector<2xf32>'}}
  %0 = "keops.reduce"(%x) <{axis = #keops<axis j>, categories = [#keops<category i>], kind = #keops<reduction sum>}> ({
  ^bb0(%a: vector<2xf32>):
    keops.yield %a : vector<2xf32>
  }) : (tensor<?x3xf32>) -> tensor<?x2xf32>
  return
}

// -----

func.func @no_yield_value(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{region must yield the formula value}}
  %0 = keops.reduce sum over j (%a = %x : i) : (tensor<?x3xf32>) -> tensor<?x3xf32> {
    keops.yield
  }
  return
}

// -----

func.func @three_yield_values(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{region yields at most a formula and a weight, got 3 values}}
  %0 = keops.reduce logsumexp over j (%a = %x : i) : (tensor<?x1xf32>) -> tensor<?x1xf32> {
    keops.yield %a, %a, %a : vector<1xf32>, vector<1xf32>, vector<1xf32>
  }
  return
}

// -----

func.func @weight_element_type(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{weight element type 'vector<1xf16>' differs from the formula's 'vector<1xf32>'}}
  %0 = keops.reduce logsumexp over j (%a = %x : i) : (tensor<?x1xf32>) -> tensor<?x1xf32> {
    %c = keops.constant dense<1.0> : vector<1xf16>
    keops.yield %a, %c : vector<1xf32>, vector<1xf16>
  }
  return
}

// -----

func.func @kmin_without_k(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{reduction 'kmin' requires K}}
  %0 = keops.reduce kmin over j (%a = %x : i) : (tensor<?x1xf32>) -> tensor<?x1xf32> {
    keops.yield %a : vector<1xf32>
  }
  return
}

// -----

func.func @sum_with_k(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{reduction 'sum' takes no K}}
  %0 = keops.reduce sum<2> over j (%a = %x : i) : (tensor<?x1xf32>) -> tensor<?x1xf32> {
    keops.yield %a : vector<1xf32>
  }
  return
}

// -----

func.func @zero_k(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{attribute 'k' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = keops.reduce kmin<0> over j (%a = %x : i) : (tensor<?x1xf32>) -> tensor<?x1xf32> {
    keops.yield %a : vector<1xf32>
  }
  return
}

// -----

func.func @sum_with_weight(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{reduction 'sum' takes no weight formula}}
  %0 = keops.reduce sum over j (%a = %x : i) : (tensor<?x1xf32>) -> tensor<?x1xf32> {
    keops.yield %a, %a : vector<1xf32>, vector<1xf32>
  }
  return
}

// -----

func.func @softmax_without_weight(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{reduction 'sumsoftmaxweight' requires a weight formula}}
  %0 = keops.reduce sumsoftmaxweight over j (%a = %x : i) : (tensor<?x1xf32>) -> tensor<?x1xf32> {
    keops.yield %a : vector<1xf32>
  }
  return
}

// -----

func.func @logsumexp_of_vector(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{reduction 'logsumexp' requires a scalar formula, got dimension 3}}
  %0 = keops.reduce logsumexp over j (%a = %x : i) : (tensor<?x3xf32>) -> tensor<?x1xf32> {
    keops.yield %a : vector<3xf32>
  }
  return
}

// -----

func.func @wrong_result_type(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{reduction 'argmin' must have result types ('tensor<?x3xi64>'), got ('tensor<?x3xf32>')}}
  %0 = keops.reduce argmin over j (%a = %x : i) : (tensor<?x3xf32>) -> tensor<?x3xf32> {
    keops.yield %a : vector<3xf32>
  }
  return
}

// -----

func.func @wrong_result_count(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{reduction 'min_argmin' must have result types ('tensor<?x3xf32>', 'tensor<?x3xi64>'), got ('tensor<?x3xf32>')}}
  %0 = keops.reduce min_argmin over j (%a = %x : i) : (tensor<?x3xf32>) -> tensor<?x3xf32> {
    keops.yield %a : vector<3xf32>
  }
  return
}

// -----

func.func @no_broadcast(%x: tensor<?x3xf32>, %y: tensor<?x2xf32>) {
  %0 = keops.reduce sum over j (%a = %x : i, %b = %y : j) : (tensor<?x3xf32>, tensor<?x2xf32>) -> tensor<?x3xf32> {
    // expected-error @+1 {{operand dimensions (3, 2) do not broadcast: they must be equal or 1}}
    %c = keops.add %a, %b : vector<3xf32>, vector<2xf32>
    keops.yield %c : vector<3xf32>
  }
  return
}

// -----

func.func @sqdist_no_broadcast(%x: tensor<?x3xf32>, %y: tensor<?x2xf32>) {
  %0 = keops.reduce sum over j (%a = %x : i, %b = %y : j) : (tensor<?x3xf32>, tensor<?x2xf32>) -> tensor<?x1xf32> {
    // expected-error @+1 {{operand dimensions (3, 2) do not broadcast}}
    %c = keops.sqdist %a, %b : vector<3xf32>, vector<2xf32>
    keops.yield %c : vector<1xf32>
  }
  return
}

// -----

func.func @ternary_no_broadcast(%x: tensor<?x3xf32>, %y: tensor<?x2xf32>) {
  %0 = keops.reduce sum over j (%a = %x : i, %b = %y : j) : (tensor<?x3xf32>, tensor<?x2xf32>) -> tensor<?x3xf32> {
    // expected-error @+1 {{operand dimensions (3, 3, 2) do not broadcast}}
    %c = keops.ifelse %a, %a, %b : vector<3xf32>, vector<3xf32>, vector<2xf32>
    keops.yield %c : vector<3xf32>
  }
  return
}

// -----

func.func @scalprod_dims(%x: tensor<?x3xf32>, %y: tensor<?x1xf32>) {
  %0 = keops.reduce sum over j (%a = %x : i, %b = %y : j) : (tensor<?x3xf32>, tensor<?x1xf32>) -> tensor<?x1xf32> {
    // expected-error @+1 {{operand dimensions (3, 1) must be equal}}
    %c = keops.scalprod %a, %b : vector<3xf32>, vector<1xf32>
    keops.yield %c : vector<1xf32>
  }
  return
}

// -----

func.func @elem_out_of_range(%x: tensor<?x3xf32>) {
  %0 = keops.reduce sum over j (%a = %x : i) : (tensor<?x3xf32>) -> tensor<?x1xf32> {
    // expected-error @+1 {{component 3 is out of range for a vector of dimension 3}}
    %c = keops.elem %a[3] : vector<3xf32>
    keops.yield %c : vector<1xf32>
  }
  return
}

// -----

func.func @extract_out_of_range(%x: tensor<?x3xf32>) {
  %0 = keops.reduce sum over j (%a = %x : i) : (tensor<?x3xf32>) -> tensor<?x2xf32> {
    // expected-error @+1 {{components [2, 4) are out of range for a vector of dimension 3}}
    %c = keops.extract %a[2, 2] : vector<3xf32>
    keops.yield %c : vector<2xf32>
  }
  return
}

// -----

func.func @mixed_operand_types(%x: tensor<?x3xf32>) {
  %0 = keops.reduce sum over j (%a = %x : i) : (tensor<?x3xf32>) -> tensor<?x3xf32> {
    %one = keops.constant dense<1.0> : vector<1xf64>
    // expected-error @+1 {{formula operands must have one element type}}
    %c = keops.mul %a, %one : vector<3xf32>, vector<1xf64>
    keops.yield %c : vector<3xf32>
  }
  return
}

// -----

func.func @wrong_formula_result(%x: tensor<?x3xf32>) {
  %0 = keops.reduce sum over j (%a = %x : i) : (tensor<?x3xf32>) -> tensor<?x2xf32> {
    // expected-error @+2 {{'keops.exp' op inferred type(s) 'vector<3xf32>' are incompatible with return type(s) of operation 'vector<2xf32>'}}
    // expected-error @+1 {{'keops.exp' op failed to infer returned types}}
    %c = "keops.exp"(%a) : (vector<3xf32>) -> vector<2xf32>
    keops.yield %c : vector<2xf32>
  }
  return
}

// -----

func.func @integer_formula() {
  %0 = keops.reduce sum over j () : () -> tensor<?x1xf32> {
    %c = arith.constant dense<1> : vector<1xi32>
    // expected-error @+1 {{'keops.exp' op operand #0 must be vector of 16-bit float or 32-bit float or 64-bit float values of ranks 1, but got 'vector<1xi32>'}}
    %e = keops.exp %c : vector<1xi32>
    keops.yield %e : vector<1xi32>
  }
  return
}

// -----

func.func @yield_outside_reduce(%x: vector<3xf32>) {
  // expected-error @+1 {{'keops.yield' op expects parent op 'keops.reduce'}}
  keops.yield %x : vector<3xf32>
}

// -----

func.func @constant_not_vector() {
  // expected-error @+1 {{'keops.constant' op result #0 must be vector of 16-bit float or 32-bit float or 64-bit float values of ranks 1, but got 'tensor<1xf32>'}}
  %c = keops.constant dense<1.0> : tensor<1xf32>
  return
}

// -----

func.func @foreign_op_in_region(%x: tensor<?x1xf32>) {
  %0 = keops.reduce sum over j (%a = %x : i) : (tensor<?x1xf32>) -> tensor<?x1xf32> {
    // expected-error @+1 {{'arith.addf' op is not a formula op; a keops.reduce region holds formula ops and keops.grad only}}
    %s = arith.addf %a, %a : vector<1xf32>
    keops.yield %s : vector<1xf32>
  }
  return
}

// -----

func.func @grad_of_non_variable(%x: tensor<?x1xf32>) {
  %0 = keops.reduce sum over j (%a = %x : i) : (tensor<?x1xf32>) -> tensor<?x1xf32> {
    %e = keops.exp %a : vector<1xf32>
    // expected-error @+1 {{'keops.grad' op differentiates with respect to a variable: a region argument of the enclosing keops.reduce}}
    %g = keops.grad %e wrt %e along %a : vector<1xf32>, vector<1xf32>, vector<1xf32>
    keops.yield %g : vector<1xf32>
  }
  return
}

// -----

func.func @grad_seed_type(%x: tensor<?x3xf32>) {
  %0 = keops.reduce sum over j (%a = %x : i) : (tensor<?x3xf32>) -> tensor<?x3xf32> {
    %n = keops.sqnorm2 %a : vector<3xf32>
    // expected-error @+1 {{'keops.grad' op gradient input 'vector<3xf32>' must have the formula's type 'vector<1xf32>'}}
    %g = keops.grad %n wrt %a along %a : vector<1xf32>, vector<3xf32>, vector<3xf32>
    keops.yield %g : vector<3xf32>
  }
  return
}

// -----

func.func @schedule_of_an_argument(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{schedules a result of a keops.reduce over j}}
  keops.schedule %x : tensor<?x1xf32> attributes {acc_type = f32, feature_loop_min_dim = 32 : i64, staged, sum_scheme = "block_sum", tile_cols = 64 : i64, tile_rows = 1 : i64} {
    %0 = keops.state_init
    %1 = keops.for_tiles(%0) {
    ^bb0(%acc: !keops.state):
      %2 = keops.accumulate_tile %acc
      keops.tile_yield %2
    }
    keops.state_store %1
  }
  return
}

// -----

func.func @schedule_over_i(%x: tensor<?x1xf32>) {
  %r = keops.reduce sum over i (%a = %x : i) : (tensor<?x1xf32>) -> tensor<?x1xf32> {
    keops.yield %a : vector<1xf32>
  }
  // expected-error @+1 {{schedules a result of a keops.reduce over j}}
  keops.schedule %r : tensor<?x1xf32> attributes {acc_type = f32, feature_loop_min_dim = 32 : i64, staged, sum_scheme = "block_sum", tile_cols = 64 : i64, tile_rows = 1 : i64} {
    %0 = keops.state_init
    %1 = keops.for_tiles(%0) {
    ^bb0(%acc: !keops.state):
      %2 = keops.accumulate_tile %acc
      keops.tile_yield %2
    }
    keops.state_store %1
  }
  return
}

// -----

func.func @sqdist_expansion_without_sqdist(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>) {
  %r = keops.reduce sum over j (%a = %x : i, %b = %y : j) : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x1xf32> {
    %s = keops.scalprod %a, %b : vector<64xf32>, vector<64xf32>
    keops.yield %s : vector<1xf32>
  }
  // expected-error @+1 {{sqdist_expansion needs a keops.sqdist of a row variable and a reduced variable computed by a feature loop}}
  keops.schedule %r : tensor<?x1xf32> attributes {acc_type = f32, feature_loop_min_dim = 32 : i64, sqdist_expansion, staged, sum_scheme = "block_sum", tile_cols = 64 : i64, tile_rows = 1 : i64} {
    %0 = keops.state_init
    %1 = keops.for_tiles(%0) {
    ^bb0(%acc: !keops.state):
      %2 = keops.accumulate_tile %acc
      keops.tile_yield %2
    }
    keops.state_store %1
  }
  return
}

// -----

func.func @unknown_sum_scheme(%x: tensor<?x1xf32>) {
  %r = keops.reduce sum over j (%a = %x : j) : (tensor<?x1xf32>) -> tensor<?x1xf32> {
    keops.yield %a : vector<1xf32>
  }
  // expected-error @+1 {{sum_scheme must be block_sum, kahan_scheme or direct_sum, got 'pairwise'}}
  keops.schedule %r : tensor<?x1xf32> attributes {acc_type = f32, feature_loop_min_dim = 32 : i64, staged, sum_scheme = "pairwise", tile_cols = 64 : i64, tile_rows = 1 : i64} {
    %0 = keops.state_init
    %1 = keops.for_tiles(%0) {
    ^bb0(%acc: !keops.state):
      %2 = keops.accumulate_tile %acc
      keops.tile_yield %2
    }
    keops.state_store %1
  }
  return
}

// -----

func.func @schedule_without_store(%x: tensor<?x1xf32>) {
  %r = keops.reduce sum over j (%a = %x : j) : (tensor<?x1xf32>) -> tensor<?x1xf32> {
    keops.yield %a : vector<1xf32>
  }
  // expected-error @+1 {{body must be keops.state_init, keops.for_tiles of its state and keops.state_store of the tiles' states}}
  keops.schedule %r : tensor<?x1xf32> attributes {acc_type = f32, feature_loop_min_dim = 32 : i64, staged, sum_scheme = "block_sum", tile_cols = 64 : i64, tile_rows = 1 : i64} {
    %0 = keops.state_init
    %1 = keops.for_tiles(%0) {
    ^bb0(%acc: !keops.state):
      %2 = keops.accumulate_tile %acc
      keops.tile_yield %2
    }
  }
  return
}

// -----

func.func @store_in_tiles(%x: tensor<?x1xf32>) {
  %r = keops.reduce sum over j (%a = %x : j) : (tensor<?x1xf32>) -> tensor<?x1xf32> {
    keops.yield %a : vector<1xf32>
  }
  keops.schedule %r : tensor<?x1xf32> attributes {acc_type = f32, feature_loop_min_dim = 32 : i64, staged, sum_scheme = "block_sum", tile_cols = 64 : i64, tile_rows = 1 : i64} {
    %0 = keops.state_init
    %1 = keops.for_tiles(%0) {
    ^bb0(%acc: !keops.state):
      // expected-error @+1 {{is not allowed in keops.for_tiles (only state_init, state_merge, accumulate_tile)}}
      keops.state_store %acc
      keops.tile_yield %acc
    }
    keops.state_store %1
  }
  return
}

// -----

func.func @accumulate_outside_tiles() {
  %0 = keops.state_init
  // expected-error @+1 {{expects parent op 'keops.for_tiles'}}
  %1 = keops.accumulate_tile %0
  return
}

// -----

// Static rows must agree: the i variables among themselves.
func.func @static_rows_disagree(%x: tensor<8x3xf32>, %z: tensor<7x3xf32>, %y: tensor<?x3xf32>) -> tensor<8x1xf32> {
  // expected-error @+1 {{inputs #0 and #1 of category 'i' have 8 and 7 rows}}
  %r = keops.reduce sum over j (%xi = %x : i, %zi = %z : i, %yj = %y : j)
      : (tensor<8x3xf32>, tensor<7x3xf32>, tensor<?x3xf32>) -> tensor<8x1xf32> {
    %d = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
    keops.yield %d : vector<1xf32>
  }
  return %r : tensor<8x1xf32>
}

// -----

// ... and the results with the variables of the output rows' category.
func.func @static_result_rows(%x: tensor<8x3xf32>, %y: tensor<5x3xf32>) -> tensor<5x1xf32> {
  // expected-error @+1 {{result type 'tensor<5x1xf32>' has 5 rows, expected 8}}
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<8x3xf32>, tensor<5x3xf32>) -> tensor<5x1xf32> {
    %d = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
    keops.yield %d : vector<1xf32>
  }
  return %r : tensor<5x1xf32>
}

// -----

// A tensordot checks its shapes against its operands, and its axes.
func.func @tensordot_shape(%x: tensor<?x6xf32>, %y: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x6xf32>, tensor<?x3xf32>) -> tensor<?x2xf32> {
    // expected-error @+1 {{the first operand has dimension 6, not that of shape (2, 4)}}
    %d = keops.tensordot %xi, %yj shapes [2, 4], [3] axes [1], [0] permute [0] : vector<6xf32>, vector<3xf32>
    keops.yield %d : vector<2xf32>
  }
  return %r : tensor<?x2xf32>
}

// -----

func.func @tensordot_axes(%x: tensor<?x6xf32>, %y: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x6xf32>, tensor<?x3xf32>) -> tensor<?x2xf32> {
    // expected-error @+1 {{contracted axes 0 and 0 have sizes 2 and 3}}
    %d = keops.tensordot %xi, %yj shapes [2, 3], [3] axes [0], [0] permute [0] : vector<6xf32>, vector<3xf32>
    keops.yield %d : vector<2xf32>
  }
  return %r : tensor<?x2xf32>
}

// -----

func.func @tensordot_permute(%x: tensor<?x6xf32>, %y: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x6xf32>, tensor<?x3xf32>) -> tensor<?x2xf32> {
    // expected-error @+1 {{permute (1) is not a permutation of the 1 result axes}}
    %d = keops.tensordot %xi, %yj shapes [2, 3], [3] axes [1], [0] permute [1] : vector<6xf32>, vector<3xf32>
    keops.yield %d : vector<2xf32>
  }
  return %r : tensor<?x2xf32>
}
