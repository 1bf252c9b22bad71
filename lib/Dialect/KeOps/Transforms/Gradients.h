//===- Gradients.h - Derivative rules of formula ops ------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the table of reverse-mode derivative rules, one per
// formula op, used by keops-autodiff.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_DIALECT_KEOPS_TRANSFORMS_GRADIENTS_H
#define KEOPS_LIB_DIALECT_KEOPS_TRANSFORMS_GRADIENTS_H

#include "keops/Dialect/KeOps/IR/FormulaBuilder.h"

namespace mlir::keops {

/// Appends to `operandAdjoints` the adjoint of each operand of `op` given
/// the adjoint `adjoint` of its result (null when it is zero). An adjoint
/// may have the result's dimension where its operand was broadcast; the
/// caller sums it. Fails for an op without a derivative rule.
LogicalResult emitGradient(Operation *op, FormulaBuilder &g, Value adjoint,
                           llvm::SmallVectorImpl<Value> &operandAdjoints);

} // namespace mlir::keops

#endif // KEOPS_LIB_DIALECT_KEOPS_TRANSFORMS_GRADIENTS_H
