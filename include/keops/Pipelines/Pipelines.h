//===- Pipelines.h - keops lowering pipelines -------------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the named pipelines of KeOps-MLIR, with their options:
// `keops-lower-to-cpu` takes an imported module down to the LLVM dialect,
// `keops-lower-to-nvvm` to NVVM kernels; both start with the
// target-neutral keops-tile-reductions, with options from the target's.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_PIPELINES_PIPELINES_H
#define KEOPS_PIPELINES_PIPELINES_H

#include "keops/Dialect/KeOps/Transforms/OptionDefaults.h"

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace keops {
struct KeOpsTileReductionsPassOptions;

/// Adds to `pm` (on a module) what both kernel pipelines start with:
/// keops-autodiff, cleanup, and keops-tile-reductions with `tiling`.
void buildKeOpsTilingPipeline(OpPassManager &pm,
                              const KeOpsTileReductionsPassOptions &tiling);

/// The kernel options both targets take.
template <typename Derived>
struct KernelPipelineOptions : public PassPipelineOptions<Derived> {
  mlir::detail::PassOptions::Option<std::string> sumScheme{
      *this, "sum-scheme",
      llvm::cl::desc("block_sum, kahan_scheme or direct_sum"),
      llvm::cl::init(defaults::kSumScheme)};
  mlir::detail::PassOptions::Option<bool> doubleAccumulator{
      *this, "double-accumulator",
      llvm::cl::desc("Accumulate float32 sums in float64"),
      llvm::cl::init(false)};
  mlir::detail::PassOptions::Option<int64_t> featureLoopMinDim{
      *this, "feature-loop-min-dim",
      llvm::cl::desc("Sums over at least this many components loop over "
                     "them, outputs of as many are reduced in chunks (0: "
                     "unroll)"),
      llvm::cl::init(defaults::kFeatureLoopMinDim)};
};

struct KeOpsToCPUPipelineOptions
    : public KernelPipelineOptions<KeOpsToCPUPipelineOptions> {
  PassOptions::Option<int64_t> lanes{
      *this, "lanes",
      llvm::cl::desc("Columns per vector (0: 64 bytes of elements)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> tileJ{
      *this, "tile-j", llvm::cl::desc("Columns per j-tile of the block sum"),
      llvm::cl::init(defaults::kTileCols)};
  PassOptions::Option<int64_t> rowsPerBlock{
      *this, "rows-per-block",
      llvm::cl::desc("Rows computed together, sharing the column loads "
                     "(fewer when they do not fit the vector registers)"),
      llvm::cl::init(defaults::kTileRows)};
  PassOptions::Option<int64_t> vectorRegisters{
      *this, "vector-registers",
      llvm::cl::desc("Vector registers of the target (32 on AVX-512, 16 on "
                     "AVX2)"),
      llvm::cl::init(defaults::kVectorRegisters)};
};

/// The keops-tile-reductions options of the CPU pipeline: i-blocks of
/// rows-per-block rows within the vector registers, j-tiles of tile-j
/// columns (a multiple of the lanes) whose staged variables fit 256 KiB of
/// cache, always staged, whose staged rows are not a multiple of 256 bytes
/// long (cache sets).
KeOpsTileReductionsPassOptions
getCpuTilingOptions(const KeOpsToCPUPipelineOptions &options);

/// Adds to `pm` (on a module) the passes from the keops dialect to the LLVM
/// dialect for the CPU: tiling, cleanup, polynomial math, LLVM conversions.
void buildKeOpsToCPUPipeline(OpPassManager &pm,
                             const KeOpsToCPUPipelineOptions &options);

/// A whole module -> the LLVM dialect, its reductions (kernel functions, and
/// keops.reduce inside larger functions) compiled into CPU kernels of the
/// module and called through the runtime's keops_rt_mlir_* functions; the
/// rest of the module (func, arith, tensor, linalg, scf) bufferized and
/// lowered. mlir-runner runs the result with libKeOpsRuntime.so.
void buildKeOpsToLLVMPipeline(OpPassManager &pm,
                              const KeOpsToCPUPipelineOptions &options);

struct KeOpsToNVVMPipelineOptions
    : public KernelPipelineOptions<KeOpsToNVVMPipelineOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("The GPU architecture (sm_80, sm_90, ...)"),
      llvm::cl::init("sm_90")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features, e.g. +ptx80 (empty: the chip's default)"),
      llvm::cl::init("")};
  PassOptions::Option<int> optLevel{
      *this, "opt-level", llvm::cl::desc("LLVM optimization level"),
      llvm::cl::init(3)};
  PassOptions::Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Threads per block, also the columns per j-tile"),
      llvm::cl::init(defaults::kGpuBlockSize)};
  PassOptions::Option<int64_t> rowsPerThread{
      *this, "rows-per-thread",
      llvm::cl::desc("Rows each thread computes (0: automatic)"),
      llvm::cl::init(0)};
};

/// The keops-tile-reductions options of the GPU pipelines: j-tiles of
/// block-size columns (one per thread), fewer (by warps) when their staged
/// variables exceed 48 KiB of workgroup memory, unstaged beyond; i-blocks
/// of rows-per-thread rows, or automatically up to 4 within 32 registers.
KeOpsTileReductionsPassOptions
getGpuTilingOptions(const KeOpsToNVVMPipelineOptions &options);

/// keops.reduce functions -> gpu.module of NVVM kernels with an NVVM target
/// attached; gpu-module-to-binary then makes PTX or cubin.
void buildKeOpsToNVVMPipeline(OpPassManager &pm,
                              const KeOpsToNVVMPipelineOptions &options);

/// keops.reduce functions -> the kernels of buildKeOpsToNVVMPipeline as host
/// functions in the LLVM dialect, called once per GPU thread (see
/// convert-gpu-kernels-to-host); the chip options are not used.
void buildKeOpsGpuEmulationPipeline(OpPassManager &pm,
                                    const KeOpsToNVVMPipelineOptions &options);

/// Registers the named pipelines (keops-lower-to-cpu, keops-lower-to-llvm,
/// keops-lower-to-nvvm, keops-lower-to-gpu-emulation).
void registerKeOpsPipelines();

} // namespace keops
} // namespace mlir

#endif // KEOPS_PIPELINES_PIPELINES_H
