// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{selection-in-memory=1}))' | FileCheck %s --check-prefix=TILED
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{selection-in-memory=1 tile-rows=1 col-granule=4},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{selection-in-memory=1 tile-rows=2 register-budget=0 register-bits=32 col-granule=32 stage-always=0}),convert-keops-to-gpu,canonicalize,cse)' | FileCheck %s --check-prefix=GPU

// The K best of a kmin-family reduction under selection_in_memory: each
// row's K (value, column) pairs are in the scratch, the loops over the
// columns carry the K-th best (the threshold) only, a vector of candidates
// is compared with it at once and, when a lane of a component beats it,
// the candidates go to the stack and the lanes that beat it (count
// trailing zeros of the mask) are inserted, in a loop over the components
// (@wide) that LLVM is told not to unroll: nothing is unrolled K times, or
// D times.
// More than 8 vectors of lanes (K = 500 here): a max-heap, whose root is
// the threshold; a pair replaces it and sifts down.
// On the GPU (one lane), the lists of a thread are in its local memory,
// slot r for its row r (2 rows of 500 pairs here), and a component that
// beats its threshold goes in by a branch, without the stack.

// TILED: keops.schedule {{.*}}selection_in_memory

// CHECK: #[[$UNROLL:.*]] = #llvm.loop_unroll<disable = true>
// CHECK: #[[$ROLLED:.*]] = #llvm.loop_annotation<unroll = #[[$UNROLL]]>
// CHECK-LABEL: func.func @knn
// CHECK-SAME: %[[SF:[^:]*]]: memref<?xf32>, %[[SI:[^:]*]]: memref<?xi64>, %{{[^:]*}}: memref<?xf32>)
// The heaps start from (+inf, 0).
// CHECK: %[[INF:.*]] = arith.constant 0x7F800000 : f32
// CHECK: memref.store %[[INF]], %[[SF]]
// The threshold against a vector of candidates, then the lanes that beat it.
// CHECK: %[[BEATS:.*]] = arith.cmpf olt, %{{.*}} : vector<4xf32>
// CHECK: vector.bitcast %{{.*}} : vector<4xi1> to vector<1xi4>
// CHECK: scf.if
// CHECK: %[[STACK:.*]] = llvm.intr.stacksave
// CHECK: %[[CANDIDATES:.*]] = memref.alloca() : memref<4xf32>
// CHECK: vector.store %{{.*}}, %[[CANDIDATES]]
// CHECK: scf.while
// CHECK: math.cttz
// CHECK: memref.load %[[CANDIDATES]]
// CHECK: llvm.intr.stackrestore %[[STACK]]
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

// GPU-LABEL: gpu.func @knn
// GPU-DAG: %[[GF:.*]] = memref.alloca() : memref<1000xf32>
// GPU-DAG: %[[GI:.*]] = memref.alloca() : memref<1000xi64>
// GPU-NOT: llvm.intr.stacksave
// GPU: %[[GBEATS:.*]] = arith.cmpf olt, %{{.*}} : vector<1xf32>
// GPU: %[[GENTERS:.*]] = vector.extract %[[GBEATS]][0] : i1 from vector<1xi1>
// GPU: scf.if %[[GENTERS]]
// GPU: scf.while {{.*}} -> (index, index, f32, i64)
// GPU: memref.load %[[GF]]
// GPU: memref.store %{{.*}}, %[[GI]]
// GPU-NOT: llvm.intr.stacksave
// GPU: gpu.return

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

// -----

// A wide formula: the lists of each output chunk of 16 components (a loop
// over the 3 chunks of 40), its results stored at slot * 40 + component.

// TILED-LABEL: func.func @wide
// TILED: keops.output_chunks 16
// On the GPU, the lists of 2 rows of a chunk: 2 x 16 x K = 64 pairs.
// GPU-LABEL: gpu.func @wide
// GPU: memref.alloca() : memref<64xf32>
// CHECK-LABEL: func.func @wide
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C39:.*]] = arith.constant 39 : index
// CHECK-DAG: %[[C40:.*]] = arith.constant 40 : index
// CHECK: scf.for %[[CHUNK:.*]] = %{{.*}} to %[[C3]]
// CHECK: %[[FIRST:.*]] = arith.muli %[[CHUNK]], %[[C16]]
// CHECK: arith.cmpf olt, %{{.*}} : vector<4xf32>
// CHECK: memref.alloca() : memref<64xf32>
// The loop over the chunk's components.
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C16]]
// CHECK: math.cttz
// CHECK: } {loop_annotation = #[[$ROLLED]]}
// CHECK: %[[SLOT:.*]] = arith.muli %{{.*}}, %[[C40]]
// CHECK: %[[COMPONENT:.*]] = arith.addi %[[FIRST]], %{{.*}}
// CHECK: arith.minui %[[COMPONENT]], %[[C39]]
// CHECK-LABEL: return
func.func @wide(%x: tensor<?x40xf32>, %y: tensor<?x40xf32>) -> tensor<?x80xi64> {
  %r = keops.reduce argkmin<2> over j (%a = %x : i, %b = %y : j) : (tensor<?x40xf32>, tensor<?x40xf32>) -> tensor<?x80xi64> {
    %d = keops.sub %a, %b : vector<40xf32>, vector<40xf32>
    keops.yield %d : vector<40xf32>
  }
  return %r : tensor<?x80xi64>
}
