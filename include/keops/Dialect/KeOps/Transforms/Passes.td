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
// Tiling and scheduling
//===----------------------------------------------------------------------===//

def KeOpsTileReductionsPass
    : Pass<"keops-tile-reductions", "::mlir::func::FuncOp"> {
  let summary = "Lower keops.reduce to the tiled loop nest of a kernel";
  let description = [{
    Turns a function that returns one `keops.reduce` of its arguments into a
    kernel that computes output rows [row_begin, row_end) over the reduced
    columns [col_begin, col_end). A reduction over i is first rewritten as a
    reduction over j (the i and j categories swap roles).

    For every output row, the columns are scanned in lanes of `lanes`
    consecutive columns (one vector<lanes x T> per formula component), in
    j-tiles of `tile-j` columns for the block sum; the tail of a range is
    masked. The accumulator state of the reduction kind is defined once by
    its Accumulator (init, accumulate, merge, finalize): lanes and tiles are
    combined with `merge`.

    #### Input invariant
    - A `func.func` whose body is one `keops.reduce` of the function
      arguments, in order, and a `func.return` of its results (what the
      formula importer produces). Other functions are left alone.

    #### Output IR
    ```
    func.func @f(%row_begin: index, %row_end: index, %col_begin: index,
                 %col_end: index, %ld: index, %mode: index, %split: index,
                 %splits: index, %slab: index, %in0: memref<?xT>, ...,
                 %out0: memref<?xT>, ..., %state_floats: memref<?xA>,
                 %state_ints: memref<?xi64>)
        attributes {keops.kernel, llvm.emit_c_interface}
    ```
    with `scf.for` loops over rows, j-tiles and lanes, formula ops expanded
    to `arith`/`math` on vector lanes, `vector.load`/`vector.maskedload` of
    the reduced variables and `memref.store` of the finalized rows. Layout:
    row variables are row-major (row r, component d at r * D + d), reduced
    variables component-major with leading dimension `ld` (column c,
    component d at d * ld + c), parameters hold their D values, outputs are
    row-major with the absolute row index.

    `mode` 0 finalizes; 1 (raw) stores each row's lane-merged accumulator
    state at slot `split * slab + row` of the state buffers (its float
    values, of the accumulator type A, and its i64 indices); 3 (resume)
    merges the state already in the slot first (a later column range);
    2 (merge) merges the slots `s * slab + row` for s in [0, splits) and
    finalizes, without reading any variable. The runtime splits the columns
    of few rows over threads and walks block-sparse column ranges with them.

    Feature dimensions: a sum of components (`sum`, `sqnorm2`, `scalprod`,
    `sqdist`) over at least `feature-loop-min-dim` components of a tree of
    componentwise ops of the variables is an `scf.for` over the components
    that loads them from memory, so the code does not grow with D; other
    ops keep one SSA value per component.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"lanes", "lanes", "int64_t", /*default=*/"0",
           "Columns per vector (a power of 2); 0 picks 64 bytes of elements">,
    Option<"tileJ", "tile-j", "int64_t", /*default=*/"1024",
           "Columns per j-tile of the block sum">,
    Option<"rowsPerBlock", "rows-per-block", "int64_t", /*default=*/"1",
           "Rows computed together, sharing each load of the reduced "
           "variables (the remaining rows go one by one)">,
    Option<"sumScheme", "sum-scheme", "std::string", /*default=*/"\"block_sum\"",
           "Sum accumulation of sum-type kinds: block_sum, kahan_scheme or "
           "direct_sum">,
    Option<"doubleAccumulator", "double-accumulator", "bool",
           /*default=*/"false",
           "Accumulate float32 sum-type reductions in float64">,
    Option<"featureLoopMinDim", "feature-loop-min-dim", "int64_t",
           /*default=*/"32",
           "Sums over at least this many components (SqDist, scalar "
           "products, sums of componentwise expressions of variables) loop "
           "over them instead of unrolling (0: always unroll)">,
  ];
}

//===----------------------------------------------------------------------===//
// Cleanup
//===----------------------------------------------------------------------===//

def KeOpsApproximateMathPass : Pass<"keops-approximate-math"> {
  let summary = "Replace f32 math functions by vectorizable polynomials";
  let description = [{
    Rewrites `math.exp`, `math.log`, `math.sin`, `math.cos`, ... on f32
    scalars and vectors into polynomial approximations made of arith ops
    (MLIR's math polynomial approximation), so that the CPU code vectorizes
    instead of calling scalar libm functions. f64 is left to libm.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // KEOPS_DIALECT_KEOPS_TRANSFORMS_PASSES_TD
