// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-rows=1 col-granule=4 tile-cols=16},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-rows=1 col-granule=4 sum-scheme=direct_sum},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s --check-prefix=DIRECT
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-rows=1 col-granule=4 sum-scheme=kahan_scheme},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s --check-prefix=KAHAN
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-rows=1 col-granule=4 double-accumulator=1},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s --check-prefix=F64ACC
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-rows=2 col-granule=4},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s --check-prefix=BLOCK

// The Gaussian kernel sum: the rows' lane states start from zero in the
// scratch; j-tiles of 16 columns, each staged component-major into the tile
// buffer (the rows of y and b, with their row strides); in a tile, each row's state
// comes from the scratch, lanes of 4 columns and a masked tail sum the tile
// from zero (block sum), the sum merges into the state, which goes back to
// the scratch; a last pass merges each row's lanes pairwise and stores the
// result (or, in raw mode, the state). The merge mode folds the raw states
// of the splits and finalizes them.

// CHECK-LABEL: func.func @gaussian
// CHECK-SAME: (%[[RB:[^:]*]]: index, %[[RE:[^:]*]]: index, %[[CB:[^:]*]]: index, %[[CE:[^:]*]]: index,
// CHECK-SAME: %[[MODE:[^:]*]]: index, %[[SPLIT:[^:]*]]: index, %[[SPLITS:[^:]*]]: index, %{{[^:]*}}: index, %[[SLAB:[^:]*]]: index,
// CHECK-SAME: %[[SX:[^:]*]]: index, %[[SY:[^:]*]]: index, %[[SB:[^:]*]]: index, %[[SOUT:[^:]*]]: index,
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf32>, %[[Y:[^:]*]]: memref<?xf32>, %[[B:[^:]*]]: memref<?xf32>, %[[OUT:[^:]*]]: memref<?xf32>,
// CHECK-SAME: %[[SF:[^:]*]]: memref<?xf32>, %[[SI:[^:]*]]: memref<?xi64>, %[[TF:[^:]*]]: memref<?xf32>, %[[TI:[^:]*]]: memref<?xi64>,
// CHECK-SAME: %[[TILE:[^:]*]]: memref<?xf32>)
// CHECK-SAME: attributes {keops.kernel, llvm.emit_c_interface}
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<4xf32>
// CHECK: %[[MERGE:.*]] = arith.cmpi eq, %[[MODE]], %c2
// CHECK: scf.if %[[MERGE]] {
// CHECK: scf.for %[[MROW:.*]] = %[[RB]] to %[[RE]]
// CHECK: memref.load %[[SF]][%[[MROW]]]
// CHECK: scf.for %[[S:.*]] = %c1 to %[[SPLITS]]
// CHECK: %[[BASE:.*]] = arith.muli %[[S]], %[[SLAB]]
// CHECK: %[[SLOT:.*]] = arith.addi %[[BASE]], %[[MROW]]
// CHECK: memref.load %[[SF]][%[[SLOT]]]
// CHECK: %[[MAT:.*]] = arith.muli %[[MROW]], %[[SOUT]]
// CHECK: memref.store %{{.*}}, %[[OUT]][%[[MAT]]]
// CHECK: } else {
// CHECK: scf.for %{{.*}} = %[[RB]] to %[[RE]] step %c1 {
// CHECK: vector.store %[[ZERO]], %[[TF]]
// CHECK: scf.for %[[T:.*]] = %[[CB]] to %[[CE]] step %[[C16]] {
// CHECK: %[[TEND:.*]] = arith.minui %{{.*}}, %[[CE]]
// Contiguous rows (strides 3 and 1) stage 4 columns at a time: one vector
// load of 12 values of y, a shuffle per component, and b as it is; the
// other columns (or all of them, when strided) one by one.
// CHECK: %[[YPACKED:.*]] = arith.cmpi eq, %[[SY]], %c3
// CHECK: %[[BPACKED:.*]] = arith.cmpi eq, %[[SB]], %c1
// CHECK: %[[PACKED:.*]] = arith.andi %[[YPACKED]], %[[BPACKED]]
// CHECK: %[[VEND:.*]] = arith.select %[[PACKED]], %{{.*}}, %[[T]]
// CHECK: scf.for %{{.*}} = %[[T]] to %[[VEND]] step %[[C4]] {
// CHECK: %[[YS:.*]] = vector.load %[[Y]][%{{.*}}] : memref<?xf32>, vector<12xf32>
// CHECK: vector.shuffle %[[YS]], %[[YS]] [0, 3, 6, 9]
// CHECK: vector.store %{{.*}}, %[[TILE]]
// CHECK: vector.shuffle %[[YS]], %[[YS]] [1, 4, 7, 10]
// CHECK: vector.shuffle %[[YS]], %[[YS]] [2, 5, 8, 11]
// CHECK: vector.load %[[B]]
// CHECK: scf.for %[[COL:.*]] = %[[VEND]] to %[[TEND]] step %c1 {
// CHECK: %[[YROW:.*]] = arith.muli %[[COL]], %[[SY]]
// CHECK: memref.load %[[Y]][%[[YROW]]]
// CHECK: memref.store %{{.*}}, %[[TILE]]
// CHECK: memref.load %[[B]]
// CHECK: memref.store %{{.*}}, %[[TILE]]
// CHECK: scf.for %[[ROW:.*]] = %[[RB]] to %[[RE]]
// CHECK: memref.load %[[X]]
// CHECK: vector.broadcast {{.*}} : f32 to vector<4xf32>
// CHECK: %[[STATE:.*]] = vector.load %[[TF]]
// CHECK: scf.for %[[J:.*]] = %[[T]] to %{{.*}} step %[[C4]] iter_args(%{{.*}} = %[[ZERO]])
// CHECK-COUNT-4: vector.load %[[TILE]]
// CHECK: math.exp %{{.*}} : vector<4xf32>
// CHECK: scf.yield
// CHECK: scf.if
// CHECK: vector.create_mask
// CHECK: vector.maskedload %[[TILE]]
// CHECK: %[[SUM:.*]] = arith.addf %[[STATE]], %{{.*}} : vector<4xf32>
// CHECK: vector.store %[[SUM]], %[[TF]]
// CHECK: scf.for %[[FROW:.*]] = %[[RB]] to %[[RE]] step %c1 {
// CHECK: vector.load %[[TF]]
// CHECK: vector.extract_strided_slice %{{.*}} {offsets = [0], sizes = [2], strides = [1]}
// CHECK: vector.extract_strided_slice %{{.*}} {offsets = [2], sizes = [2], strides = [1]}
// CHECK: %[[RAW:.*]] = arith.cmpi eq, %[[MODE]], %c1
// CHECK: %[[RESUME:.*]] = arith.cmpi eq, %[[MODE]], %c3
// CHECK: %[[KEEP:.*]] = arith.ori %[[RAW]], %[[RESUME]]
// CHECK: scf.if %[[KEEP]] {
// CHECK: scf.if %[[RESUME]] -> (vector<1xf32>) {
// CHECK: memref.load %[[SF]]
// CHECK: memref.store %{{.*}}, %[[SF]]
// CHECK: } else {
// CHECK: vector.extract %{{.*}}[0] : f32 from vector<1xf32>
// CHECK: %[[AT:.*]] = arith.muli %[[FROW]], %[[SOUT]]
// CHECK: memref.store %{{.*}}, %[[OUT]][%[[AT]]] : memref<?xf32>

// Without the block sum, the lanes continue from the row's state.
// DIRECT-LABEL: func.func @gaussian
// DIRECT-SAME: %[[DTF:[^:]*]]: memref<?xf32>, %{{[^:]*}}: memref<?xi64>, %{{[^:]*}}: memref<?xf32>)
// DIRECT: %[[START:.*]] = vector.load %[[DTF]]
// DIRECT-NEXT: scf.for %{{.*}} step %c4 iter_args(%{{.*}} = %[[START]])

// KAHAN-LABEL: func.func @gaussian
// KAHAN: scf.for {{.*}} iter_args(%[[S:.*]] = %{{.*}}, %[[C:.*]] = %{{.*}}) -> (vector<4xf32>, vector<4xf32>)
// KAHAN: %[[Y1:.*]] = arith.subf %{{.*}}, %[[C]]
// KAHAN: %[[T:.*]] = arith.addf %[[S]], %[[Y1]]
// KAHAN: %[[D:.*]] = arith.subf %[[T]], %[[S]]
// KAHAN: arith.subf %[[D]], %[[Y1]]

// Two rows share each load of the reduced variables; odd rows go alone.
// BLOCK-LABEL: func.func @gaussian
// BLOCK: %[[C2:.*]] = arith.constant 2 : index
// BLOCK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C2]]
// BLOCK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<4xf32>, vector<4xf32>)
// BLOCK: vector.load %[[Y:[^\[]*]]
// BLOCK: math.exp
// BLOCK-NOT: vector.load %[[Y]]
// BLOCK: math.exp
// BLOCK: scf.yield
// BLOCK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1

// F64ACC-LABEL: func.func @gaussian
// F64ACC: arith.extf %{{.*}} : vector<4xf32> to vector<4xf64>
// F64ACC: arith.truncf %{{.*}} : f64 to f32
func.func @gaussian(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>, %b: tensor<?x1xf32>) -> tensor<?x1xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j, %bj = %b : j)
      : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x1xf32>) -> tensor<?x1xf32> {
    %d = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
    %n = keops.neg %d : vector<1xf32>
    %e = keops.exp %n : vector<1xf32>
    %v = keops.mul %e, %bj : vector<1xf32>, vector<1xf32>
    keops.yield %v : vector<1xf32>
  }
  return %r : tensor<?x1xf32>
}

// -----

// A reduction over i swaps the roles: the j variable is read per output row
// and the i variable, staged, in lanes. argmin keeps an i64 index per lane.

// CHECK-LABEL: func.func @argmin_over_i
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf32>, %[[Y:[^:]*]]: memref<?xf32>, %[[OUT:[^:]*]]: memref<?xi64>
// CHECK-SAME: %[[TILE:[^:]*]]: memref<?xf32>)
// CHECK: scf.for
// CHECK: memref.load %[[X]]
// CHECK: memref.store %{{.*}}, %[[TILE]]
// CHECK: memref.load %[[Y]]
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<4xf32>, vector<4xi64>)
// CHECK: vector.load %[[TILE]]
// CHECK: %[[LESS:.*]] = arith.cmpf olt
// CHECK: arith.select %[[LESS]], %{{.*}} : vector<4xi1>, vector<4xi64>
// CHECK: memref.store %{{.*}}, %[[SI:[^\[]*]]{{.*}} : memref<?xi64>
// CHECK: memref.store %{{.*}}, %[[OUT]]{{.*}} : memref<?xi64>
func.func @argmin_over_i(%x: tensor<?x2xf32>, %y: tensor<?x2xf32>) -> tensor<?x1xi64> {
  %r = keops.reduce argmin over i (%xi = %x : i, %yj = %y : j)
      : (tensor<?x2xf32>, tensor<?x2xf32>) -> tensor<?x1xi64> {
    %d = keops.sqdist %xi, %yj : vector<2xf32>, vector<2xf32>
    keops.yield %d : vector<1xf32>
  }
  return %r : tensor<?x1xi64>
}

// -----

// A distance over 64 features is a loop over them (one broadcast load of the
// row variable and one vector load of the reduced one per component), 4
// components an iteration into 4 partial sums (independent chains of adds),
// not 64 unrolled components; with feature-loop-min-dim=0 it is unrolled.
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-rows=1 col-granule=4},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s --check-prefix=LOOP
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-rows=1 col-granule=4 feature-loop-min-dim=0},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s --check-prefix=UNROLL
// LOOP-LABEL: func.func @wide
// LOOP: %[[C64:.*]] = arith.constant 64 : index
// LOOP: scf.for %[[D:.*]] = %c0 to %[[C64]] step %c4 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
// LOOP: memref.load
// LOOP: vector.broadcast
// LOOP: vector.load
// LOOP: arith.subf
// LOOP: arith.mulf
// LOOP: arith.addf
// LOOP: scf.yield
// LOOP-NOT: vector.load
// LOOP: math.exp
// UNROLL-LABEL: func.func @wide
// UNROLL-COUNT-64: vector.load %{{.*}} : memref<?xf32>, vector<4xf32>
func.func @wide(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>) -> tensor<?x1xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x1xf32> {
    %d = keops.sqdist %xi, %yj : vector<64xf32>, vector<64xf32>
    %n = keops.neg %d : vector<1xf32>
    %e = keops.exp %n : vector<1xf32>
    keops.yield %e : vector<1xf32>
  }
  return %r : tensor<?x1xf32>
}

// -----

// An output of 40 components is reduced in 3 chunks of 16 (the last one
// repeats component 39), one after the other over all the tiles: the
// exponential is recomputed per chunk, each chunk accumulates 16 lane vectors
// and stores its components; the merge mode walks the chunks too. With feature-loop-min-dim=0, 40 components unrolled.
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-rows=1 col-granule=4},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s --check-prefix=CHUNK
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-rows=1 col-granule=4 feature-loop-min-dim=0},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s --check-prefix=UNCHUNKED
// CHUNK-LABEL: func.func @wide_output
// CHUNK-DAG: %[[C39:.*]] = arith.constant 39 : index
// CHUNK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHUNK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHUNK: scf.for %[[MROW:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHUNK-NEXT: scf.for %[[MC:.*]] = %c0 to %[[C3]] step %c1 {
// CHUNK: %{{.*}}:16 = scf.for %{{.*}} = %c1 to %{{.*}} step %c1 iter_args
// CHUNK: arith.minui %{{.*}}, %[[C39]] : index
// CHUNK: } else {
// CHUNK: scf.for %[[C:.*]] = %c0 to %[[C3]] step %c1 {
// CHUNK-NEXT: %[[FIRST:.*]] = arith.muli %[[C]], %[[C16]] : index
// CHUNK: %{{.*}}:16 = scf.for %{{.*}} iter_args({{.*}}) -> (vector<4xf32>,
// CHUNK: math.exp
// CHUNK: %[[K:.*]] = arith.minui %[[FIRST]], %[[C39]] : index
// CHUNK: arith.addi %[[K]], %c3 : index
// CHUNK: memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<?xf32>
// CHUNK: return
// UNCHUNKED-LABEL: func.func @wide_output
// UNCHUNKED-NOT: arith.minui %{{.*}}, %c39
// UNCHUNKED: %{{.*}}:40 = scf.for %{{.*}} iter_args({{.*}}) -> (vector<4xf32>,
func.func @wide_output(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>, %b: tensor<?x40xf32>) -> tensor<?x40xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j, %bj = %b : j)
      : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x40xf32>) -> tensor<?x40xf32> {
    %d = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
    %n = keops.neg %d : vector<1xf32>
    %e = keops.exp %n : vector<1xf32>
    %w = keops.mul %e, %bj : vector<1xf32>, vector<40xf32>
    keops.yield %w : vector<40xf32>
  }
  return %r : tensor<?x40xf32>
}
