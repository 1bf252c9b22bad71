// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s --check-prefix=CPU
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(convert-keops-to-gpu,canonicalize,cse)' | FileCheck %s --check-prefix=GPU

// Both conversions lower the keops.schedule as written, not as
// keops-tile-reductions would write it. Here a block_sum accumulator whose
// tiles accumulate into the total (what the tiler writes for direct_sum):
// no tile starts from zero.

// CPU-LABEL: func.func @direct_tiles
// CPU-SAME: %[[SCRATCH:[^:]*]]: memref<?xf32>, %{{[^:]*}}: memref<?xi64>, %{{[^:]*}}: memref<?xf32>)
// CPU: scf.for %{{.*}} step %c3 {
// CPU: %[[S0:.*]] = vector.load %[[SCRATCH]]
// CPU: %[[S1:.*]] = vector.load %[[SCRATCH]]
// CPU: %[[S2:.*]] = vector.load %[[SCRATCH]]
// CPU-NEXT: scf.for %{{.*}} step %c4 iter_args(%{{.*}} = %[[S0]], %{{.*}} = %[[S1]], %{{.*}} = %[[S2]])
// GPU-LABEL: gpu.func @direct_tiles
// GPU-SAME: keops.rows_per_thread = 3 : i32, known_block_size = array<i32: 32, 1, 1>
// GPU: scf.for %{{.*}} step %c32 iter_args(%[[S:[^ ]*]] = %{{.*}}, %[[T:[^ ]*]] = %{{.*}}, %[[U:[^ ]*]] = %{{.*}}) -> (vector<1xf32>, vector<1xf32>, vector<1xf32>)
// GPU: gpu.barrier
// GPU-NEXT: scf.for %{{.*}} iter_args(%{{.*}} = %[[S]], %{{.*}} = %[[T]], %{{.*}} = %[[U]])
func.func @direct_tiles(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>) -> tensor<?x1xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x1xf32> {
    %d = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
    keops.yield %d : vector<1xf32>
  }
  keops.schedule %r : tensor<?x1xf32> attributes {acc_type = f32, feature_loop_min_dim = 32 : i64, staged, sum_scheme = "block_sum", tile_cols = 32 : i64, tile_rows = 3 : i64} {
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
