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

def ConvertKeOpsToGPUPass : Pass<"convert-keops-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower keops.reduce functions to GPU kernels";
  let description = [{
    Replaces every function whose body is one `keops.reduce` of its
    arguments by a `gpu.func` kernel of the same name in the
    `gpu.module @keops_kernels`. A reduction over i is first rewritten as a
    reduction over j.

    One thread computes one output row: thread `t` of block `b` owns row
    `row_begin + b * block-size + t`. The columns [col_begin, col_end) are
    scanned in j-tiles of `block-size` columns: the threads of a block load
    the reduced variables of a tile cooperatively into workgroup memory
    (component-major, so that every thread reads the same address), meet at
    a `gpu.barrier`, and fold the tile into their accumulator state in
    registers. The block sum restarts each tile from zero and merges it into
    the total. Rows past `row_end` take part in the loads but store nothing.
    When the reduced variables of a tile would exceed `max-workgroup-bytes`,
    the block size shrinks (down to 32 threads); beyond that, the threads
    read the reduced variables from global memory directly.

    #### Output IR
    ```
    gpu.module @keops_kernels {
      gpu.func @f(%row_begin: index, %row_end: index, %col_begin: index,
                  %col_end: index, %in0: memref<?xT>, ..., %out0: memref<?xT>, ...)
          workgroup(%tile: memref<(B * Dj) x T, #gpu.address_space<workgroup>>)
          kernel attributes {known_block_size = array<i32: B, 1, 1>, keops.kernel}
    }
    ```
    Every variable and output is row-major (row r, component d at r * D + d);
    parameters hold their D values; outputs use the absolute row index. The
    runtime launches ceil((row_end - row_begin) / B) blocks of B threads.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block (a multiple of 32), also the columns per j-tile">,
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
           "Sums over at least this many components loop over them (as in "
           "keops-tile-reductions; the staging of the tile too); 0: unroll">,
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

#endif // KEOPS_CONVERSION_PASSES_TD
