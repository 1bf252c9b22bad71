//===- KernelFunctions.h - Functions the kernel pipelines take --*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the input invariant of the kernel pipelines: a kernel
// function, whose body is one keops.reduce of its arguments (made of any
// reduction by keops-outline-reductions), canonicalized to reduce over j.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_TRANSFORMS_KERNELFUNCTIONS_H
#define KEOPS_DIALECT_KEOPS_TRANSFORMS_KERNELFUNCTIONS_H

#include "keops/Dialect/KeOps/IR/KeOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::keops {

/// Adds the pattern rewriting `keops.reduce ... over i` as a reduction over
/// j with the i and j categories swapped.
void populateKeOpsReduceOverJPatterns(RewritePatternSet &patterns);

/// Whether `func` is a kernel function: its body is one keops.reduce of its
/// arguments, in order, and the return (keops-outline-reductions makes
/// every reduction one).
bool isKernelFunction(func::FuncOp func);

/// The keops.reduce of `func` when it is a kernel function, rewritten to
/// reduce over j; otherwise an error on `func` naming `passName`, and
/// failure.
FailureOr<ReduceOp> getKernelReduce(func::FuncOp func, llvm::StringRef passName);

} // namespace mlir::keops

#endif // KEOPS_DIALECT_KEOPS_TRANSFORMS_KERNELFUNCTIONS_H
