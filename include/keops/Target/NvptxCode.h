//===- NvptxCode.h - GPU kernels as PTX and cubin ---------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the NVIDIA target of KeOps-MLIR: a canonical keops
// module lowered by keops-lower-to-nvvm and gpu-module-to-binary to PTX,
// assembled to a cubin by the toolkit's ptxas when there is one, with what
// the runtime needs to launch it.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_TARGET_NVPTXCODE_H
#define KEOPS_TARGET_NVPTXCODE_H

#include "keops/Pipelines/Pipelines.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace keops::target {

/// A GPU kernel: its PTX, the cubin of `chip` (empty: none), its symbol,
/// the threads per block it was generated for and the rows each of them
/// computes.
struct NvptxCode {
  std::string chip, ptx, cubin, entry;
  int32_t blockSize = 0, rowsPerThread = 0;
};

/// The kernel of a module lowered by keops-lower-to-nvvm or
/// keops-lower-to-gpu-emulation: the llvm.func marked keops.kernel, whose
/// symbol, threads per block and rows per thread go into `code`; null when
/// there is none.
mlir::LLVM::LLVMFuncOp findKernel(mlir::ModuleOp module, NvptxCode &code);

/// Lowers `module` (one keops.reduce function) to PTX for `options.chip`;
/// with a `ptxas` (see findPtxas; "": none), also assembles the cubin.
llvm::Expected<NvptxCode>
lowerToNvptx(mlir::ModuleOp module,
             const mlir::keops::KeOpsToNVVMPipelineOptions &options,
             llvm::StringRef ptxas);

/// The CUDA toolkit whose libdevice and ptxas the target uses: $CUDA_HOME,
/// $CUDA_PATH, $CUDA_ROOT, else /usr/local/cuda when it holds libdevice
/// ("" if none).
std::string cudaToolkitPath();

/// The ptxas to assemble cubins with: $KEOPS_PTXAS (a path, or a name
/// looked up on PATH; "off": none), else the toolkit's, else the first on
/// PATH ("" if none).
std::string findPtxas();

/// Assembles `ptx` for `chip` (sm_XY) with `ptxas`; the error carries
/// ptxas's report.
llvm::Expected<std::string> assembleCubin(llvm::StringRef ptxas,
                                          llvm::StringRef ptx,
                                          llvm::StringRef chip);

/// NvptxCode as one string for the disk cache, and back.
std::string serialize(const NvptxCode &code);
llvm::Expected<NvptxCode> deserialize(llvm::StringRef bytes);

} // namespace keops::target

#endif // KEOPS_TARGET_NVPTXCODE_H
