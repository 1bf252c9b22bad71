// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions))' | FileCheck %s
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{sum-scheme=direct_sum}))' | FileCheck %s --check-prefix=DIRECT
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-cols=256 col-granule=32 stage-bytes=1200}))' | FileCheck %s --check-prefix=SHRUNK
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-cols=256 col-granule=32 stage-bytes=100 stage-always=0}))' | FileCheck %s --check-prefix=UNSTAGED
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{conflict-stride-bytes=256}))' | FileCheck %s --check-prefix=CONFLICT
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-rows=0 register-bits=32}))' | FileCheck %s --check-prefix=AUTO32
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-rows=0 register-bits=32 register-budget=16}))' | FileCheck %s --check-prefix=AUTO16
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-rows=3 register-budget=0 double-accumulator=1}))' | FileCheck %s --check-prefix=EXPLICIT
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{selection-in-memory=1}))' | FileCheck %s --check-prefix=SELECT
// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{selection-in-memory=32 list-bytes=1024 tile-rows=4 register-budget=0}))' | FileCheck %s --check-prefix=LISTS
// RUN: not keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{sum-scheme=pairwise}))' 2>&1 | FileCheck %s --check-prefix=BAD-SCHEME
// RUN: not keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{tile-cols=0}))' 2>&1 | FileCheck %s --check-prefix=BAD-SIZE
// RUN: not keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{list-bytes=-1}))' 2>&1 | FileCheck %s --check-prefix=BAD-SIZE
// RUN: not keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-tile-reductions{selection-in-memory=-1}))' 2>&1 | FileCheck %s --check-prefix=BAD-SIZE

// The tiled form of every kernel: the tiles from the options and the
// reduction's resources, the monoid as explicit ops.

// CHECK-LABEL: func.func @gaussian
// CHECK: %[[R:.*]] = keops.reduce sum over j
// CHECK: keops.schedule %[[R]] : tensor<?x1xf32> attributes {acc_type = f32, feature_loop_min_dim = 32 : i64, staged, sum_scheme = "block_sum", tile_cols = 1024 : i64, tile_rows = 2 : i64} {
// CHECK-NEXT: %[[INIT:.*]] = keops.state_init
// CHECK-NEXT: %[[TILES:.*]] = keops.for_tiles(%[[INIT]]) {
// CHECK-NEXT: ^bb0(%[[ACC:.*]]: !keops.state):
// CHECK-NEXT: %[[ZERO:.*]] = keops.state_init
// CHECK-NEXT: %[[TILE:.*]] = keops.accumulate_tile %[[ZERO]]
// CHECK-NEXT: %[[NEXT:.*]] = keops.state_merge %[[ACC]], %[[TILE]]
// CHECK-NEXT: keops.tile_yield %[[NEXT]]
// CHECK-NEXT: }
// CHECK-NEXT: keops.state_store %[[TILES]]
// CHECK-NEXT: }
// CHECK-NEXT: return %[[R]]
// The direct sum accumulates into the total.
// DIRECT-LABEL: func.func @gaussian
// DIRECT: sum_scheme = "direct_sum"
// DIRECT: ^bb0(%[[ACC:.*]]: !keops.state):
// DIRECT-NEXT: %[[TILE:.*]] = keops.accumulate_tile %[[ACC]]
// DIRECT-NEXT: keops.tile_yield %[[TILE]]
// 16 bytes a column (y and b): 75 columns fit 1200 bytes, 64 in granules
// of 32.
// SHRUNK-LABEL: func.func @gaussian
// SHRUNK: staged, {{.*}}tile_cols = 64 : i64
// One granule (32 columns, 512 bytes) exceeds 100 bytes: not staged.
// UNSTAGED-LABEL: func.func @gaussian
// UNSTAGED-NOT: staged
// UNSTAGED: tile_cols = 32 : i64
// Staged rows of 1024 float32 (4 KiB) would share cache sets: one
// granule fewer, rows of 4032 bytes.
// CONFLICT-LABEL: func.func @gaussian
// CONFLICT: tile_cols = 1008 : i64
// A row: 3 registers of x, 2 states (block sum): 4 rows fit 32 registers,
// 2 fit 16.
// AUTO32-LABEL: func.func @gaussian
// AUTO32: tile_rows = 4 : i64
// AUTO16-LABEL: func.func @gaussian
// AUTO16: tile_rows = 2 : i64
// Bad options name the problem.
// BAD-SCHEME: error: 'func.func' op keops-tile-reductions: unknown sum-scheme 'pairwise'
// BAD-SIZE: error: 'func.func' op keops-tile-reductions: tile-cols and col-granule must be positive, the other sizes non-negative
// EXPLICIT-LABEL: func.func @gaussian
// EXPLICIT: acc_type = f64, {{.*}}tile_rows = 3 : i64
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

// A min is not a sum: the tiles accumulate into the total. Over i, the
// reduction is first rewritten over j (the categories swap).
// CHECK-LABEL: func.func @argmin_over_i
// CHECK: %[[R:.*]] = keops.reduce argmin over j (%{{.*}} = %{{.*}} : j, %{{.*}} = %{{.*}} : i)
// CHECK: keops.schedule %[[R]] : tensor<?x1xi64>
// CHECK: ^bb0(%[[ACC:.*]]: !keops.state):
// CHECK-NEXT: %[[TILE:.*]] = keops.accumulate_tile %[[ACC]]
// CHECK-NEXT: keops.tile_yield %[[TILE]]
// 2 registers of y, a float and an i64 state (3 registers): 4 rows fit 32
// registers, 2 fit 16.
// AUTO32-LABEL: func.func @argmin_over_i
// AUTO32: tile_rows = 4 : i64
// AUTO16-LABEL: func.func @argmin_over_i
// AUTO16: tile_rows = 2 : i64
func.func @argmin_over_i(%x: tensor<?x2xf32>, %y: tensor<?x2xf32>) -> tensor<?x1xi64> {
  %r = keops.reduce argmin over i (%xi = %x : i, %yj = %y : j)
      : (tensor<?x2xf32>, tensor<?x2xf32>) -> tensor<?x1xi64> {
    %d = keops.sqdist %xi, %yj : vector<2xf32>, vector<2xf32>
    keops.yield %d : vector<1xf32>
  }
  return %r : tensor<?x1xi64>
}

// -----

// Wide outputs in chunks of 16 components; float16 accumulates in float32.
// CHECK-LABEL: func.func @wide_output
// CHECK: keops.schedule %{{.*}} : tensor<?x40xf16> attributes {acc_type = f32,
// CHECK-NEXT: keops.output_chunks 16 {
// CHECK-NEXT: keops.state_init
// CHECK-NEXT: keops.for_tiles
func.func @wide_output(%x: tensor<?x3xf16>, %y: tensor<?x3xf16>, %b: tensor<?x40xf16>) -> tensor<?x40xf16> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j, %bj = %b : j)
      : (tensor<?x3xf16>, tensor<?x3xf16>, tensor<?x40xf16>) -> tensor<?x40xf16> {
    %d = keops.sqdist %xi, %yj : vector<3xf16>, vector<3xf16>
    %n = keops.neg %d : vector<1xf16>
    %e = keops.exp %n : vector<1xf16>
    %w = keops.mul %e, %bj : vector<1xf16>, vector<40xf16>
    keops.yield %w : vector<40xf16>
  }
  return %r : tensor<?x40xf16>
}

// -----

// K best lists of a wide formula, in chunks: of 64 / K components when the
// lists are in registers (K = 5: 12 components), of 16 with selection in
// memory, whose registers hold one threshold per component.
// CHECK-LABEL: func.func @wide_k_best
// CHECK: keops.output_chunks 12 {
// SELECT-LABEL: func.func @wide_k_best
// SELECT: keops.output_chunks 16 {
// With selection-in-memory=32, K = 5 stays in registers.
// LISTS-LABEL: func.func @wide_k_best
// LISTS-NOT: selection_in_memory
// LISTS: keops.output_chunks 12 {
func.func @wide_k_best(%x: tensor<?x40xf32>, %y: tensor<?x40xf32>) -> tensor<?x200xi64> {
  %r = keops.reduce argkmin<5> over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x40xf32>, tensor<?x40xf32>) -> tensor<?x200xi64> {
    %d = keops.sub %xi, %yj : vector<40xf32>, vector<40xf32>
    keops.yield %d : vector<40xf32>
  }
  return %r : tensor<?x200xi64>
}

// -----

// K = 40 (at least selection-in-memory=32): the lists in memory, K (value,
// column) pairs of 4 + 8 bytes per component, 480 bytes. list-bytes=1024
// takes chunks of 2 components, then 1 row of 960 bytes of lists.
// LISTS-LABEL: func.func @many_best
// LISTS: selection_in_memory
// LISTS-SAME: tile_rows = 1 : i64
// LISTS-NEXT: keops.output_chunks 2 {
func.func @many_best(%x: tensor<?x40xf32>, %y: tensor<?x40xf32>) -> tensor<?x1600xi64> {
  %r = keops.reduce argkmin<40> over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x40xf32>, tensor<?x40xf32>) -> tensor<?x1600xi64> {
    %d = keops.sub %xi, %yj : vector<40xf32>, vector<40xf32>
    keops.yield %d : vector<40xf32>
  }
  return %r : tensor<?x1600xi64>
}

// -----

// A narrow output whose lists take more than list-bytes (8 x 480 bytes) is
// chunked too: 2 components a chunk, 1 row. Without list-bytes, no chunks.
// LISTS-LABEL: func.func @narrow_many_best
// LISTS: selection_in_memory
// LISTS-SAME: tile_rows = 1 : i64
// LISTS-NEXT: keops.output_chunks 2 {
// SELECT-LABEL: func.func @narrow_many_best
// SELECT-NOT: keops.output_chunks
// SELECT-LABEL: return
func.func @narrow_many_best(%x: tensor<?x8xf32>, %y: tensor<?x8xf32>) -> tensor<?x320xi64> {
  %r = keops.reduce argkmin<40> over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x320xi64> {
    %d = keops.sub %xi, %yj : vector<8xf32>, vector<8xf32>
    keops.yield %d : vector<8xf32>
  }
  return %r : tensor<?x320xi64>
}

// -----

// One component: no chunks; 4 rows would take 1920 bytes of lists, 2 rows
// fit in list-bytes=1024.
// LISTS-LABEL: func.func @knn_40
// LISTS: selection_in_memory
// LISTS-SAME: tile_rows = 2 : i64
// LISTS-NOT: keops.output_chunks
// LISTS-LABEL: return
func.func @knn_40(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>) -> tensor<?x40xi64> {
  %r = keops.reduce argkmin<40> over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x40xi64> {
    %d = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
    keops.yield %d : vector<1xf32>
  }
  return %r : tensor<?x40xi64>
}

// -----

// K = 8 at 5 components: 40 values in registers, at least
// feature-loop-min-dim (32), but one chunk of 8 would hold all 5.
// CHECK-LABEL: func.func @narrow_k_best
// CHECK-NOT: keops.output_chunks
// CHECK: return
func.func @narrow_k_best(%x: tensor<?x5xf32>, %y: tensor<?x5xf32>) -> tensor<?x40xf32> {
  %r = keops.reduce kmin<8> over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x5xf32>, tensor<?x5xf32>) -> tensor<?x40xf32> {
    %d = keops.sub %xi, %yj : vector<5xf32>, vector<5xf32>
    keops.yield %d : vector<5xf32>
  }
  return %r : tensor<?x40xf32>
}

// -----

// Variables in feature loops take no registers: a row of x (100
// components, reloaded by the loop) costs its 2 states and the 4 partial
// sums of its feature loop, so 2 rows fit 16 registers.
// AUTO16-LABEL: func.func @wide_features
// AUTO16: tile_rows = 2 : i64
// 400 bytes a column: 640 columns fit 256 KiB, but rows of 2560 bytes
// are a multiple of 256; 624 columns make rows of 2496.
// CONFLICT-LABEL: func.func @wide_features
// CONFLICT: tile_cols = 624 : i64
func.func @wide_features(%x: tensor<?x100xf32>, %y: tensor<?x100xf32>) -> tensor<?x1xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x100xf32>, tensor<?x100xf32>) -> tensor<?x1xf32> {
    %d = keops.sqdist %xi, %yj : vector<100xf32>, vector<100xf32>
    keops.yield %d : vector<1xf32>
  }
  return %r : tensor<?x1xf32>
}
