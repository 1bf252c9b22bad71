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
  let summary = "Lower a scheduled keops.reduce to the vectorized loop nest "
                "of a CPU kernel";
  let description = [{
    Turns a function that returns one `keops.reduce` of its arguments,
    tiled by its `keops.schedule`, into a kernel that computes output rows
    [row_begin, row_end) over the reduced columns [col_begin, col_end).

    The schedule's loops are interchanged: each j-tile of `tile_cols`
    columns is staged once (component-major, in the staging buffer), then
    swept by every i-block of `tile_rows` rows, whose lane states wait in a
    scratch buffer between tiles. `keops.accumulate_tile` scans the tile in
    lanes of `lanes` consecutive columns (one vector<lanes x T> per formula
    component), the tail masked; the other ops of the schedule are the
    Accumulator of the reduction kind (init, merge, finalize) on states of
    `lanes` lanes, merged across lanes at the end.

    #### Input invariant
    - A `func.func` whose body is one `keops.reduce` over j of the function
      arguments, in order, its `keops.schedule` (staged) and a `func.return`
      of its results (what the formula importer and keops-tile-reductions
      produce). Other functions are left alone.

    #### Output IR
    ```
    // the scalars of keops_rt_kernel_arg_t, the strides, the arrays, the
    // buffers of keops_rt_kernel_buffer_t (KeOpsRuntime.h)
    func.func @f(%row_begin: index, %row_end: index, %col_begin: index,
                 %col_end: index, %mode: index, %split: index,
                 %splits: index, %split_columns: index, %slab: index,
                 %in_stride0: index, ...,
                 %out_stride0: index, ..., %in0: memref<?xT>, ...,
                 %out0: memref<?xT>, ..., %state_floats: memref<?xA>,
                 %state_ints: memref<?xi64>, %scratch_floats: memref<?xA>,
                 %scratch_ints: memref<?xi64>, %staged: memref<?xT>)
        attributes {keops.kernel, llvm.emit_c_interface}
    ```
    with `scf.for` loops over rows, j-tiles and lanes, formula ops expanded
    to `arith`/`math` on vector lanes, `vector.load`/`vector.maskedload` of
    the staged tile and `memref.store` of the finalized rows. Layout: every
    variable and output is row-major with its row stride (row r, component
    d at r * stride + d; outputs with the absolute row index); parameters
    hold their D values. The runtime allocates the scratch (the lane states
    of the rows) and the staging buffer (`tile_cols` columns of the reduced
    variables).

    `mode` 0 finalizes; 1 (raw) stores each row's lane-merged accumulator
    state at slot `split * slab + row` of the state buffers (its float
    values, of the accumulator type A, and its i64 indices); 3 (resume)
    merges the state already in the slot first (a later column range);
    2 (merge) merges the slots `s * slab + row` for s in [0, splits) and
    finalizes, without reading any variable. The runtime splits the columns
    of few rows over threads and walks block-sparse column ranges with them.

    Feature dimensions: a sum of components (`sum`, `sqnorm2`, `scalprod`,
    `sqdist`) over at least the schedule's `feature_loop_min_dim`
    components of a tree of componentwise ops of the variables is an
    `scf.for` over the components that loads them from memory, so the code
    does not grow with D; other ops keep one SSA value per component.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"lanes", "lanes", "int64_t", /*default=*/"0",
           "Columns per vector (a power of 2); 0 picks 64 bytes of elements">,
  ];
}

def ConvertKeOpsToGPUPass : Pass<"convert-keops-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower scheduled keops.reduce functions to GPU kernels";
  let description = [{
    Replaces every function whose body is one `keops.reduce` over j of its
    arguments and its `keops.schedule` (see keops-tile-reductions) by a
    `gpu.func` kernel of the same name in the `gpu.module @keops_kernels`.

    A block has B threads, B = the schedule's `tile_cols` (a multiple of
    32): each thread computes an i-block of R = `tile_rows` output rows,
    thread `t` of block `b` the rows `row_begin + b * B * R + r * B + t`
    for r < R. The columns [col_begin, col_end) are scanned in j-tiles of B
    columns: when the schedule is `staged`, the threads of a block load the
    reduced variables of a tile cooperatively into workgroup memory
    (component-major, so that every thread reads the same address) and meet
    at a `gpu.barrier`; otherwise they read them from global memory. The
    body of `keops.for_tiles` then folds each column of the tile into the
    accumulator states of their R rows, in registers: one read of a column
    serves R pairs. Rows past `row_end` take part in the loads but store
    nothing. With the schedule's `selection_in_memory`, the K best lists of
    a kmin-family reduction are in the thread's local memory (a
    `memref.alloca` per buffer, slot r for row r; KBestLists), max-heaps
    filled in loops, and the loops over the columns carry only their
    thresholds.

    #### Output IR
    ```
    gpu.module @keops_kernels {
      // as on the CPU (keops_rt_kernel_arg_t, keops_rt_kernel_buffer_t)
      gpu.func @f(%row_begin: index, %row_end: index, %col_begin: index,
                  %col_end: index, %mode: index, %split: index,
                  %splits: index, %split_columns: index, %slab: index,
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
    the schedule's `acc_type` (float32 or float64).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def ConvertKeOpsMathToNVVMPass
    : Pass<"convert-keops-math-to-nvvm", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Lower math ops of GPU kernels to NVVM intrinsics";
  let description = [{
    Rewrites the math ops of a GPU module so that f32 kernels need no
    libdevice: `math.exp` becomes `ex2.approx(x * log2(e))`, `math.log`
    `lg2.approx(x) * ln(2)` (the `-use_fast_math` choices of KeOps), `sin`
    and `cos` ours, in f64 with an accurate reduction by pi/2 (NaN beyond
    |x| = 2^50, where only libdevice would be exact), the other f32
    functions MLIR's polynomial approximations, and `sqrt`, `absf`,
    `floor`, `ceil`, `round`, `fma`, `copysign` LLVM intrinsics that NVPTX
    implements natively. One-element vectors are scalarized first. f64
    transcendental functions are left to `convert-gpu-to-nvvm`, which calls
    libdevice.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
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

//===----------------------------------------------------------------------===//
// Kernels called from a module (keops-lower-to-llvm)
//===----------------------------------------------------------------------===//

def KeOpsLowerKernelCallsPass
    : Pass<"keops-lower-kernel-calls", "::mlir::ModuleOp"> {
  let summary = "Turn the calls of kernel functions into calls of the "
                "runtime";
  let description = [{
    For each tiled kernel function `@K` (a `keops.reduce` with its
    `keops.schedule`, see keops-tile-reductions) that the module calls,
    adds its runtime descriptor as a constant `@__keops_desc_K` (a
    `keops_rt_kernel_desc_t`, laid out as the runtime's C header says) and
    declares its packed entry point `@__keops_entry_K`, which
    keops-define-kernel-entries defines once `@K` is in the LLVM dialect.
    Each `func.call @K` on tensors becomes, before bufferization:

    ```mlir
    %c = call @keops_rt_mlir_begin(%desc, %entry)
    // each input: to_buffer, cast to an unranked memref
    call @keops_rt_mlir_arg_f32(%c, %x) : (!llvm.ptr, memref<*xf32>) -> ()
    // each output: a new buffer of the rows of the output's axis
    call @keops_rt_mlir_arg_f32(%c, %out) : (!llvm.ptr, memref<*xf32>) -> ()
    call @keops_rt_mlir_end(%c)
    %r = bufferization.to_tensor %outbuf restrict writable
    ```

    so that the runtime runs the kernel on all cores (see the keops_rt_mlir
    calls of KeOpsRuntime.h).
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", /*default=*/"0",
           "The lanes of convert-keops-to-cpu (0: 64 bytes of elements)">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

def KeOpsDefineKernelEntriesPass
    : Pass<"keops-define-kernel-entries", "::mlir::ModuleOp"> {
  let summary = "Define the packed entry points that "
                "keops-lower-kernel-calls declared";
  let description = [{
    After the lowering to the LLVM dialect, gives each declared
    `@__keops_entry_K` its body: `void (void **args)` that calls
    `@_mlir_ciface_K` with the arguments args[k] point to (the runtime's
    keops_rt_cpu_entry_t), with internal linkage.
  }];
}

#endif // KEOPS_CONVERSION_PASSES_TD
