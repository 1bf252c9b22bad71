// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{selection-in-memory=1}))' | FileCheck %s --check-prefix=TILED
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{selection-in-memory=1 tile-rows=1 col-granule=4},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s
// RUN: not keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{selection-in-memory=1}),convert-keops-to-gpu)' 2>&1 | FileCheck %s --check-prefix=GPU

// The K best of a kmin-family reduction under selection_in_memory: each
// row's K (value, column) pairs are in the scratch, the loops over the
// columns carry the K-th best (the threshold) only, a vector of candidates
// is compared with it at once and the lanes that beat it (count trailing
// zeros of the mask) are inserted: nothing is unrolled K times.
// More than 8 vectors of lanes (K = 500 here): a max-heap, whose root is
// the threshold; a pair replaces it and sifts down.

// TILED: keops.schedule {{.*}}selection_in_memory

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
// CHECK: scf.while {{.*}} -> (index, index, f32, i64)
// CHECK: scf.condition
// The heapsort before the results are stored.
// CHECK: scf.for
// CHECK-NOT: vector.reduction
// CHECK-LABEL: return
func.func @knn(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>) -> tensor<?x500xi64> {
  %r = keops.reduce argkmin<500> over j (%a = %x : i, %b = %y : j) : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x500xi64> {
    %d = keops.sqdist %a, %b : vector<3xf32>, vector<3xf32>
    keops.yield %d : vector<1xf32>
  }
  return %r : tensor<?x500xi64>
}

// GPU: convert-keops-to-gpu keeps selections and sums in registers

// -----

// Up to 8 vectors of lanes (K = 6, 2 vectors of 4 lanes here): sorted
// vectors, the K-th best the threshold; a pair goes in by a compare, a
// shift by one lane across the vectors, and selects, without a branch.

// CHECK-LABEL: func.func @sorted
// CHECK-NOT: -> (index, index, f32, i64)
// CHECK: math.cttz
// CHECK: %[[V0:.*]] = vector.load %{{.*}} : memref<?xf32>, vector<4xf32>
// CHECK: %[[C0:.*]] = vector.load %{{.*}} : memref<?xi64>, vector<4xi64>
// CHECK: arith.cmpf ogt, %[[V0]]
// CHECK: vector.shuffle %{{.*}}, %[[V0]] [3, 4, 5, 6]
// CHECK: vector.store
// CHECK: %[[V1:.*]] = vector.load %{{.*}} : memref<?xf32>, vector<4xf32>
// CHECK: vector.shuffle %[[V0]], %[[V1]] [3, 4, 5, 6]
// CHECK-NOT: -> (index, index, f32, i64)
// CHECK-LABEL: return
func.func @sorted(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>) -> tensor<?x6xf32> {
  %r = keops.reduce kmin<6> over j (%a = %x : i, %b = %y : j) : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x6xf32> {
    %d = keops.sqdist %a, %b : vector<3xf32>, vector<3xf32>
    keops.yield %d : vector<1xf32>
  }
  return %r : tensor<?x6xf32>
}
