//===- Passes.td - Passes of the keops dialect -------------*- tablegen -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// Declares the transformation passes of the keops dialect.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_TRANSFORMS_PASSES_TD
#define KEOPS_DIALECT_KEOPS_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Differentiation
//===----------------------------------------------------------------------===//

def KeOpsAutodiffPass : Pass<"keops-autodiff", "::mlir::func::FuncOp"> {
  let summary = "Expand keops.grad into formula ops by reverse-mode rules";
  let description = [{
    Replaces every `keops.grad %f wrt %v along %e` by its symbolic value:
    the ops between `%v` and `%f` are walked backwards from `%f` with the
    adjoint `%e`, each contributing its derivative rule (a dimension-1
    operand that was broadcast gets the sum of its adjoint). Grads are
    expanded in program order, so a grad of a grad differentiates the
    expansion of the inner one: any order works. Run canonicalize and cse
    afterwards to share the forward values (a Gaussian kernel's gradient
    computes its exp once).

    ```mlir
    %e = keops.exp %x : vector<1xf32>
    %g = keops.grad %e wrt %x along %u : vector<1xf32>, vector<1xf32>, vector<1xf32>
    // becomes
    %g = keops.mul %u, %e : vector<1xf32>, vector<1xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Outlining
//===----------------------------------------------------------------------===//

def KeOpsOutlineReductionsPass
    : Pass<"keops-outline-reductions", "::mlir::ModuleOp"> {
  let summary = "Move each keops.reduce of a larger function into a kernel "
                "function";
  let description = [{
    The kernel pipelines compile kernel functions: a function whose body is
    one `keops.reduce` of its arguments, in order, and the return of its
    results. This pass makes every other `keops.reduce` (anywhere in a
    function, among func, arith, tensor, scf, linalg... ops) one: it moves
    it into a new private function `@<function>_keops_<n>` whose inputs and
    results have a dynamic number of rows, and calls that, with
    `tensor.cast`s where the caller's tensors have static shapes. Kernel
    functions are left as they are.

    ```mlir
    func.func @f(%x: tensor<8x3xf32>, %y: tensor<5x3xf32>) -> tensor<8x1xf32> {
      %r = keops.reduce min over j (%xi = %x : i, %yj = %y : j) ... {...}
      ...
    // becomes
    func.func @f(...) {
      %0 = tensor.cast %x : tensor<8x3xf32> to tensor<?x3xf32>
      %1 = tensor.cast %y : tensor<5x3xf32> to tensor<?x3xf32>
      %2 = call @f_keops_0(%0, %1) : (...) -> tensor<?x1xf32>
      %r = tensor.cast %2 : tensor<?x1xf32> to tensor<8x1xf32>
      ...
    func.func private @f_keops_0(%arg0: tensor<?x3xf32>, %arg1: tensor<?x3xf32>) -> tensor<?x1xf32> {
      %0 = keops.reduce min over j (%xi = %arg0 : i, %yj = %arg1 : j) ... {...}
      return %0 : tensor<?x1xf32>
    }
    ```
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::tensor::TensorDialect"];
}

//===----------------------------------------------------------------------===//
// Tiling
//===----------------------------------------------------------------------===//

def KeOpsTileReductionsPass
    : Pass<"keops-tile-reductions", "::mlir::func::FuncOp"> {
  let summary = "Give a kernel's keops.reduce its target-neutral tiled form";
  let description = [{
    Adds to a function whose body is one `keops.reduce` of its arguments
    (rewritten over j when it reduces over i) the `keops.schedule` that
    says how to compute it: i-blocks of `tile-rows` rows over j-tiles of
    `tile-cols` columns, and the reduction's monoid as explicit ops:

    ```mlir
    %r = keops.reduce sum over j (...) {...}
    keops.schedule %r : tensor<?x1xf32> attributes {acc_type = f32,
        feature_loop_min_dim = 32 : i64, staged, sum_scheme = "block_sum",
        tile_cols = 1024 : i64, tile_rows = 2 : i64} {
      %0 = keops.state_init
      %1 = keops.for_tiles(%0) {
      ^bb0(%acc: !keops.state):
        %2 = keops.state_init
        %3 = keops.accumulate_tile %2
        %4 = keops.state_merge %acc, %3
        keops.tile_yield %4
      }
      keops.state_store %1
    }
    ```

    The block sum of sum-type kinds starts each tile from the neutral state
    and merges it into the total (as above); other kinds and schemes
    accumulate into the total directly. Wide outputs (see
    `feature-loop-min-dim`) are reduced in a `keops.output_chunks` of 16
    components. The options are the target's resources, not the target:

    - tiles: `tile-cols` columns, fewer (a multiple of `col-granule`, at
      least one) when the staged variables of a tile would exceed
      `stage-bytes` (`loop-stage-bytes` when feature loops read a wide
      reduced variable: every row reads the whole tile); beyond that the
      tile is staged only with
      `stage-always`; granules fewer while a staged component row would
      be a multiple of `conflict-stride-bytes` long (the rows would share
      few cache sets);
    - i-blocks: `tile-rows` rows (0: 4; `loop-tile-rows` when the reduction
      has feature loops that read variables only, which the rows of a block
      run together), halved while a row's variables
      (those not in feature loops) and states, twice the states with the
      block sum, take more than `register-budget` registers of
      `register-bits` bits (0: registers hold one element of the formula,
      as a vector register holds one per lane); 0 budget: no limit;
    - the accumulator: the formula's element type (float32 for float16),
      float64 for float32 with `double-accumulator`;
    - with `column-products`, a sum of a dimension-1 factor times a wide
      reduced variable (getColumnProduct) is a product of matrices per tile
      (keops.schedule's `column_product`), without output chunks, the rows
      of its block `loop-tile-rows`;
    - with `selection-in-memory` (a K), the kmin family of K at least that
      keeps each row's K best (of the chunk, with output chunks) in memory,
      its threshold in registers (keops.schedule's `selection_in_memory`);
      with `list-bytes`, output chunks narrow (a narrow output is chunked
      too) and i-blocks take fewer rows while one row's lists (K (value,
      column) pairs per component) would take more bytes;
    - with `sqdist-expansion`, the block's feature loops compute the
      squared distances between a row variable and a reduced variable as
      norms minus twice the inner products (getExpandableSqDists;
      keops.schedule's `sqdist_expansion`).

    `convert-keops-to-cpu` and `convert-keops-to-gpu` then lower the
    schedule. Other functions are left alone.
  }];
  let dependentDialects = ["::mlir::keops::KeOpsDialect"];
  let options = [
    Option<"tileRows", "tile-rows", "int64_t",
           /*default=*/"::mlir::keops::defaults::kTileRows",
           "Rows of an i-block, whose states stay in registers and share "
           "each column read (0: up to 4)">,
    Option<"loopTileRows", "loop-tile-rows", "int64_t", /*default=*/"0",
           "Rows of an i-block when the rows' feature loops run together, "
           "sharing their loads of the reduced variables (0: tile-rows)">,
    Option<"registerBudget", "register-budget", "int64_t",
           /*default=*/"::mlir::keops::defaults::kVectorRegisters",
           "Registers the rows of an i-block may take (0: no limit)">,
    Option<"registerBits", "register-bits", "int64_t", /*default=*/"0",
           "Bits of a register (0: one element of the formula)">,
    Option<"tileCols", "tile-cols", "int64_t",
           /*default=*/"::mlir::keops::defaults::kTileCols",
           "Columns of a j-tile">,
    Option<"colGranule", "col-granule", "int64_t", /*default=*/"16",
           "A j-tile shrunk to fit stage-bytes keeps a multiple of this many "
           "columns">,
    Option<"stageBytes", "stage-bytes", "int64_t", /*default=*/"262144",
           "Bytes of the reduced variables of a staged j-tile (0: no limit)">,
    Option<"loopStageBytes", "loop-stage-bytes", "int64_t", /*default=*/"0",
           "Bytes of a staged j-tile when feature loops read a wide reduced "
           "variable from it once per row, so that it stays in the first "
           "level cache (0: stage-bytes only)">,
    Option<"stageAlways", "stage-always", "bool", /*default=*/"true",
           "Stage tiles even when one col-granule exceeds stage-bytes">,
    Option<"conflictStrideBytes", "conflict-stride-bytes", "int64_t",
           /*default=*/"0",
           "A j-tile whose staged component rows (tile-cols elements each) "
           "would be a multiple of this many bytes long loses col-granules "
           "until they are not, so that its rows spread over the cache sets "
           "(0: any length)">,
    Option<"sumScheme", "sum-scheme", "std::string",
           /*default=*/"::mlir::keops::defaults::kSumScheme",
           "Sum accumulation of sum-type kinds: block_sum, kahan_scheme or "
           "direct_sum">,
    Option<"doubleAccumulator", "double-accumulator", "bool",
           /*default=*/"false",
           "Accumulate float32 sum-type reductions in float64">,
    Option<"featureLoopMinDim", "feature-loop-min-dim", "int64_t",
           /*default=*/"::mlir::keops::defaults::kFeatureLoopMinDim",
           "Sums over at least this many components loop over them, and "
           "outputs of as many are reduced in chunks of 16 components (0: "
           "always unroll)">,
    Option<"columnProducts", "column-products", "bool", /*default=*/"false",
           "Sums of a dimension-1 factor times a reduced variable of at least "
           "feature-loop-min-dim components are computed per tile as the "
           "product of the factors and the variable's rows">,
    Option<"selectionInMemory", "selection-in-memory", "int64_t",
           /*default=*/"0",
           "KMin, ArgKMin and KMin_ArgKMin with K at least this keep each "
           "row's K best in memory, only its threshold in registers (0: "
           "never)">,
    Option<"listBytes", "list-bytes", "int64_t", /*default=*/"0",
           "Bytes the K best lists of a row may take in memory (with "
           "selection-in-memory): output chunks narrow, then the rows of an "
           "i-block halve, while a row's lists take more (0: no limit)">,
    Option<"sqdistExpansion", "sqdist-expansion", "bool", /*default=*/"false",
           "Squared distances between a row variable and a reduced variable "
           "of at least feature-loop-min-dim components are computed as "
           "|x|^2 + |y|^2 - 2 <x, y> (the direct form where that would round "
           "badly)">,
  ];
}

//===----------------------------------------------------------------------===//
// Cleanup
//===----------------------------------------------------------------------===//

def KeOpsApproximateMathPass : Pass<"keops-approximate-math"> {
  let summary = "Replace math functions by vectorizable polynomials";
  let description = [{
    Rewrites `math.exp`, `math.log`, `math.sin`, `math.cos`, ... on f32
    scalars and vectors into polynomial approximations made of arith ops
    (MLIR's math polynomial approximation), so that the CPU code vectorizes
    instead of calling scalar libm functions; and `math.exp` on f64, with a
    polynomial of its own (within 2 ulp). The other f64 functions are left
    to libm. f32 sin and cos are computed in f64 with an accurate reduction
    by pi/2 (MLIR's are 2e-4 off at |x| = 1000 and meaningless from 1e5),
    by libm beyond |x| = 2^50. NaN propagates: the f32 exp, whose MLIR
    approximation gives 0 for NaN, is guarded by a select.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
}

#endif // KEOPS_DIALECT_KEOPS_TRANSFORMS_PASSES_TD
