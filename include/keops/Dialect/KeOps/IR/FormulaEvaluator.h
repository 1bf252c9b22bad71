//===- FormulaEvaluator.h - float64 evaluation of a formula -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the float64 interpreter of a keops.reduce region: given
// the rows of the variables for one (i, j) pair, it evaluates every formula
// op through FormulaOpInterface. It is the reference that compiled kernels
// are checked against, independent of tiling and code generation.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_IR_FORMULAEVALUATOR_H
#define KEOPS_DIALECT_KEOPS_IR_FORMULAEVALUATOR_H

#include "keops/Dialect/KeOps/IR/KeOps.h"

namespace mlir::keops {

/// Evaluates the region of `reduce` for one (i, j) pair, where `rows[k]` is
/// the row of input k. Returns the yielded values: the formula, then the
/// weight for weighted reductions.
llvm::SmallVector<llvm::SmallVector<double>>
evaluateFormula(ReduceOp reduce, llvm::ArrayRef<llvm::SmallVector<double>> rows);

} // namespace mlir::keops

#endif // KEOPS_DIALECT_KEOPS_IR_FORMULAEVALUATOR_H
