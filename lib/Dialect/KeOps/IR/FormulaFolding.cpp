//===- FormulaFolding.cpp - Folding of keops formula ops --------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements foldFormulaOp, the folder shared by every formula op:
// constant operands are evaluated in float64 through FormulaOpInterface and
// rounded to the element type; otherwise the algebraic identities below are
// applied where the result keeps the operand's type (no broadcast is lost).
// As in KeOps, x*0 and x-x fold to 0 even though that ignores NaN and inf.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/IR/KeOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::keops;

/// Converts float64 components into a dense attribute of vector type `type`.
static DenseFPElementsAttr makeVectorAttr(VectorType type,
                                          llvm::ArrayRef<double> values) {
  auto elementType = llvm::cast<FloatType>(type.getElementType());
  llvm::SmallVector<llvm::APFloat> floats;
  for (double value : values) {
    llvm::APFloat converted(value);
    bool losesInfo;
    converted.convert(elementType.getFloatSemantics(),
                      llvm::APFloat::rmNearestTiesToEven, &losesInfo);
    floats.push_back(converted);
  }
  return llvm::cast<DenseFPElementsAttr>(DenseElementsAttr::get(type, floats));
}

/// True when `attr` is a constant whose every component equals `value`.
static bool isConstantSplat(Attribute attr, double value) {
  auto dense = llvm::dyn_cast_if_present<DenseFPElementsAttr>(attr);
  return dense && dense.isSplat() &&
         dense.getSplatValue<llvm::APFloat>().convertToDouble() == value;
}

/// Evaluates `op` on constant operands, or returns null.
static Attribute foldConstantOperands(Operation *op,
                                      llvm::ArrayRef<Attribute> operands) {
  llvm::SmallVector<llvm::SmallVector<double>> values;
  for (Attribute attr : operands) {
    auto dense = llvm::dyn_cast_if_present<DenseFPElementsAttr>(attr);
    if (!dense)
      return {};
    values.emplace_back();
    for (const llvm::APFloat &value : dense.getValues<llvm::APFloat>())
      values.back().push_back(value.convertToDouble());
  }
  llvm::SmallVector<double> result;
  llvm::cast<FormulaOpInterface>(op).evaluate(values, result);
  return makeVectorAttr(llvm::cast<VectorType>(op->getResult(0).getType()),
                        result);
}

/// Applies the algebraic identities of the op, or returns null.
static OpFoldResult foldIdentities(Operation *op,
                                   llvm::ArrayRef<Attribute> operands) {
  auto resultType = llvm::cast<VectorType>(op->getResult(0).getType());
  // Keeps operand `index` when it has the result's type.
  auto keep = [&](unsigned index) -> OpFoldResult {
    Value operand = op->getOperand(index);
    return operand.getType() == resultType ? operand : Value();
  };
  auto zero = [&]() -> OpFoldResult {
    return makeVectorAttr(resultType, llvm::SmallVector<double>(
                                          resultType.getDimSize(0), 0.0));
  };
  auto isConstant = [&](unsigned index, double value) {
    return isConstantSplat(operands[index], value);
  };
  return llvm::TypeSwitch<Operation *, OpFoldResult>(op)
      .Case<AddOp>([&](AddOp) -> OpFoldResult {
        // x + 0 = 0 + x = x
        if (isConstant(1, 0.0))
          return keep(0);
        if (isConstant(0, 0.0))
          return keep(1);
        return {};
      })
      .Case<SubOp>([&](SubOp sub) -> OpFoldResult {
        // x - 0 = x;  x - x = 0
        if (isConstant(1, 0.0))
          return keep(0);
        if (sub.getLhs() == sub.getRhs())
          return zero();
        return {};
      })
      .Case<MulOp>([&](MulOp) -> OpFoldResult {
        // x * 1 = 1 * x = x;  x * 0 = 0 * x = 0
        if (isConstant(1, 1.0))
          return keep(0);
        if (isConstant(0, 1.0))
          return keep(1);
        if (isConstant(0, 0.0) || isConstant(1, 0.0))
          return zero();
        return {};
      })
      .Case<DivOp>([&](DivOp) -> OpFoldResult {
        // x / 1 = x
        return isConstant(1, 1.0) ? keep(0) : OpFoldResult();
      })
      .Case<NegOp>([&](NegOp neg) -> OpFoldResult {
        // -(-x) = x
        if (auto inner = neg.getOperand().getDefiningOp<NegOp>())
          return inner.getOperand();
        return {};
      })
      .Case<PowOp>([&](PowOp pow) -> OpFoldResult {
        // x^1 = x
        return pow.getExponent() == 1 ? keep(0) : OpFoldResult();
      })
      .Default([](Operation *) { return OpFoldResult(); });
}

OpFoldResult keops::foldFormulaOp(Operation *op,
                                  llvm::ArrayRef<Attribute> operands) {
  if (Attribute folded = foldConstantOperands(op, operands))
    return folded;
  return foldIdentities(op, operands);
}
