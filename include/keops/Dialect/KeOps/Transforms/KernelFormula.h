//===- KernelFormula.h - What every kernel generator shares -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the pieces that the CPU tiler and the GPU conversion
// share: the input invariant of a kernel function (one keops.reduce of its
// arguments, canonicalized to reduce over j), the sum scheme option and the
// evaluation of the formula for the current pairs.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_TRANSFORMS_KERNELFORMULA_H
#define KEOPS_DIALECT_KEOPS_TRANSFORMS_KERNELFORMULA_H

#include "keops/Dialect/KeOps/Transforms/Accumulator.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <optional>

namespace mlir::keops {

/// The keops.reduce of `func` when its body is one keops.reduce of its
/// arguments, in order, rewritten to reduce over j; otherwise an error on
/// `func` naming `passName`, and failure.
FailureOr<ReduceOp> getKernelReduce(func::FuncOp func, llvm::StringRef passName);

/// The sum scheme named `name` (block_sum, kahan_scheme, direct_sum).
std::optional<SumScheme> parseSumScheme(llvm::StringRef name);

/// The element type of the formula values of `reduce`.
FloatType getFormulaElementType(ReduceOp reduce);

/// The feature dimension of input `k` of `reduce`.
int64_t getInputDim(ReduceOp reduce, unsigned k);

/// Evaluates the formula of `reduce` (and its weight, when it has one) on
/// the components in `values` (those of the region arguments, filled by the
/// caller; the op results are added). The results are converted to
/// `accType`.
std::pair<Components, Components>
emitPairFormula(LaneEmitter &e, ReduceOp reduce,
                llvm::DenseMap<Value, Components> &values, FloatType accType);

} // namespace mlir::keops

#endif // KEOPS_DIALECT_KEOPS_TRANSFORMS_KERNELFORMULA_H
