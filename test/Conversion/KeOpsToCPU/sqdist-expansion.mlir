// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{sqdist-expansion=1 feature-loop-min-dim=32}))' | FileCheck %s --check-prefix=TILED
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{sqdist-expansion=1 feature-loop-min-dim=32 tile-rows=2 loop-tile-rows=2 col-granule=4},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s
// RUN: not keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{sqdist-expansion=1 feature-loop-min-dim=32}),convert-keops-to-gpu)' 2>&1 | FileCheck %s --check-prefix=GPU

// A squared distance between a row variable and a reduced variable of 32+
// components, each read by it only, under sqdist_expansion: x and y are
// centered on the mean c of the call's rows (0 where not finite); the
// centered rows and their squared norms once per call (buffers of the
// call's rows), a tile's columns centered in place and their norms once per
// tile (on the stack); the block's feature loop adds products of components
// only; then |x~|^2 + |y~|^2 - 2 <x~, y~>, unless a lane has it below 1/16
// of the norms' sum (or NaN): then that row's direct loop of differences.

// TILED: keops.schedule {{.*}}sqdist_expansion

// CHECK-LABEL: func.func @gaussian
// CHECK: %[[COLS:.*]] = memref.alloca() : memref<{{[0-9]+}}xf32>
// CHECK: %[[C:.*]] = memref.alloca() : memref<32xf32>
// CHECK: } else {
// CHECK: %[[ROWS:.*]] = memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: %[[NORMS:.*]] = memref.alloc(%{{.*}}) : memref<?xf32>
// The mean of the rows, 0 where not finite.
// CHECK: arith.divf
// CHECK: arith.cmpf olt
// CHECK: arith.select
// CHECK: vector.store %{{.*}}, %[[C]]
// The centered rows and their squared norms.
// CHECK: arith.subf
// CHECK: vector.store %{{.*}}, %[[ROWS]]
// CHECK: vector.reduction <add>
// CHECK: memref.store %{{.*}}, %[[NORMS]]
// A tile's columns centered in place, their norms.
// CHECK: memref.load %[[C]]
// CHECK: arith.subf
// CHECK: vector.store
// CHECK: vector.store %{{.*}}, %[[COLS]]
// The block's inner products of centered rows and columns.
// CHECK: scf.for {{.*}} iter_args
// CHECK-NOT: arith.subf
// CHECK: memref.load %[[ROWS]]
// CHECK: arith.mulf
// CHECK: scf.yield
// The guard, then the direct loop where it fails.
// CHECK: memref.load %[[NORMS]]
// CHECK: vector.load %[[COLS]]
// CHECK: arith.cmpf oge
// CHECK: vector.reduction <and>
// CHECK: scf.if
// CHECK: } else {
// CHECK: scf.for
// CHECK: memref.load %[[ROWS]]
// CHECK: arith.subf
// CHECK: memref.dealloc %[[ROWS]]
// CHECK: memref.dealloc %[[NORMS]]
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

// GPU: convert-keops-to-gpu keeps sums in registers and computes squared distances directly

// -----

// No expansion: the distance of two reduced variables, one of fewer
// components than feature-loop-min-dim, and one whose variables are read
// elsewhere too.

// TILED-LABEL: func.func @not_expanded
// TILED-NOT: sqdist_expansion
// TILED-LABEL: return
func.func @not_expanded(%x: tensor<?x8xf32>, %y: tensor<?x8xf32>, %z: tensor<?x32xf32>, %w: tensor<?x32xf32>) -> tensor<?x1xf32> {
  %r = keops.reduce sum over j (%a = %x : i, %c = %y : j, %u = %z : j, %v = %w : i) : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x1xf32> {
    %d = keops.sqdist %a, %c : vector<8xf32>, vector<8xf32>
    %s = keops.sqdist %u, %u : vector<32xf32>, vector<32xf32>
    %m = keops.mul %d, %s : vector<1xf32>, vector<1xf32>
    %t = keops.sqdist %v, %u : vector<32xf32>, vector<32xf32>
    %n = keops.sum %v : vector<32xf32>
    %p = keops.mul %t, %n : vector<1xf32>, vector<1xf32>
    %q = keops.add %m, %p : vector<1xf32>, vector<1xf32>
    keops.yield %q : vector<1xf32>
  }
  return %r : tensor<?x1xf32>
}
