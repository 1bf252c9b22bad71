//===- Ptx.cpp - GPU kernels as PTX -----------------------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the PTX code generator:
//
//   keops module --keops-lower-to-nvvm--> gpu.module of NVVM kernels
//     --gpu-module-to-binary{format=isa}--> gpu.binary holding the PTX
//
// f32 kernels need no CUDA files (math goes through NVVM intrinsics); f64
// transcendental functions come from libdevice, linked when a CUDA toolkit
// is found ($CUDA_HOME, $CUDA_PATH, $CUDA_ROOT or /usr/local/cuda).
//
//===----------------------------------------------------------------------===//

#include "Ptx.h"

#include "keops/Pipelines/Pipelines.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstdlib>

using namespace mlir;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The CUDA toolkit whose libdevice links into f64 kernels ("" if none).
std::string cudaToolkitPath() {
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"})
    if (const char *value = std::getenv(variable))
      if (*value)
        return value;
  llvm::SmallString<64> libdevice("/usr/local/cuda");
  llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
  return llvm::sys::fs::exists(libdevice) ? "/usr/local/cuda" : "";
}

} // namespace

namespace keops::detail {

std::string targetChip(const CompileOptions &options) {
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

llvm::Expected<PtxCode> lowerToPtx(ModuleOp module,
                                   const CompileOptions &options,
                                   const std::string &chip) {
  PassManager pm(module->getContext());
  mlir::keops::KeOpsToNVVMPipelineOptions pipeline;
  pipeline.chip = chip;
  pipeline.blockSize = options.gpuBlockSize;
  pipeline.sumScheme = options.sumScheme;
  pipeline.doubleAccumulator = options.doubleAccumulator;
  pipeline.featureLoopMinDim = options.featureLoopMinDim;
  mlir::keops::buildKeOpsToNVVMPipeline(pm, pipeline);
  if (failed(pm.run(module)))
    return makeError("internal error: lowering to NVVM failed");

  PtxCode code;
  module.walk([&](LLVM::LLVMFuncOp function) {
    if (!function->hasAttr("keops.kernel"))
      return;
    code.entry = function.getSymName().str();
    if (auto size = function->getAttrOfType<DenseI32ArrayAttr>(
            "gpu.known_block_size"))
      code.blockSize = size[0];
  });
  if (code.entry.empty() || code.blockSize <= 0)
    return makeError("internal error: no GPU kernel after lowering");

  PassManager binary(module->getContext());
  GpuModuleToBinaryPassOptions binaryOptions;
  binaryOptions.compilationTarget = "isa";
  binaryOptions.toolkitPath = cudaToolkitPath();
  binary.addPass(createGpuModuleToBinaryPass(binaryOptions));
  if (failed(binary.run(module)))
    return makeError("internal error: PTX generation failed");
  module.walk([&](gpu::BinaryOp op) {
    for (Attribute object : op.getObjects())
      code.ptx = llvm::cast<gpu::ObjectAttr>(object).getObject().str();
  });
  if (code.ptx.find(".extern .func __nv_") != std::string::npos)
    return makeError("this formula needs libdevice (float64 math functions "
                     "on the GPU): set CUDA_HOME to a CUDA toolkit");
  return code;
}

std::string serialize(const PtxCode &code) {
  return std::to_string(code.blockSize) + "\n" + code.entry + "\n" + code.ptx;
}

llvm::Expected<PtxCode> deserialize(llvm::StringRef bytes) {
  PtxCode code;
  auto [size, rest] = bytes.split('\n');
  auto [entry, ptx] = rest.split('\n');
  if (size.getAsInteger(10, code.blockSize) || entry.empty() || ptx.empty())
    return makeError("malformed PTX cache entry");
  code.entry = entry.str();
  code.ptx = ptx.str();
  return code;
}

} // namespace keops::detail
