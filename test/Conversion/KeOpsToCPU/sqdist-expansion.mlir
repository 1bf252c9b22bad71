// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{sqdist-expansion=1 feature-loop-min-dim=32}))' | FileCheck %s --check-prefix=TILED
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{sqdist-expansion=1 feature-loop-min-dim=32 tile-rows=2 loop-tile-rows=2 col-granule=4},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s
// RUN: not keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{sqdist-expansion=1 feature-loop-min-dim=32}),convert-keops-to-gpu)' 2>&1 | FileCheck %s --check-prefix=GPU

// A squared distance between a row variable and a reduced variable of 32+
// components under sqdist_expansion: the rows' squared norms once per
// call (a buffer of the call's rows), the columns' once per tile (on the
// stack), and the block's feature loop adds products of components only;
// then |x|^2 + |y|^2 - 2 <x, y>, unless a lane has it below 1/16 of the
// norms' sum (or NaN): then that row's direct loop of differences.

// TILED: keops.schedule {{.*}}sqdist_expansion

// CHECK-LABEL: func.func @gaussian
// CHECK: %[[COLS:.*]] = memref.alloca() : memref<{{[0-9]+}}xf32>
// CHECK: %[[ROWS:.*]] = memref.alloc(%{{.*}}) : memref<?xf32>
// The rows' norms: lanes of components squared, summed across.
// CHECK: scf.for
// CHECK: vector.load {{.*}} : memref<?xf32>, vector<4xf32>
// CHECK: vector.reduction <add>
// CHECK: memref.store %{{.*}}, %[[ROWS]]
// A tile's column norms.
// CHECK: vector.store %{{.*}}, %[[COLS]]
// The block's inner products, the row norms broadcast.
// CHECK: memref.load %[[ROWS]]
// CHECK: scf.for {{.*}} iter_args
// CHECK-NOT: arith.subf
// CHECK: arith.mulf
// CHECK: scf.yield
// The guard, then the direct loop where it fails.
// CHECK: vector.load %[[COLS]]
// CHECK: arith.cmpf oge
// CHECK: vector.reduction <and>
// CHECK: scf.if
// CHECK: } else {
// CHECK: scf.for
// CHECK: arith.subf
// CHECK: memref.dealloc %[[ROWS]]
func.func @gaussian(%x: tensor<?x32xf32>, %y: tensor<?x32xf32>, %b: tensor<?x1xf32>) -> tensor<?x1xf32> {
  %r = keops.reduce sum over j (%a = %x : i, %c = %y : j, %w = %b : j) : (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x1xf32>) -> tensor<?x1xf32> {
    %d = keops.sqdist %a, %c : vector<32xf32>, vector<32xf32>
    %n = keops.neg %d : vector<1xf32>
    %e = keops.exp %n : vector<1xf32>
    %m = keops.mul %e, %w : vector<1xf32>, vector<1xf32>
    keops.yield %m : vector<1xf32>
  }
  return %r : tensor<?x1xf32>
}

// GPU: convert-keops-to-gpu keeps selections and sums in registers and computes squared distances directly

// -----

// No expansion: the distance of two reduced variables, and one of fewer
// components than feature-loop-min-dim.

// TILED-LABEL: func.func @not_expanded
// TILED-NOT: sqdist_expansion
// TILED-LABEL: return
func.func @not_expanded(%x: tensor<?x8xf32>, %y: tensor<?x8xf32>, %z: tensor<?x32xf32>) -> tensor<?x1xf32> {
  %r = keops.reduce sum over j (%a = %x : i, %c = %y : j, %u = %z : j) : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x32xf32>) -> tensor<?x1xf32> {
    %d = keops.sqdist %a, %c : vector<8xf32>, vector<8xf32>
    %s = keops.sqdist %u, %u : vector<32xf32>, vector<32xf32>
    %m = keops.mul %d, %s : vector<1xf32>, vector<1xf32>
    keops.yield %m : vector<1xf32>
  }
  return %r : tensor<?x1xf32>
}
