//===- Ptx.h - GPU kernels as PTX -------------------------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the GPU code generator of the compiler API: a
// canonical keops module lowered by keops-lower-to-nvvm and
// gpu-module-to-binary to PTX, with what the runtime needs to launch it.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_COMPILER_PTX_H
#define KEOPS_LIB_COMPILER_PTX_H

#include "keops/Compiler/Compiler.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace keops::detail {

struct PtxCode {
  std::string ptx;
  std::string entry;
  int32_t blockSize = 0;
};

/// Lowers `module` (one keops.reduce function) to PTX for `chip` (sm_XY).
llvm::Expected<PtxCode> lowerToPtx(mlir::ModuleOp module,
                                   const CompileOptions &options,
                                   const std::string &chip);

/// The GPU architecture to compile for: options.gpuArch, else that of GPU 0,
/// else sm_90.
std::string targetChip(const CompileOptions &options);

/// PtxCode as one string for the disk cache, and back.
std::string serialize(const PtxCode &code);
llvm::Expected<PtxCode> deserialize(llvm::StringRef bytes);

} // namespace keops::detail

#endif // KEOPS_LIB_COMPILER_PTX_H
