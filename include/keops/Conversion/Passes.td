//===- Passes.td - Conversions of the keops dialect --------*- tablegen -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// Declares the conversions of keops reductions to target code.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_CONVERSION_PASSES_TD
#define KEOPS_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertKeOpsToCPUPass
    : Pass<"convert-keops-to-cpu", "::mlir::func::FuncOp"> {
  let summary = "Lower keops.reduce to the vectorized loop nest of a CPU kernel";
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
           "over them instead of unrolling, and outputs of as many are "
           "reduced in chunks of 16 components (0: always unroll)">,
  ];
}

def ConvertKeOpsToGPUPass : Pass<"convert-keops-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower keops.reduce functions to GPU kernels";
  let description = [{
    Replaces every function whose body is one `keops.reduce` of its
    arguments by a `gpu.func` kernel of the same name in the
    `gpu.module @keops_kernels`. A reduction over i is first rewritten as a
    reduction over j.

    A thread computes R output rows (`rows-per-thread`): thread `t` of
    block `b` owns the rows `row_begin + b * B * R + r * B + t` for r < R
    (B = `block-size`). The columns [col_begin, col_end) are scanned in
    j-tiles of B columns: the threads of a block load the reduced variables
    of a tile cooperatively into workgroup memory (component-major, so that
    every thread reads the same address), meet at a `gpu.barrier`, and fold
    each column of the tile into the accumulator states of their R rows, in
    registers: one read of a column serves R pairs. The block sum restarts each tile from zero and merges it into
    the total. Rows past `row_end` take part in the loads but store nothing.
    When the reduced variables of a tile would exceed `max-workgroup-bytes`,
    the block size shrinks (down to 32 threads); beyond that, the threads
    read the reduced variables from global memory directly.

    #### Output IR
    ```
    gpu.module @keops_kernels {
      gpu.func @f(%row_begin: index, %row_end: index, %col_begin: index,
                  %col_end: index, %mode: index, %splits: index,
                  %split_columns: index, %slab: index,
                  %in0: memref<?xT>, ..., %out0: memref<?xT>, ...,
                  %state_floats: memref<?xA>, %state_ints: memref<?xi64>,
                  %block_table: memref<?xi64>, %col_ranges: memref<?xi64>)
          workgroup(%tile: memref<(B * Dj) x T, #gpu.address_space<workgroup>>)
          kernel attributes {known_block_size = array<i32: B, 1, 1>,
                             keops.kernel, keops.rows_per_thread = R : i32}
    }
    ```
    Every variable and output is row-major (row r, component d at r * D + d);
    parameters hold their D values; outputs use the absolute row index. The
    runtime launches ceil((row_end - row_begin) / (B * R)) x Y blocks of
    B threads. `mode` (keops_rt_mode_t): 0 finalizes; 1 (raw, Y = splits)
    reduces over column split y (`split_columns` columns) and stores the
    states at slot y * slab + row; 2 (merge) merges the slots of the splits
    and finalizes; 4 (block-sparse) takes block b's rows and column ranges
    from row b of `block_table` (row begin, row end, first and last range)
    and walks those ranges of `col_ranges`. float16 formulas accumulate in
    float32.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block (a multiple of 32), also the columns per j-tile">,
    Option<"rowsPerThread", "rows-per-thread", "int64_t", /*default=*/"0",
           "Rows each thread computes (0: automatic, up to 4 while the "
           "rows' variables and accumulator states fit in 32 registers)">,
    Option<"maxWorkgroupBytes", "max-workgroup-bytes", "int64_t",
           /*default=*/"49152",
           "Workgroup memory a block may use for its j-tile">,
    Option<"sumScheme", "sum-scheme", "std::string", /*default=*/"\"block_sum\"",
           "Sum accumulation of sum-type kinds: block_sum, kahan_scheme or "
           "direct_sum">,
    Option<"doubleAccumulator", "double-accumulator", "bool",
           /*default=*/"false",
           "Accumulate float32 sum-type reductions in float64">,
    Option<"featureLoopMinDim", "feature-loop-min-dim", "int64_t",
           /*default=*/"32",
           "Sums over at least this many components loop over them, and "
           "outputs of as many are reduced in chunks (as in "
           "convert-keops-to-cpu; the staging of the tile too); 0: unroll">,
  ];
}

def ConvertKeOpsMathToNVVMPass
    : Pass<"convert-keops-math-to-nvvm", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Lower math ops of GPU kernels to NVVM intrinsics";
  let description = [{
    Rewrites the math ops of a GPU module so that f32 kernels need no
    libdevice: `math.exp` becomes `ex2.approx(x * log2(e))`, `math.log`
    `lg2.approx(x) * ln(2)` (the `-use_fast_math` choices of KeOps), the
    other f32 functions polynomial approximations, and `sqrt`, `absf`,
    `floor`, `ceil`, `round`, `fma`, `copysign` LLVM intrinsics that NVPTX
    implements natively. One-element vectors are scalarized first. f64
    transcendental functions are left to `convert-gpu-to-nvvm`, which calls
    libdevice.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def ConvertGpuKernelsToHostPass
    : Pass<"convert-gpu-kernels-to-host", "::mlir::ModuleOp"> {
  let summary = "Make GPU kernels host functions called once per thread";
  let description = [{
    Replaces every `gpu.func` kernel of the `gpu.module`s by a `func.func`
    of the same name in the module, called once per GPU thread:

    ```
    func.func @f(%barrier: () -> (), %block_x: index, %block_y: index,
                 %thread_x: index, %workgroup: memref<N x T>, ...,
                 <the kernel's arguments>)
    ```

    `gpu.thread_id x`, `gpu.block_id x` and `gpu.block_id y` become the
    arguments (the other dimensions 0), `gpu.barrier` a call of `%barrier`,
    and the workgroup buffers plain memrefs; the function keeps the
    `keops.*` attributes of the kernel and gets `gpu.known_block_size` (as
    `convert-gpu-to-nvvm` gives it to an NVVM kernel) and
    `keops.workgroup_bytes` (i64, of its buffer). Whoever calls it runs the
    threads of a block concurrently with one workgroup buffer per block and
    a barrier that waits for all of them: the GPU kernels then run on the
    host (the GPU emulation of the tests). Kernels with private memory or
    several workgroup buffers, and other gpu ops, are errors.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect"
  ];
}

#endif // KEOPS_CONVERSION_PASSES_TD
