// RUN: not keops-opt %s --split-input-file --pass-pipeline='builtin.module(convert-keops-to-gpu)' 2>&1 | FileCheck %s --check-prefix=GPU-ERROR
// RUN: not keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-keops-to-cpu))' 2>&1 | FileCheck %s --check-prefix=CPU-ERROR

// What the conversions refuse in a keops.schedule, and its absence.

// A GPU block runs one thread per column of a tile: a warp multiple.
// GPU-ERROR: error: 'keops.schedule' op convert-keops-to-gpu runs tile_cols threads a block (a multiple of 32 up to 1024), each with tile_rows rows (up to 16)
// The CPU stages every tile.
// CPU-ERROR: error: 'keops.schedule' op convert-keops-to-cpu stages every j-tile (run keops-tile-reductions with stage-always)
func.func @odd_tiles(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>) -> tensor<?x1xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x1xf32> {
    %d = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
    keops.yield %d : vector<1xf32>
  }
  keops.schedule %r : tensor<?x1xf32> attributes {acc_type = f32, feature_loop_min_dim = 32 : i64, sum_scheme = "block_sum", tile_cols = 48 : i64, tile_rows = 1 : i64} {
    %0 = keops.state_init
    %1 = keops.for_tiles(%0) {
    ^bb0(%acc: !keops.state):
      %2 = keops.accumulate_tile %acc
      keops.tile_yield %2
    }
    keops.state_store %1
  }
  return %r : tensor<?x1xf32>
}

// -----

// Without a schedule, the conversions ask for the tiler.
// GPU-ERROR: error: 'func.func' op convert-keops-to-gpu expects a function whose body is one keops.reduce over j of its arguments, in order, and its keops.schedule (run keops-tile-reductions first)
// CPU-ERROR: error: 'func.func' op convert-keops-to-cpu expects a function whose body is one keops.reduce over j of its arguments, in order, and its keops.schedule (run keops-tile-reductions first)
func.func @untiled(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>) -> tensor<?x1xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x1xf32> {
    %d = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
    keops.yield %d : vector<1xf32>
  }
  return %r : tensor<?x1xf32>
}

// -----

// Output chunks of a value no wider than a chunk (or not componentwise).
// GPU-ERROR: error: 'keops.output_chunks' op the reduction's output cannot be reduced in chunks of 16 components
// CPU-ERROR: error: 'keops.output_chunks' op the reduction's output cannot be reduced in chunks of 16 components
func.func @narrow_chunks(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>) -> tensor<?x3xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32> {
    %d = keops.sub %xi, %yj : vector<3xf32>, vector<3xf32>
    keops.yield %d : vector<3xf32>
  }
  keops.schedule %r : tensor<?x3xf32> attributes {acc_type = f32, feature_loop_min_dim = 32 : i64, staged, sum_scheme = "block_sum", tile_cols = 64 : i64, tile_rows = 1 : i64} {
    keops.output_chunks 16 {
      %0 = keops.state_init
      %1 = keops.for_tiles(%0) {
      ^bb0(%acc: !keops.state):
        %2 = keops.accumulate_tile %acc
        keops.tile_yield %2
      }
      keops.state_store %1
    }
  }
  return %r : tensor<?x3xf32>
}
