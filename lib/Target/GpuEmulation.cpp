//===- GpuEmulation.cpp - GPU kernels run on the host -----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the GPU emulation of the tests: the kernels of
// keops-lower-to-gpu-emulation, JIT-compiled, described by an image text
// that the emulating libcuda.so.1 of the tests loads; or compiled into an
// object for a kernel library.
//
//===----------------------------------------------------------------------===//

#include "keops/Target/GpuEmulation.h"

#include "keops/Conversion/Passes.h"
#include "keops/Target/HostCode.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

using namespace mlir;

namespace keops::target {

bool gpuEmulationRequested() {
  const char *value = std::getenv("KEOPS_GPU_EMULATION");
  return value && *value && std::strcmp(value, "0") != 0;
}

namespace {

/// The kernel of `module` lowered for the emulation: its code (entry, block
/// size, rows per thread), parameter count and workgroup bytes.
struct EmulatedKernel {
  NvptxCode code;
  int64_t parameters = 0, workgroupBytes = 0;
};

llvm::Expected<EmulatedKernel>
lowerForEmulation(ModuleOp module,
                  const mlir::keops::KeOpsToNVVMPipelineOptions &options) {
  PassManager pm(module->getContext());
  mlir::keops::buildKeOpsGpuEmulationPipeline(pm, options);
  if (failed(pm.run(module)))
    return llvm::createStringError("internal error: lowering the GPU kernel "
                                   "to the host failed");
  EmulatedKernel result;
  result.code.chip = options.chip;
  LLVM::LLVMFuncOp kernel = findKernel(module, result.code);
  if (!kernel)
    return llvm::createStringError("internal error: no host GPU kernel after "
                                   "lowering");
  if (auto bytes =
          kernel->getAttrOfType<IntegerAttr>(mlir::keops::kWorkgroupBytesAttr))
    result.workgroupBytes = bytes.getInt();
  // After the barrier, 3 indices and the workgroup buffer's 5 fields.
  result.parameters =
      kernel.getNumArguments() - 4 - (result.workgroupBytes ? 5 : 0);
  return result;
}

} // namespace

llvm::Expected<NvptxCode>
emulateOnHost(ModuleOp module,
              const mlir::keops::KeOpsToNVVMPipelineOptions &options) {
  auto kernel = lowerForEmulation(module, options);
  if (!kernel)
    return kernel.takeError();
  NvptxCode code = kernel->code;
  auto jit = jitModule(module, code.entry, nullptr, /*cInterface=*/false);
  if (!jit)
    return jit.takeError();
  // The code lives as long as the process: a kernel of the runtime holds
  // only the image text.
  static std::mutex mutex;
  static std::vector<JitCode> kept;
  {
    std::lock_guard<std::mutex> lock(mutex);
    kept.push_back(*jit);
  }
  code.ptx = llvm::formatv("keops-host-kernel {0} {1} {2}",
                           reinterpret_cast<uintptr_t>(jit->entry),
                           kernel->parameters, kernel->workgroupBytes)
                 .str();
  return code;
}

llvm::Expected<EmulatedObject>
compileEmulatedObject(ModuleOp module,
                      const mlir::keops::KeOpsToNVVMPipelineOptions &options,
                      llvm::StringRef symbol) {
  auto kernel = lowerForEmulation(module, options);
  if (!kernel)
    return kernel.takeError();
  auto object = compileObject(module, kernel->code.entry, symbol, "native");
  if (!object)
    return object.takeError();
  EmulatedObject result{kernel->code, std::move(*object), kernel->parameters,
                        kernel->workgroupBytes};
  result.code.entry = symbol.str();
  return result;
}

} // namespace keops::target
