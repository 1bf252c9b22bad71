//===- Pipelines.cpp - keops lowering pipelines -----------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the named pipelines:
//
//   keops.grad --keops-autodiff--> formula ops
//   keops.reduce --keops-tile-reductions--> keops.reduce + keops.schedule
//     (options from the target's resources)
//   keops.schedule --convert-keops-to-cpu--> scf/vector/arith/math/memref
//     --canonicalize, cse, licm, keops-approximate-math--> (polynomial f32 math)
//     --memref/scf/vector/math/arith/index/cf/func to LLVM--> llvm dialect
//   a whole module (keops-lower-to-llvm): keops-outline-reductions, the
//     tiling, keops-lower-kernel-calls (calls of the runtime with each
//     kernel's descriptor), the CPU kernels, elementwise ops to linalg,
//     one-shot-bufferize and buffer
//     deallocation, linalg to loops, the host lowering,
//     keops-define-kernel-entries
//   keops.schedule --convert-keops-to-gpu--> gpu.module { gpu.func kernels }
//     --canonicalize, cse, licm, convert-keops-math-to-nvvm, scf to cf,
//       convert-gpu-to-nvvm--> NVVM kernels --nvvm-attach-target-->
//     (gpu-module-to-binary: PTX or cubin)
//   the same kernels --convert-gpu-kernels-to-host--> host functions called
//     once per thread --(as for the CPU)--> llvm dialect (GPU emulation)
//
//===----------------------------------------------------------------------===//

#include "keops/Pipelines/Pipelines.h"

#include "keops/Conversion/Passes.h"
#include "keops/Dialect/KeOps/Transforms/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {

/// The cleanup after a kernel generator, on the ops nested in `pm`.
void addKernelCleanup(OpPassManager &pm) {
  // Bottom-up: the tiled loops carry one iter_arg per component and row, and
  // the top-down worklist revisits them superlinearly (30x slower at D=100).
  pm.addPass(createCanonicalizerPass(
      GreedyRewriteConfig().setUseTopDownTraversal(false)));
  pm.addPass(createCSEPass());
  pm.addPass(createLoopInvariantCodeMotionPass());
}

/// Host functions of scf/vector/arith/math/memref (on a module) down to the
/// LLVM dialect, with polynomial f32 math.
void addHostLowering(OpPassManager &pm) {
  pm.addPass(keops::createKeOpsApproximateMathPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

/// The keops-tile-reductions options of the accumulator, from `options`.
template <typename Derived>
keops::KeOpsTileReductionsPassOptions
getAccumulatorOptions(const keops::KernelPipelineOptions<Derived> &options) {
  keops::KeOpsTileReductionsPassOptions tiling;
  tiling.sumScheme = options.sumScheme;
  tiling.doubleAccumulator = options.doubleAccumulator;
  tiling.featureLoopMinDim = options.featureLoopMinDim;
  return tiling;
}

/// keops.reduce functions -> gpu.module of cleaned-up kernels.
void addGpuKernels(OpPassManager &pm,
                   const keops::KeOpsToNVVMPipelineOptions &options) {
  keops::buildKeOpsTilingPipeline(pm, keops::getGpuTilingOptions(options));
  pm.addPass(keops::createConvertKeOpsToGPUPass());
  addKernelCleanup(pm.nest<gpu::GPUModuleOp>());
}

} // namespace

void keops::buildKeOpsTilingPipeline(
    OpPassManager &pm, const KeOpsTileReductionsPassOptions &tiling) {
  pm.addNestedPass<func::FuncOp>(createKeOpsAutodiffPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createKeOpsTileReductionsPass(tiling));
}

keops::KeOpsTileReductionsPassOptions
keops::getCpuTilingOptions(const KeOpsToCPUPipelineOptions &options) {
  KeOpsTileReductionsPassOptions tiling = getAccumulatorOptions(options);
  tiling.tileRows = options.rowsPerBlock;
  // The default takes more rows where their feature loops run together; an
  // explicit rows-per-block applies to every formula.
  tiling.loopTileRows = options.rowsPerBlock == defaults::kTileRows
                            ? defaults::kLoopTileRows
                            : options.rowsPerBlock;
  tiling.registerBudget = options.vectorRegisters;
  tiling.registerBits = 0;
  tiling.tileCols = options.tileJ;
  tiling.colGranule = options.lanes ? options.lanes : 16;
  tiling.stageBytes = 256 * 1024;
  tiling.loopStageBytes = defaults::kLoopStageBytes;
  tiling.stageAlways = true;
  tiling.conflictStrideBytes = 256;
  tiling.selectionInMemory = 1;
  tiling.columnProducts = true;
  tiling.sqdistExpansion = true;
  return tiling;
}

keops::KeOpsTileReductionsPassOptions
keops::getGpuTilingOptions(const KeOpsToNVVMPipelineOptions &options) {
  KeOpsTileReductionsPassOptions tiling = getAccumulatorOptions(options);
  tiling.tileRows = options.rowsPerThread;
  tiling.registerBudget = options.rowsPerThread ? 0 : 32;
  tiling.registerBits = 32;
  tiling.tileCols = options.blockSize;
  tiling.colGranule = 32;
  tiling.stageBytes = 48 * 1024;
  tiling.stageAlways = false;
  tiling.selectionInMemory = defaults::kGpuSelectionInMemoryMinK;
  tiling.listBytes = options.rowsPerThread ? 0 : defaults::kGpuListBytes;
  return tiling;
}

void keops::buildKeOpsToCPUPipeline(OpPassManager &pm,
                                    const KeOpsToCPUPipelineOptions &options) {
  buildKeOpsTilingPipeline(pm, getCpuTilingOptions(options));
  ConvertKeOpsToCPUPassOptions conversion;
  conversion.lanes = options.lanes;
  pm.addNestedPass<func::FuncOp>(createConvertKeOpsToCPUPass(conversion));
  addKernelCleanup(pm);
  addHostLowering(pm);
}

void keops::buildKeOpsToLLVMPipeline(
    OpPassManager &pm, const KeOpsToCPUPipelineOptions &options) {
  pm.addPass(createKeOpsOutlineReductionsPass());
  buildKeOpsTilingPipeline(pm, getCpuTilingOptions(options));
  KeOpsLowerKernelCallsPassOptions calls;
  calls.lanes = options.lanes;
  pm.addPass(createKeOpsLowerKernelCallsPass(calls));
  ConvertKeOpsToCPUPassOptions conversion;
  conversion.lanes = options.lanes;
  pm.addNestedPass<func::FuncOp>(createConvertKeOpsToCPUPass(conversion));
  addKernelCleanup(pm);
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  pm.addPass(bufferization::createEmptyTensorToAllocTensorPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  addHostLowering(pm);
  pm.addPass(createKeOpsDefineKernelEntriesPass());
}

void keops::buildKeOpsToNVVMPipeline(
    OpPassManager &pm, const KeOpsToNVVMPipelineOptions &options) {
  addGpuKernels(pm, options);
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createConvertKeOpsMathToNVVMPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void keops::buildKeOpsGpuEmulationPipeline(
    OpPassManager &pm, const KeOpsToNVVMPipelineOptions &options) {
  addGpuKernels(pm, options);
  pm.addPass(keops::createConvertGpuKernelsToHostPass());
  addHostLowering(pm);
}

void keops::registerKeOpsPipelines() {
  PassPipelineRegistration<KeOpsToCPUPipelineOptions>(
      "keops-lower-to-cpu",
      "Lower keops reductions to the LLVM dialect for the CPU (tiling, "
      "vector lanes, polynomial math)",
      buildKeOpsToCPUPipeline);
  PassPipelineRegistration<KeOpsToCPUPipelineOptions>(
      "keops-lower-to-llvm",
      "Lower a whole module to the LLVM dialect: its keops reductions (also "
      "inside larger functions of func, arith, tensor, linalg, scf ops) "
      "become CPU kernels in the module, called through libKeOpsRuntime; "
      "tensors are bufferized",
      buildKeOpsToLLVMPipeline);
  PassPipelineRegistration<KeOpsToNVVMPipelineOptions>(
      "keops-lower-to-nvvm",
      "Lower keops reductions to NVVM GPU kernels (rows in registers, "
      "j-tiles in workgroup memory) with an NVVM target attached",
      buildKeOpsToNVVMPipeline);
  PassPipelineRegistration<KeOpsToNVVMPipelineOptions>(
      "keops-lower-to-gpu-emulation",
      "Lower keops reductions to the GPU kernels of keops-lower-to-nvvm as "
      "host functions in the LLVM dialect, called once per GPU thread (the "
      "GPU emulation of the tests)",
      buildKeOpsGpuEmulationPipeline);
}
