//===- ShapeRules.h - Dimension rules of keops formula ops -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the rules that give the dimension of a formula op's
// result from its operands' dimensions, or an error message. Op type
// inference (and so the verifiers) and the formula importer share them, so
// the importer can report a bad formula with its position before it builds
// any op.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_IR_SHAPERULES_H
#define KEOPS_DIALECT_KEOPS_IR_SHAPERULES_H

#include "mlir/IR/Location.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <optional>

namespace mlir::keops {
namespace rules {

/// KeOps's broadcasting: all dimensions equal, or 1 (broadcast).
llvm::Expected<int64_t> broadcastDim(llvm::ArrayRef<int64_t> dims);
/// Dimension 1 when the operands broadcast (SqDist).
llvm::Expected<int64_t> broadcastToScalar(llvm::ArrayRef<int64_t> dims);
/// Dimension 1 when both operands have the same dimension (Scalprod).
llvm::Expected<int64_t> sameDim(llvm::ArrayRef<int64_t> dims);
/// Dimension 1 when `index` is a component of a vector of dimension `dim`.
llvm::Expected<int64_t> elemDim(int64_t dim, uint64_t index);
/// `length` when [start, start + length) lies within [0, dim).
llvm::Expected<int64_t> extractDim(int64_t dim, uint64_t start,
                                   uint64_t length);

/// `dim` when the operand is a scalar (OneHot).
llvm::Expected<int64_t> oneHotDim(int64_t operandDim, uint64_t dim);

} // namespace rules

/// Infers the vector<D x T> result type of a formula op: the operands must
/// be vectors of one element type T, and `rule` gives D from their
/// dimensions. Errors are emitted at `location` when it is given.
llvm::LogicalResult inferFormulaType(
    std::optional<Location> location, ValueRange operands,
    llvm::function_ref<llvm::Expected<int64_t>(llvm::ArrayRef<int64_t>)> rule,
    llvm::SmallVectorImpl<Type> &inferredReturnTypes);

/// Folds a formula op: evaluates it when every operand is constant and
/// otherwise applies the algebraic identities (x*1, x+0, x-x, -(-x), ...).
OpFoldResult foldFormulaOp(Operation *op, llvm::ArrayRef<Attribute> operands);

} // namespace mlir::keops

#endif // KEOPS_DIALECT_KEOPS_IR_SHAPERULES_H
