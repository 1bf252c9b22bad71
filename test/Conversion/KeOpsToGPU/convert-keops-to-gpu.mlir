// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-cols=64 tile-rows=1 register-budget=0 register-bits=32 col-granule=32 stage-always=0 stage-bytes=49152}),convert-keops-to-gpu,canonicalize,cse)' | FileCheck %s
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-cols=64 tile-rows=1 register-budget=0 register-bits=32 col-granule=32 stage-always=0 stage-bytes=64}),convert-keops-to-gpu,canonicalize,cse)' | FileCheck %s --check-prefix=UNSTAGED
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-cols=256 tile-rows=1 register-budget=0 register-bits=32 col-granule=32 stage-always=0 stage-bytes=2048}),convert-keops-to-gpu,canonicalize,cse)' | FileCheck %s --check-prefix=SHRUNK
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-cols=64 tile-rows=1 register-budget=0 register-bits=32 col-granule=32 stage-always=0 sum-scheme=direct_sum stage-bytes=49152}),convert-keops-to-gpu,canonicalize,cse)' | FileCheck %s --check-prefix=DIRECT
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-cols=64 tile-rows=2 register-budget=0 register-bits=32 col-granule=32 stage-always=0 stage-bytes=49152}),convert-keops-to-gpu,canonicalize,cse)' | FileCheck %s --check-prefix=ROWS
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-cols=64 tile-rows=0 register-budget=32 register-bits=32 col-granule=32 stage-always=0 stage-bytes=49152}),convert-keops-to-gpu,canonicalize,cse)' | FileCheck %s --check-prefix=AUTO
// RUN: not keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-cols=256 tile-rows=17 register-budget=0 register-bits=32 col-granule=32 stage-always=0 stage-bytes=49152}),convert-keops-to-gpu)' 2>&1 | FileCheck %s --check-prefix=BADROWS

// The Gaussian kernel sum, one row per thread: j-tiles of 64 columns staged
// component-major in workgroup memory (4 components x 64 columns), a
// barrier before and after each tile, the block sum merged per tile, and a
// store only for rows inside the range.

// CHECK: module attributes {gpu.container_module}
// CHECK: gpu.module @keops_kernels
// CHECK: gpu.func @gaussian(%[[RB:[^:]*]]: index, %[[RE:[^:]*]]: index, %[[CB:[^:]*]]: index, %[[CE:[^:]*]]: index,
// CHECK-SAME: %[[MODE:[^:]*]]: index, %{{[^:]*}}: index, %[[SPLITS:[^:]*]]: index, %[[SPLITCOLS:[^:]*]]: index, %[[SLAB:[^:]*]]: index,
// CHECK-SAME: %[[SX:[^:]*]]: index, %[[SY:[^:]*]]: index, %[[SB:[^:]*]]: index, %[[SOUT:[^:]*]]: index,
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf32>, %[[Y:[^:]*]]: memref<?xf32>, %[[B:[^:]*]]: memref<?xf32>, %[[OUT:[^:]*]]: memref<?xf32>,
// CHECK-SAME: %[[SF:[^:]*]]: memref<?xf32>, %[[SI:[^:]*]]: memref<?xi64>,
// CHECK-SAME: %[[BLOCKS:[^:]*]]: memref<?xi64>, %[[COLRANGES:[^:]*]]: memref<?xi64>)
// CHECK-SAME: workgroup(%[[TILE:.*]] : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME: kernel attributes {keops.kernel, keops.rows_per_thread = 1 : i32, known_block_size = array<i32: 64, 1, 1>}
// CHECK: %[[T:.*]] = gpu.thread_id x
// CHECK: %[[BID:.*]] = gpu.block_id x
// Block-sparse (mode 4): the block's rows and column ranges from its table
// row; otherwise rows [row_begin + 64 * block, row_end) over one range.
// CHECK: %[[ISRANGES:.*]] = arith.cmpi eq, %[[MODE]], %c4
// CHECK: %[[BOUNDS:.*]]:4 = scf.if %[[ISRANGES]] -> (index, index, index, index) {
// CHECK: memref.load %[[BLOCKS]]
// CHECK: } else {
// CHECK: %[[OFFSET:.*]] = arith.muli %[[BID]], %c64
// CHECK: %[[FIRSTROW:.*]] = arith.addi %[[RB]], %[[OFFSET]]
// CHECK: scf.yield %[[FIRSTROW]], %[[RE]], %c0, %c1
// CHECK: %[[MERGE:.*]] = arith.cmpi eq, %[[MODE]], %c2
// CHECK: %[[RAW:.*]] = arith.cmpi eq, %[[MODE]], %c1
// Merge mode: the states of the splits of each row, merged and finalized.
// CHECK: scf.if %[[MERGE]] {
// CHECK: %[[MROW:.*]] = arith.addi %[[BOUNDS]]#0, %[[T]]
// CHECK: %[[MACTIVE:.*]] = arith.cmpi ult, %[[MROW]], %[[BOUNDS]]#1
// CHECK: scf.if %[[MACTIVE]] {
// CHECK: memref.load %[[SF]][%[[MROW]]]
// CHECK: scf.for %{{.*}} = %c1 to %[[SPLITS]]
// CHECK: %[[MAT:.*]] = arith.muli %[[MROW]], %[[SOUT]]
// CHECK: memref.store %{{.*}}, %[[OUT]][%[[MAT]]]
// CHECK: } else {
// Otherwise, in raw mode, block (x, y) takes split y of the columns.
// CHECK: %[[SPLIT:.*]] = gpu.block_id y
// CHECK: arith.muli %[[SPLIT]], %[[SPLITCOLS]]
// CHECK: %[[FIRST:.*]] = arith.select %[[RAW]], %{{.*}}, %[[CB]]
// CHECK: %[[LAST:.*]] = arith.select %[[RAW]], %{{.*}}, %[[CE]]
// CHECK: %[[ROW:.*]] = arith.addi %[[BOUNDS]]#0, %[[T]]
// CHECK: %[[ACTIVE:.*]] = arith.cmpi ult, %[[ROW]], %[[BOUNDS]]#1
// CHECK: %[[LOADROW:.*]] = arith.select %[[ACTIVE]], %[[ROW]], %[[BOUNDS]]#0
// CHECK: memref.load %[[X]]
// CHECK: scf.for %[[R:.*]] = %[[BOUNDS]]#2 to %[[BOUNDS]]#3 step %c1 iter_args
// CHECK: %[[SPAN:.*]]:2 = scf.if %[[ISRANGES]] -> (index, index) {
// CHECK: memref.load %[[COLRANGES]]
// CHECK: scf.yield %[[FIRST]], %[[LAST]]
// CHECK: scf.for %[[J0:.*]] = %[[SPAN]]#0 to %[[SPAN]]#1 step %c64 iter_args
// CHECK: %[[COL:.*]] = arith.addi %[[J0]], %[[T]]
// CHECK: scf.if
// CHECK: memref.load %[[Y]]
// CHECK: memref.store %{{.*}}, %[[TILE]][%[[T]]]
// CHECK: %[[BROW:.*]] = arith.muli %[[COL]], %[[SB]]
// CHECK: memref.load %[[B]][%[[BROW]]]
// CHECK: gpu.barrier
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %cst) -> (vector<1xf32>)
// CHECK: memref.load %[[TILE]]
// CHECK: math.exp %{{.*}} : vector<1xf32>
// CHECK: scf.yield
// CHECK: arith.addf
// CHECK: gpu.barrier
// CHECK: scf.if %[[ACTIVE]]
// CHECK: scf.if %[[RAW]]
// CHECK: memref.store %{{.*}}, %[[SF]]
// CHECK: } else {
// CHECK: %[[AT:.*]] = arith.muli %[[ROW]], %[[SOUT]]
// CHECK: memref.store %{{.*}}, %[[OUT]][%[[AT]]]
// CHECK: gpu.return

// Two rows per thread: a block covers 128 rows, thread t owns rows
// first + t and first + 64 + t (each read from the block's first row when
// past the end), merge mode loops over both, each column of the tile is
// read once for both rows' states, and each row stores its own result.
// ROWS-LABEL: gpu.func @gaussian
// ROWS-SAME: keops.rows_per_thread = 2 : i32, known_block_size = array<i32: 64, 1, 1>
// ROWS: %[[T:.*]] = gpu.thread_id x
// ROWS: arith.muli %{{.*}}, %c128
// ROWS: scf.if %{{.*}} {
// ROWS: scf.for %{{.*}} = %c0 to %c2 step %c1 {
// ROWS: } else {
// ROWS: %[[ROW0:.*]] = arith.addi %[[FIRST:.*]]#0, %[[T]]
// ROWS: %[[ACTIVE0:.*]] = arith.cmpi ult, %[[ROW0]], %[[FIRST]]#1
// ROWS: arith.select %[[ACTIVE0]], %[[ROW0]], %[[FIRST]]#0
// ROWS: %[[T64:.*]] = arith.addi %[[T]], %c64
// ROWS: %[[ROW1:.*]] = arith.addi %[[FIRST]]#0, %[[T64]]
// ROWS: %[[ACTIVE1:.*]] = arith.cmpi ult, %[[ROW1]], %[[FIRST]]#1
// ROWS: arith.select %[[ACTIVE1]], %[[ROW1]], %[[FIRST]]#0
// ROWS: scf.for {{.*}} iter_args(%{{.*}} = %cst, %{{.*}} = %cst) -> (vector<1xf32>, vector<1xf32>)
// ROWS: gpu.barrier
// ROWS: scf.for {{.*}} iter_args(%{{.*}} = %cst, %{{.*}} = %cst) -> (vector<1xf32>, vector<1xf32>)
// ROWS-COUNT-4: memref.load %{{.*}} : memref<256xf32, #gpu.address_space<workgroup>>
// ROWS-NOT: memref.load
// ROWS: math.exp
// ROWS-NOT: memref.load
// ROWS: math.exp
// ROWS-NOT: memref.load
// ROWS: scf.yield %{{.*}}, %{{.*}} : vector<1xf32>, vector<1xf32>
// ROWS: gpu.barrier
// ROWS: scf.if %[[ACTIVE0]] {
// ROWS: arith.muli %[[ROW0]]
// ROWS: scf.if %[[ACTIVE1]] {
// ROWS: arith.muli %[[ROW1]]
// ROWS: gpu.return

// Automatic rows per thread: 4 for the Gaussian sum (3 components of x and
// 2 sum states a row), the f64 argmin over i (2 x 2 + 2 + 2 registers) and
// the 64-feature distance (its loop reloads x).
// AUTO-LABEL: gpu.func @gaussian
// AUTO-SAME: keops.rows_per_thread = 4 : i32
// AUTO-LABEL: gpu.func @nearest
// AUTO-SAME: keops.rows_per_thread = 4 : i32
// AUTO-LABEL: gpu.func @wide
// AUTO-SAME: keops.rows_per_thread = 4 : i32

// BADROWS: each with tile_rows rows (up to 16)

// Without room in workgroup memory, the columns come from global memory.
// UNSTAGED: gpu.func @gaussian
// UNSTAGED-NOT: workgroup
// UNSTAGED-NOT: gpu.barrier
// UNSTAGED: memref.load %{{.*}} : memref<?xf32>
// UNSTAGED: gpu.return

// 4 floats per column and 2 KiB: the block shrinks to 128 threads.
// SHRUNK: workgroup(%{{.*}} : memref<512xf32, #gpu.address_space<workgroup>>)
// SHRUNK-SAME: known_block_size = array<i32: 128, 1, 1>

// DIRECT: scf.for %{{.*}} iter_args(%[[S:.*]] = %{{.*}}) -> (vector<1xf32>)
// DIRECT: scf.for %{{.*}} iter_args(%{{.*}} = %[[S]]) -> (vector<1xf32>)
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

// argmin over i: the roles swap (y is the row variable, x is staged) and the
// index output is stored as i64.
// CHECK: gpu.func @nearest(%{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xf64>, %[[IDX:[^:]*]]: memref<?xi64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xi64>)
// CHECK-SAME: workgroup(%{{.*}} : memref<128xf64, #gpu.address_space<workgroup>>)
// CHECK: gpu.barrier
// CHECK: } else {
// CHECK: memref.store %{{.*}}, %[[IDX]][%{{.*}}] : memref<?xi64>
func.func @nearest(%x: tensor<?x2xf64>, %y: tensor<?x2xf64>) -> tensor<?x1xi64> {
  %r = keops.reduce argmin over i (%xi = %x : i, %yj = %y : j)
      : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x1xi64> {
    %d = keops.sqdist %xi, %yj : vector<2xf64>, vector<2xf64>
    keops.yield %d : vector<1xf64>
  }
  return %r : tensor<?x1xi64>
}

// -----

// 64 features: the tile is staged by a loop over the components, and the
// distance is a loop over them reading the tile, 4 components an iteration.
// CHECK-LABEL: gpu.func @wide
// CHECK-SAME: workgroup(%[[WTILE:.*]] : memref<4096xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c1 {
// CHECK: memref.store %{{.*}}, %[[WTILE]]
// CHECK: gpu.barrier
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c4 iter_args
// CHECK: memref.load %[[WTILE]]
// CHECK: arith.subf
// CHECK: math.exp
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
