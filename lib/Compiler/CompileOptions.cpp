//===- CompileOptions.cpp - Compile options checked and resolved -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the option steps of CompileSteps.h: the compile
// options checked, resolved for the target, keyed, and turned into the
// options of the kernel pipelines.
//
//===----------------------------------------------------------------------===//

#include "CompileSteps.h"

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Target/GpuEmulation.h"
#include "keops/Target/HostCode.h"
#include "keops/Target/NvptxCode.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
namespace mk = mlir::keops;

namespace keops::detail {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Error checkOptions(const ::keops::CompileOptions &options) {
  if (!llvm::is_contained({"float16", "float32", "float64"}, options.dtype))
    return makeError("dtype must be float16, float32 or float64, got '" +
                     options.dtype + "'");
  if (!mk::symbolizeSumScheme(options.sumScheme))
    return makeError("sum_scheme must be block_sum, kahan_scheme or "
                     "direct_sum, got '" +
                     options.sumScheme + "'");
  if (options.lanes < 0 ||
      (options.lanes && !llvm::isPowerOf2_64(options.lanes)))
    return makeError("lanes must be 0 or a power of 2");
  if (options.tileJ < 1)
    return makeError("tile_j must be >= 1");
  if (options.rowsPerBlock < 1)
    return makeError("rows_per_block must be >= 1");
  if (options.featureLoopMinDim < 0)
    return makeError("feature_loop_min_dim must be >= 0");
  if (!llvm::is_contained({"cpu", "gpu", "auto"}, options.backend))
    return makeError("backend must be cpu, gpu or auto, got '" +
                     options.backend + "'");
  if (options.gpuBlockSize < 32 || options.gpuBlockSize > 1024 ||
      options.gpuBlockSize % 32)
    return makeError("gpu_block_size must be a multiple of 32 in [32, 1024], "
                     "got " +
                     llvm::Twine(options.gpuBlockSize));
  if (options.gpuRowsPerThread < 0 || options.gpuRowsPerThread > 16)
    return makeError("gpu_rows_per_thread must be in [0, 16] (0: automatic), "
                     "got " +
                     llvm::Twine(options.gpuRowsPerThread));
  if (!options.gpuArch.empty() &&
      !llvm::StringRef(options.gpuArch).starts_with("sm_"))
    return makeError("gpu_arch must look like sm_90, got '" +
                     options.gpuArch + "'");
  return llvm::Error::success();
}

/// The GPU architecture to compile for: options.gpuArch, else that of GPU 0,
/// else sm_90.
static std::string targetChip(const ::keops::CompileOptions &options) {
  if (!options.gpuArch.empty())
    return options.gpuArch;
  int32_t major = 0, minor = 0;
  if (keops_rt_status_t status =
          keops_rt_gpu_device_info(0, nullptr, 0, &major, &minor)) {
    keops_rt_status_free(status);
    return "sm_90";
  }
  return "sm_" + std::to_string(major) + std::to_string(minor);
}

llvm::Expected<::keops::CompileOptions>
resolveTarget(const ::keops::CompileOptions &options) {
  if (llvm::Error error = checkOptions(options))
    return std::move(error);
  ::keops::CompileOptions resolved = options;
  if (options.backend != "cpu") {
    auto count = ::keops::gpuDeviceCount();
    if (!count && options.backend == "gpu")
      return count.takeError();
    if (!count)
      llvm::consumeError(count.takeError());
    resolved.backend = count ? "gpu" : "cpu";
  }
  if (resolved.backend == "gpu")
    resolved.gpuArch = targetChip(options);
  if (resolved.dtype == "float16" && resolved.backend != "gpu")
    return makeError("float16 runs on the GPU only (backend 'gpu'), and " +
                     llvm::Twine(options.backend == "cpu"
                                     ? "the backend is 'cpu'"
                                     : "there is no usable GPU"));
  // As many lanes as the host's vector registers hold (16 f32 on AVX-512,
  // 8 on AVX2).
  if (resolved.backend == "cpu" && resolved.lanes == 0)
    resolved.lanes = lanesFor(options, ::keops::target::hostVectorBytes());
  return resolved;
}

llvm::Expected<::keops::CompileOptions>
gpuBundleOptions(const ::keops::CompileOptions &options) {
  if (llvm::Error error = checkOptions(options))
    return std::move(error);
  ::keops::CompileOptions gpu = options;
  gpu.backend = "gpu";
  if (gpu.gpuArch.empty())
    gpu.gpuArch = "sm_90";
  return gpu;
}

/// The bytes of an element of options.dtype on the CPU.
static int64_t elementBytes(const ::keops::CompileOptions &options) {
  return options.dtype == "float64" ? 8 : 4;
}

int64_t lanesFor(const ::keops::CompileOptions &options, int64_t vectorBytes) {
  return vectorBytes / elementBytes(options);
}

std::string optionsKey(const ::keops::CompileOptions &options) {
  return options.dtype + "|" + options.sumScheme + "|" +
         (options.doubleAccumulator ? "f64acc" : "acc") + "|" +
         std::to_string(options.lanes) + "|" + std::to_string(options.tileJ) +
         "|" + std::to_string(options.rowsPerBlock) + "|" +
         std::to_string(options.featureLoopMinDim) + "|" + options.backend +
         (options.backend == "gpu"
              ? "|" + options.gpuArch + "|" +
                    std::to_string(options.gpuBlockSize) + "|" +
                    std::to_string(options.gpuRowsPerThread) +
                    (::keops::target::gpuEmulationRequested() ? "|emulated"
                                                              : "") +
                    (options.gpuCubin ? "|cubin" : "")
              : std::string());
}

/// The options both kernel pipelines take, from the compile options.
template <typename Derived>
static void setKernelOptions(mk::KernelPipelineOptions<Derived> &pipeline,
                      const ::keops::CompileOptions &options) {
  pipeline.sumScheme = options.sumScheme;
  pipeline.doubleAccumulator = options.doubleAccumulator;
  pipeline.featureLoopMinDim = options.featureLoopMinDim;
}

/// Sets the keops-lower-to-cpu options of the compile options (lanes
/// resolved): as many vector registers as AVX-512 (32) when the lanes fill
/// 64 bytes, else AVX2's 16.
static void setCpuOptions(mk::KeOpsToCPUPipelineOptions &pipeline,
                   const ::keops::CompileOptions &options) {
  setKernelOptions(pipeline, options);
  pipeline.lanes = options.lanes;
  pipeline.tileJ = options.tileJ;
  pipeline.rowsPerBlock = options.rowsPerBlock;
  int64_t vectorBytes = options.lanes * elementBytes(options);
  pipeline.vectorRegisters = vectorBytes >= 64 ? 32 : 16;
}

void setGpuOptions(mk::KeOpsToNVVMPipelineOptions &pipeline,
                   const ::keops::CompileOptions &options) {
  setKernelOptions(pipeline, options);
  pipeline.chip = options.gpuArch;
  pipeline.blockSize = options.gpuBlockSize;
  pipeline.rowsPerThread = options.gpuRowsPerThread;
}

mk::KeOpsTileReductionsPassOptions
tilingOptions(const ::keops::CompileOptions &options) {
  if (options.backend == "gpu") {
    mk::KeOpsToNVVMPipelineOptions pipeline;
    setGpuOptions(pipeline, options);
    return mk::getGpuTilingOptions(pipeline);
  }
  mk::KeOpsToCPUPipelineOptions pipeline;
  setCpuOptions(pipeline, options);
  return mk::getCpuTilingOptions(pipeline);
}

llvm::Error lowerForCpu(ModuleOp module,
                        const ::keops::CompileOptions &options) {
  mk::KeOpsToCPUPipelineOptions pipeline;
  setCpuOptions(pipeline, options);
  PassManager pm(module.getContext());
  mk::buildKeOpsToCPUPipeline(pm, pipeline);
  if (failed(pm.run(module)))
    return makeError("internal error: lowering to the LLVM dialect failed");
  return llvm::Error::success();
}

} // namespace keops::detail
