//===- KeOpsOps.cpp - Formula ops of the keops dialect ----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the generated op classes and what of the formula ops
// ODS does not generate (keops.constant). Formula op families are defined in
// KeOpsOps.td; keops.reduce lives in ReduceOp.cpp.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/IR/KeOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::keops;

#include "keops/Dialect/KeOps/IR/KeOpsInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "keops/Dialect/KeOps/IR/KeOpsOps.cpp.inc"

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

void ConstantOp::evaluate(llvm::ArrayRef<llvm::SmallVector<double>>,
                          llvm::SmallVectorImpl<double> &result) {
  for (const llvm::APFloat &value : getValue().getValues<llvm::APFloat>())
    result.push_back(value.convertToDouble());
}

//===----------------------------------------------------------------------===//
// GradOp
//===----------------------------------------------------------------------===//

LogicalResult GradOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                       Adaptor adaptor,
                                       llvm::SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getVariable().getType());
  return success();
}

LogicalResult GradOp::verify() {
  auto argument = llvm::dyn_cast<BlockArgument>(getVariable());
  if (!argument || !llvm::isa_and_present<ReduceOp>(
                       argument.getOwner()->getParentOp()))
    return emitOpError("differentiates with respect to a variable: a region "
                       "argument of the enclosing keops.reduce");
  auto formulaType = llvm::cast<VectorType>(getFormula().getType());
  auto gradientType = llvm::cast<VectorType>(getGradient().getType());
  if (formulaType != gradientType)
    return emitOpError() << "gradient input " << gradientType
                         << " must have the formula's type " << formulaType;
  if (formulaType.getElementType() !=
      llvm::cast<VectorType>(getVariable().getType()).getElementType())
    return emitOpError("formula and variable must have one element type");
  return success();
}
