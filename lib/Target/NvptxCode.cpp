//===- NvptxCode.cpp - GPU kernels as PTX and cubin -------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the NVIDIA target:
//
//   keops module --keops-lower-to-nvvm--> gpu.module of NVVM kernels
//     --gpu-module-to-binary{format=isa}--> gpu.binary holding the PTX
//     --ptxas -arch=sm_XY (when found)--> cubin
//
// f32 kernels need no CUDA files (math goes through NVVM intrinsics); f64
// transcendental functions come from libdevice, linked when a CUDA toolkit
// is found. Without ptxas the driver compiles the PTX when it loads it.
//
//===----------------------------------------------------------------------===//

#include "keops/Target/NvptxCode.h"

#include "TemporaryFile.h"

#include "keops/Conversion/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstdlib>

using namespace mlir;

namespace keops::target {
namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

} // namespace

std::string cudaToolkitPath() {
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"})
    if (const char *value = std::getenv(variable))
      if (*value)
        return value;
  llvm::SmallString<64> libdevice("/usr/local/cuda");
  llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
  return llvm::sys::fs::exists(libdevice) ? "/usr/local/cuda" : "";
}

std::string findPtxas() {
  if (const char *value = std::getenv("KEOPS_PTXAS"))
    if (*value) {
      if (llvm::StringRef(value) == "off")
        return "";
      auto program = llvm::sys::findProgramByName(value);
      return program ? *program : value;
    }
  std::string toolkit = cudaToolkitPath();
  if (!toolkit.empty()) {
    llvm::SmallString<128> path(toolkit);
    llvm::sys::path::append(path, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(path))
      return path.str().str();
  }
  auto onPath = llvm::sys::findProgramByName("ptxas");
  return onPath ? *onPath : "";
}

llvm::Expected<std::string> assembleCubin(llvm::StringRef ptxas,
                                          llvm::StringRef ptx,
                                          llvm::StringRef chip) {
  TemporaryFile input("ptx"), output("cubin"), log("log");
  for (const TemporaryFile *file : {&input, &output, &log})
    if (file->error)
      return llvm::errorCodeToError(file->error);
  {
    std::error_code error;
    llvm::raw_fd_ostream stream(input.path, error);
    if (error)
      return llvm::errorCodeToError(error);
    stream << ptx;
  }
  std::string arch = ("-arch=" + chip).str();
  llvm::SmallVector<llvm::StringRef> args = {
      ptxas, arch, "-O3", "-o", output.path, input.path};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log.path.str(),
                                                log.path.str()};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects,
                                         /*SecondsToWait=*/120, 0, &message);
  if (status != 0) {
    auto report = readFile(log.path);
    std::string text = report ? *report : "";
    if (!report)
      llvm::consumeError(report.takeError());
    return makeError("internal error: " + ptxas + " failed on the PTX of " +
                     chip + (message.empty() ? "" : ": " + message) +
                     (text.empty() ? "" : "\n" + text));
  }
  return readFile(output.path);
}

LLVM::LLVMFuncOp findKernel(ModuleOp module, NvptxCode &code) {
  LLVM::LLVMFuncOp kernel;
  module.walk([&](LLVM::LLVMFuncOp function) {
    if (!function->hasAttr("keops.kernel"))
      return;
    kernel = function;
    code.entry = function.getSymName().str();
    if (auto size = function->getAttrOfType<DenseI32ArrayAttr>(
            mlir::keops::kKnownBlockSizeAttr))
      code.blockSize = size[0];
    if (auto rows = function->getAttrOfType<IntegerAttr>(
            mlir::keops::kRowsPerThreadAttr))
      code.rowsPerThread = rows.getInt();
  });
  if (code.blockSize <= 0 || code.rowsPerThread <= 0)
    return {};
  return kernel;
}

llvm::Expected<NvptxCode>
lowerToNvptx(ModuleOp module,
             const mlir::keops::KeOpsToNVVMPipelineOptions &options,
             llvm::StringRef ptxas) {
  PassManager pm(module->getContext());
  mlir::keops::buildKeOpsToNVVMPipeline(pm, options);
  if (failed(pm.run(module)))
    return makeError("internal error: lowering to NVVM failed");

  NvptxCode code;
  code.chip = options.chip;
  if (!findKernel(module, code))
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
  if (ptxas.empty())
    return code;
  auto assembled = assembleCubin(ptxas, code.ptx, code.chip);
  if (!assembled)
    return assembled.takeError();
  code.cubin = std::move(*assembled);
  return code;
}

std::string serialize(const NvptxCode &code) {
  return std::to_string(code.blockSize) + "\n" +
         std::to_string(code.rowsPerThread) + "\n" + code.chip + "\n" +
         code.entry + "\n" + std::to_string(code.ptx.size()) + "\n" +
         code.ptx + code.cubin;
}

llvm::Expected<NvptxCode> deserialize(llvm::StringRef bytes) {
  NvptxCode code;
  llvm::SmallVector<llvm::StringRef, 6> fields;
  bytes.split(fields, '\n', /*MaxSplit=*/5);
  size_t ptxSize = 0;
  if (fields.size() != 6 || fields[0].getAsInteger(10, code.blockSize) ||
      fields[1].getAsInteger(10, code.rowsPerThread) ||
      code.rowsPerThread <= 0 || fields[2].empty() || fields[3].empty() ||
      fields[4].getAsInteger(10, ptxSize) || ptxSize == 0 ||
      ptxSize > fields[5].size())
    return makeError("malformed GPU kernel cache entry");
  code.chip = fields[2].str();
  code.entry = fields[3].str();
  code.ptx = fields[5].take_front(ptxSize).str();
  code.cubin = fields[5].drop_front(ptxSize).str();
  return code;
}

} // namespace keops::target
