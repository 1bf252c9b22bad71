// RUN: keops-opt %s --pass-pipeline='builtin.module(func.func(keops-tile-reductions{heap-selection=1}))' | FileCheck %s --check-prefix=TILED
// RUN: keops-opt %s --pass-pipeline='builtin.module(func.func(keops-tile-reductions{heap-selection=1 tile-rows=1 col-granule=4},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s
// RUN: not keops-opt %s --pass-pipeline='builtin.module(func.func(keops-tile-reductions{heap-selection=1}),convert-keops-to-gpu)' 2>&1 | FileCheck %s --check-prefix=GPU

// The K best of a kmin-family reduction under heap_selection: each row's
// K (value, column) pairs are a max-heap in the scratch, the loops over
// the columns carry its root (the threshold) only, a vector of candidates
// is compared with it at once and the lanes that beat it (count trailing
// zeros of the mask) replace the root and sift down, in loops: nothing is
// unrolled K times (K = 500 here).

// TILED: keops.schedule {{.*}}heap_selection

// CHECK-LABEL: func.func @knn
// CHECK-SAME: %[[SF:[^:]*]]: memref<?xf32>, %[[SI:[^:]*]]: memref<?xi64>, %{{[^:]*}}: memref<?xf32>)
// The heaps start from (+inf, 0).
// CHECK: %[[INF:.*]] = arith.constant 0x7F800000 : f32
// CHECK: memref.store %[[INF]], %[[SF]]
// The threshold against a vector of candidates, then the lanes that beat it.
// CHECK: %[[BEATS:.*]] = arith.cmpf olt, %{{.*}} : vector<4xf32>
// CHECK: vector.bitcast %{{.*}} : vector<4xi1> to vector<1xi4>
// CHECK: scf.if
// CHECK: scf.while
// CHECK: math.cttz
// CHECK: vector.extract %{{.*}}[%{{.*}}] : f32 from vector<4xf32>
// The sift-down loop.
// CHECK: scf.while
// CHECK: scf.condition
// The heapsort before the results are stored.
// CHECK: scf.for
// CHECK-NOT: vector.reduction
func.func @knn(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>) -> tensor<?x500xi64> {
  %r = keops.reduce argkmin<500> over j (%a = %x : i, %b = %y : j) : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x500xi64> {
    %d = keops.sqdist %a, %b : vector<3xf32>, vector<3xf32>
    keops.yield %d : vector<1xf32>
  }
  return %r : tensor<?x500xi64>
}

// GPU: convert-keops-to-gpu keeps selections in registers
