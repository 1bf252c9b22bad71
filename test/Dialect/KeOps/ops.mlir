// RUN: keops-opt %s | keops-opt | FileCheck %s
// RUN: keops-opt %s --mlir-print-op-generic | keops-opt | FileCheck %s

// Every formula op, printed and parsed back (also through the generic form).

// CHECK-LABEL: func.func @formula_ops
func.func @formula_ops(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>,
                       %b: tensor<?x1xf32>, %p: tensor<2xf32>) -> tensor<?x3xf32> {
  // CHECK: keops.reduce sum over j (%[[X:.*]] = %{{.*}} : i, %[[Y:.*]] = %{{.*}} : j, %[[B:.*]] = %{{.*}} : j, %[[P:.*]] = %{{.*}} : param)
  // CHECK-SAME: : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x1xf32>, tensor<2xf32>) -> tensor<?x3xf32>
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j, %bj = %b : j, %pm = %p : param)
      : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x1xf32>, tensor<2xf32>) -> tensor<?x3xf32> {
    // CHECK: keops.neg %[[X]] : vector<3xf32>
    %0 = keops.neg %xi : vector<3xf32>
    // CHECK: keops.exp %{{.*}} : vector<3xf32>
    %1 = keops.exp %0 : vector<3xf32>
    // CHECK: keops.log
    %2 = keops.log %1 : vector<3xf32>
    // CHECK: keops.sqrt
    %3 = keops.sqrt %2 : vector<3xf32>
    // CHECK: keops.rsqrt
    %4 = keops.rsqrt %3 : vector<3xf32>
    // CHECK: keops.square
    %5 = keops.square %4 : vector<3xf32>
    // CHECK: keops.inv
    %6 = keops.inv %5 : vector<3xf32>
    // CHECK: keops.abs
    %7 = keops.abs %6 : vector<3xf32>
    // CHECK: keops.sign
    %8 = keops.sign %7 : vector<3xf32>
    // CHECK: keops.step
    %9 = keops.step %8 : vector<3xf32>
    // CHECK: keops.relu
    %10 = keops.relu %9 : vector<3xf32>
    // CHECK: keops.sin
    %11 = keops.sin %10 : vector<3xf32>
    // CHECK: keops.cos
    %12 = keops.cos %11 : vector<3xf32>
    // CHECK: keops.pow %{{.*}}, -2 : vector<3xf32>
    %13 = keops.pow %12, -2 : vector<3xf32>
    // CHECK: keops.add %{{.*}}, %[[B]] : vector<3xf32>, vector<1xf32>
    %14 = keops.add %13, %bj : vector<3xf32>, vector<1xf32>
    // CHECK: keops.sub %[[B]], %{{.*}} : vector<1xf32>, vector<3xf32>
    %15 = keops.sub %bj, %14 : vector<1xf32>, vector<3xf32>
    // CHECK: keops.mul
    %16 = keops.mul %15, %yj : vector<3xf32>, vector<3xf32>
    // CHECK: keops.div
    %17 = keops.div %16, %yj : vector<3xf32>, vector<3xf32>
    // CHECK: keops.powf %{{.*}}, %[[B]] : vector<3xf32>, vector<1xf32>
    %18 = keops.powf %17, %bj : vector<3xf32>, vector<1xf32>
    // CHECK: keops.ifelse %[[B]], %{{.*}}, %[[Y]] : vector<1xf32>, vector<3xf32>, vector<3xf32>
    %19 = keops.ifelse %bj, %18, %yj : vector<1xf32>, vector<3xf32>, vector<3xf32>
    // CHECK: keops.clamp %{{.*}}, %[[B]], %[[B]] : vector<3xf32>, vector<1xf32>, vector<1xf32>
    %20 = keops.clamp %19, %bj, %bj : vector<3xf32>, vector<1xf32>, vector<1xf32>
    // CHECK: keops.sum %{{.*}} : vector<3xf32>
    %21 = keops.sum %20 : vector<3xf32>
    // CHECK: keops.sqnorm2 %[[X]] : vector<3xf32>
    %22 = keops.sqnorm2 %xi : vector<3xf32>
    // CHECK: keops.norm2 %[[X]] : vector<3xf32>
    %23 = keops.norm2 %xi : vector<3xf32>
    // CHECK: keops.min %[[X]] : vector<3xf32>
    %24 = keops.min %xi : vector<3xf32>
    // CHECK: keops.max %[[X]] : vector<3xf32>
    %25 = keops.max %xi : vector<3xf32>
    // CHECK: keops.argmin %[[X]] : vector<3xf32>
    %26 = keops.argmin %xi : vector<3xf32>
    // CHECK: keops.argmax %[[X]] : vector<3xf32>
    %27 = keops.argmax %xi : vector<3xf32>
    // CHECK: keops.scalprod %[[X]], %[[Y]] : vector<3xf32>, vector<3xf32>
    %28 = keops.scalprod %xi, %yj : vector<3xf32>, vector<3xf32>
    // CHECK: keops.sqdist %[[X]], %[[Y]] : vector<3xf32>, vector<3xf32>
    %29 = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
    // CHECK: keops.normalize %[[X]] : vector<3xf32>
    %30 = keops.normalize %xi : vector<3xf32>
    // CHECK: keops.elem %[[X]][2] : vector<3xf32>
    %31 = keops.elem %xi[2] : vector<3xf32>
    // CHECK: keops.extract %[[X]][1, 2] : vector<3xf32>
    %32 = keops.extract %xi[1, 2] : vector<3xf32>
    // CHECK: keops.concat %[[P]], %{{.*}} : vector<2xf32>, vector<1xf32>
    %33 = keops.concat %pm, %31 : vector<2xf32>, vector<1xf32>
    // CHECK: keops.tensordot %[[X]], %[[Y]] shapes [3], [3] axes [], [] permute [1, 0] : vector<3xf32>, vector<3xf32>
    %outer = keops.tensordot %xi, %yj shapes [3], [3] axes [], [] permute [1, 0] : vector<3xf32>, vector<3xf32>
    // CHECK: keops.constant dense<[1.000000e+00, 5.000000e-01, 0.000000e+00]> : vector<3xf32>
    %34 = keops.constant dense<[1.0, 0.5, 0.0]> : vector<3xf32>
    %35 = keops.add %33, %34 : vector<3xf32>, vector<3xf32>
    %36 = keops.mul %35, %30 : vector<3xf32>, vector<3xf32>
    %37 = keops.add %36, %21 : vector<3xf32>, vector<1xf32>
    %38 = keops.add %37, %22 : vector<3xf32>, vector<1xf32>
    %39 = keops.add %38, %23 : vector<3xf32>, vector<1xf32>
    %40 = keops.add %39, %24 : vector<3xf32>, vector<1xf32>
    %41 = keops.add %40, %25 : vector<3xf32>, vector<1xf32>
    %42 = keops.add %41, %26 : vector<3xf32>, vector<1xf32>
    %43 = keops.add %42, %27 : vector<3xf32>, vector<1xf32>
    %44 = keops.add %43, %28 : vector<3xf32>, vector<1xf32>
    %45 = keops.add %44, %29 : vector<3xf32>, vector<1xf32>
    // CHECK: keops.xlogx
    %n1 = keops.xlogx %xi : vector<3xf32>
    // CHECK: keops.asin
    %n2 = keops.asin %n1 : vector<3xf32>
    // CHECK: keops.acos
    %n3 = keops.acos %n2 : vector<3xf32>
    // CHECK: keops.atan
    %n4 = keops.atan %n3 : vector<3xf32>
    // CHECK: keops.sinxdivx
    %n5 = keops.sinxdivx %n4 : vector<3xf32>
    // CHECK: keops.floor
    %n6 = keops.floor %n5 : vector<3xf32>
    // CHECK: keops.round %{{.*}}, 2 : vector<3xf32>
    %n7 = keops.round %n6, 2 : vector<3xf32>
    // CHECK: keops.clamp_int %{{.*}}, -1, 2 : vector<3xf32>
    %n8 = keops.clamp_int %n7, -1, 2 : vector<3xf32>
    // CHECK: keops.diff_clamp_int %{{.*}}, -1, 2 : vector<3xf32>
    %n9 = keops.diff_clamp_int %n8, -1, 2 : vector<3xf32>
    // CHECK: keops.atan2 %{{.*}}, %[[B]] : vector<3xf32>, vector<1xf32>
    %n10 = keops.atan2 %n9, %bj : vector<3xf32>, vector<1xf32>
    // CHECK: keops.equal
    %n11 = keops.equal %n10, %yj : vector<3xf32>, vector<3xf32>
    // CHECK: keops.not_equal
    %n12 = keops.not_equal %n11, %yj : vector<3xf32>, vector<3xf32>
    // CHECK: keops.less_than
    %n13 = keops.less_than %n12, %yj : vector<3xf32>, vector<3xf32>
    // CHECK: keops.less_or_equal
    %n14 = keops.less_or_equal %n13, %yj : vector<3xf32>, vector<3xf32>
    // CHECK: keops.mod %{{.*}}, %[[B]], %[[B]] : vector<3xf32>, vector<1xf32>, vector<1xf32>
    %n15 = keops.mod %n14, %bj, %bj : vector<3xf32>, vector<1xf32>, vector<1xf32>
    // CHECK: keops.one_hot %[[B]], 3 : vector<1xf32>
    %n16 = keops.one_hot %bj, 3 : vector<1xf32>
    %n17 = keops.add %n15, %n16 : vector<3xf32>, vector<3xf32>
    // CHECK: keops.grad %{{.*}} wrt %[[X]] along %[[B]] : vector<1xf32>, vector<3xf32>, vector<1xf32>
    %g = keops.grad %29 wrt %xi along %bj : vector<1xf32>, vector<3xf32>, vector<1xf32>
    %46 = keops.concat %32, %31 : vector<2xf32>, vector<1xf32>
    %sum = keops.add %45, %46 : vector<3xf32>, vector<3xf32>
    %sum2 = keops.add %sum, %g : vector<3xf32>, vector<3xf32>
    %47 = keops.add %sum2, %n17 : vector<3xf32>, vector<3xf32>
    // CHECK: keops.yield %{{.*}} : vector<3xf32>
    keops.yield %47 : vector<3xf32>
  }
  return %r : tensor<?x3xf32>
}

// Every reduction kind, both axes, f16 / f32 / f64.

// CHECK-LABEL: func.func @reduction_kinds
func.func @reduction_kinds(%x: tensor<?x2xf64>, %y: tensor<?x2xf64>, %w: tensor<?x4xf64>) {
  // CHECK: keops.reduce sum over i
  %0 = keops.reduce sum over i (%a = %x : i, %b = %y : j) : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x2xf64> {
    %d = keops.sub %a, %b : vector<2xf64>, vector<2xf64>
    keops.yield %d : vector<2xf64>
  }
  // CHECK: keops.reduce logsumexp over j
  %1 = keops.reduce logsumexp over j (%a = %x : i, %b = %y : j) : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x1xf64> {
    %d = keops.sqdist %a, %b : vector<2xf64>, vector<2xf64>
    keops.yield %d : vector<1xf64>
  }
  // CHECK: keops.reduce logsumexp over j
  // CHECK: keops.yield %{{.*}}, %{{.*}} : vector<1xf64>, vector<4xf64>
  %2 = keops.reduce logsumexp over j (%a = %x : i, %b = %y : j, %c = %w : j) : (tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x4xf64>) -> tensor<?x4xf64> {
    %d = keops.sqdist %a, %b : vector<2xf64>, vector<2xf64>
    keops.yield %d, %c : vector<1xf64>, vector<4xf64>
  }
  // CHECK: keops.reduce sumsoftmaxweight over j
  %3 = keops.reduce sumsoftmaxweight over j (%a = %x : i, %b = %y : j, %c = %w : j) : (tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x4xf64>) -> tensor<?x4xf64> {
    %d = keops.sqdist %a, %b : vector<2xf64>, vector<2xf64>
    keops.yield %d, %c : vector<1xf64>, vector<4xf64>
  }
  // CHECK: keops.reduce min over j
  %4 = keops.reduce min over j (%a = %x : i, %b = %y : j) : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x2xf64> {
    %d = keops.sub %a, %b : vector<2xf64>, vector<2xf64>
    keops.yield %d : vector<2xf64>
  }
  // CHECK: keops.reduce max over j
  %5 = keops.reduce max over j (%a = %x : i, %b = %y : j) : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x2xf64> {
    %d = keops.sub %a, %b : vector<2xf64>, vector<2xf64>
    keops.yield %d : vector<2xf64>
  }
  // CHECK: keops.reduce argmin over j {{.*}} -> tensor<?x2xi64>
  %6 = keops.reduce argmin over j (%a = %x : i, %b = %y : j) : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x2xi64> {
    %d = keops.sub %a, %b : vector<2xf64>, vector<2xf64>
    keops.yield %d : vector<2xf64>
  }
  // CHECK: keops.reduce argmax over j {{.*}} -> tensor<?x2xi64>
  %7 = keops.reduce argmax over j (%a = %x : i, %b = %y : j) : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x2xi64> {
    %d = keops.sub %a, %b : vector<2xf64>, vector<2xf64>
    keops.yield %d : vector<2xf64>
  }
  // CHECK: keops.reduce min_argmin over j {{.*}} -> (tensor<?x2xf64>, tensor<?x2xi64>)
  %8:2 = keops.reduce min_argmin over j (%a = %x : i, %b = %y : j) : (tensor<?x2xf64>, tensor<?x2xf64>) -> (tensor<?x2xf64>, tensor<?x2xi64>) {
    %d = keops.sub %a, %b : vector<2xf64>, vector<2xf64>
    keops.yield %d : vector<2xf64>
  }
  // CHECK: keops.reduce max_argmax over j {{.*}} -> (tensor<?x2xf64>, tensor<?x2xi64>)
  %9:2 = keops.reduce max_argmax over j (%a = %x : i, %b = %y : j) : (tensor<?x2xf64>, tensor<?x2xf64>) -> (tensor<?x2xf64>, tensor<?x2xi64>) {
    %d = keops.sub %a, %b : vector<2xf64>, vector<2xf64>
    keops.yield %d : vector<2xf64>
  }
  // CHECK: keops.reduce kmin<3> over j {{.*}} -> tensor<?x6xf64>
  %10 = keops.reduce kmin<3> over j (%a = %x : i, %b = %y : j) : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x6xf64> {
    %d = keops.sub %a, %b : vector<2xf64>, vector<2xf64>
    keops.yield %d : vector<2xf64>
  }
  // CHECK: keops.reduce argkmin<5> over i {{.*}} -> tensor<?x5xi64>
  %11 = keops.reduce argkmin<5> over i (%a = %x : i, %b = %y : j) : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x5xi64> {
    %d = keops.sqdist %a, %b : vector<2xf64>, vector<2xf64>
    keops.yield %d : vector<1xf64>
  }
  // CHECK: keops.reduce kmin_argkmin<2> over j {{.*}} -> (tensor<?x2xf64>, tensor<?x2xi64>)
  %12:2 = keops.reduce kmin_argkmin<2> over j (%a = %x : i, %b = %y : j) : (tensor<?x2xf64>, tensor<?x2xf64>) -> (tensor<?x2xf64>, tensor<?x2xi64>) {
    %d = keops.sqdist %a, %b : vector<2xf64>, vector<2xf64>
    keops.yield %d : vector<1xf64>
  }
  return
}

// CHECK-LABEL: func.func @half_and_no_variables
func.func @half_and_no_variables(%x: tensor<?x2xf16>) -> (tensor<?x1xf16>, tensor<?x1xf32>) {
  // CHECK: keops.reduce sum over j (%{{.*}} = %{{.*}} : i) : (tensor<?x2xf16>) -> tensor<?x1xf16>
  %0 = keops.reduce sum over j (%a = %x : i) : (tensor<?x2xf16>) -> tensor<?x1xf16> {
    %n = keops.sqnorm2 %a : vector<2xf16>
    keops.yield %n : vector<1xf16>
  }
  // CHECK: keops.reduce sum over j () : () -> tensor<?x1xf32> attributes {note = "constant"}
  %1 = keops.reduce sum over j () : () -> tensor<?x1xf32> attributes {note = "constant"} {
    %c = keops.constant dense<1.0> : vector<1xf32>
    keops.yield %c : vector<1xf32>
  }
  return %0, %1 : tensor<?x1xf16>, tensor<?x1xf32>
}

// The tiled form: a schedule, its output chunks and its state ops.
// CHECK-LABEL: func.func @schedule
func.func @schedule(%x: tensor<?x3xf32>, %b: tensor<?x40xf32>) -> tensor<?x40xf32> {
  // CHECK: %[[R:.*]] = keops.reduce
  %r = keops.reduce sum over j (%xi = %x : i, %bj = %b : j)
      : (tensor<?x3xf32>, tensor<?x40xf32>) -> tensor<?x40xf32> {
    %n = keops.sqnorm2 %xi : vector<3xf32>
    %w = keops.mul %n, %bj : vector<1xf32>, vector<40xf32>
    keops.yield %w : vector<40xf32>
  }
  // CHECK: keops.schedule %[[R]] : tensor<?x40xf32> attributes {acc_type = f64, feature_loop_min_dim = 32 : i64, sum_scheme = "kahan_scheme", tile_cols = 128 : i64, tile_rows = 4 : i64} {
  // CHECK-NEXT: keops.output_chunks 16 {
  // CHECK-NEXT: %[[INIT:.*]] = keops.state_init
  // CHECK-NEXT: %[[TILES:.*]] = keops.for_tiles(%[[INIT]]) {
  // CHECK-NEXT: ^bb0(%[[ACC:.*]]: !keops.state):
  // CHECK-NEXT: %[[ZERO:.*]] = keops.state_init
  // CHECK-NEXT: %[[TILE:.*]] = keops.accumulate_tile %[[ZERO]]
  // CHECK-NEXT: %[[NEXT:.*]] = keops.state_merge %[[ACC]], %[[TILE]]
  // CHECK-NEXT: keops.tile_yield %[[NEXT]]
  // CHECK: keops.state_store %[[TILES]]
  keops.schedule %r : tensor<?x40xf32> attributes {acc_type = f64, feature_loop_min_dim = 32 : i64, sum_scheme = "kahan_scheme", tile_cols = 128 : i64, tile_rows = 4 : i64} {
    keops.output_chunks 16 {
      %0 = keops.state_init
      %1 = keops.for_tiles(%0) {
      ^bb0(%acc: !keops.state):
        %2 = keops.state_init
        %3 = keops.accumulate_tile %2
        %4 = keops.state_merge %acc, %3
        keops.tile_yield %4
      }
      keops.state_store %1
    }
  }
  return %r : tensor<?x40xf32>
}
