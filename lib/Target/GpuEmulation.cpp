//===- GpuEmulation.cpp - GPU kernels run on the host -----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the GPU emulation of the tests: the kernels of
// keops-lower-to-gpu-emulation, JIT-compiled, described by an image text
// that the emulating libcuda.so.1 of the tests loads.
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

llvm::Expected<NvptxCode>
emulateOnHost(ModuleOp module,
              const mlir::keops::KeOpsToNVVMPipelineOptions &options) {
  PassManager pm(module->getContext());
  mlir::keops::buildKeOpsGpuEmulationPipeline(pm, options);
  if (failed(pm.run(module)))
    return llvm::createStringError("internal error: lowering the GPU kernel "
                                   "to the host failed");
  NvptxCode code;
  code.chip = options.chip;
  LLVM::LLVMFuncOp kernel = findKernel(module, code);
  if (!kernel)
    return llvm::createStringError("internal error: no host GPU kernel after "
                                   "lowering");
  int64_t workgroupBytes = 0;
  if (auto bytes =
          kernel->getAttrOfType<IntegerAttr>(mlir::keops::kWorkgroupBytesAttr))
    workgroupBytes = bytes.getInt();
  // After the barrier, 3 indices and the workgroup buffer's 5 fields.
  int64_t parameters =
      kernel.getNumArguments() - 4 - (workgroupBytes ? 5 : 0);
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
                           reinterpret_cast<uintptr_t>(jit->entry), parameters,
                           workgroupBytes)
                 .str();
  return code;
}

} // namespace keops::target
