//===- FormulaEvaluator.cpp - float64 evaluation of a formula ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements evaluateFormula: a walk over the region in program
// order, each op evaluated by its FormulaOpInterface::evaluate.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/IR/FormulaEvaluator.h"

#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::keops;

llvm::SmallVector<llvm::SmallVector<double>>
keops::evaluateFormula(ReduceOp reduce,
                       llvm::ArrayRef<llvm::SmallVector<double>> rows) {
  Block &body = reduce.getBody().front();
  llvm::DenseMap<Value, llvm::SmallVector<double>> values;
  for (auto [argument, row] : llvm::zip_equal(body.getArguments(), rows))
    values[argument] = row;
  llvm::SmallVector<llvm::SmallVector<double>> operands;
  for (Operation &op : body.without_terminator()) {
    operands.clear();
    for (Value operand : op.getOperands())
      operands.push_back(values.at(operand));
    llvm::SmallVector<double> result;
    llvm::cast<FormulaOpInterface>(op).evaluate(operands, result);
    values[op.getResult(0)] = std::move(result);
  }
  return llvm::map_to_vector(reduce.getYield().getValues(),
                             [&](Value v) { return values.at(v); });
}
