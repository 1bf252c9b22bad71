//===- PackedEntry.h - Packed entry points of kernels -----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the packed entry point of a kernel in the LLVM
// dialect: `void entry(void **args)`, which calls the kernel's C interface
// with the arguments that args[k] point to (ExecutionEngine's packed
// convention, which the runtime's keops_rt_cpu_entry_t follows). The
// whole-module lowering (keops-define-kernel-entries) and the objects of
// kernel libraries (keops::target::compileObject) both define it here.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_CONVERSION_KEOPSTORUNTIME_PACKEDENTRY_H
#define KEOPS_CONVERSION_KEOPSTORUNTIME_PACKEDENTRY_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::keops {

/// Gives `entry`, a declared `llvm.func (!llvm.ptr) -> ()`, the body that
/// loads each argument of `target` through its pointer in args and calls
/// `target`.
void definePackedEntry(LLVM::LLVMFuncOp entry, LLVM::LLVMFuncOp target);

} // namespace mlir::keops

#endif // KEOPS_CONVERSION_KEOPSTORUNTIME_PACKEDENTRY_H
