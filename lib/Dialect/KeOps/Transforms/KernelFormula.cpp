//===- KernelFormula.cpp - What every kernel generator shares ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/Transforms/KernelFormula.h"

#include "keops/Dialect/KeOps/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace mlir::keops;

FailureOr<ReduceOp> keops::getKernelReduce(func::FuncOp func,
                                           llvm::StringRef passName) {
  llvm::SmallVector<ReduceOp> reduces(func.getOps<ReduceOp>());
  Block &body = func.getBody().front();
  if (reduces.size() != 1 || !llvm::hasSingleElement(func.getBody()) ||
      body.getOperations().size() != 2 ||
      !llvm::equal(reduces.front().getInputs(), func.getArguments()))
    return func.emitOpError()
           << passName
           << " expects a function whose body is one keops.reduce of its "
              "arguments, in order";
  ReduceOp reduce = reduces.front();
  RewritePatternSet patterns(func.getContext());
  populateKeOpsReduceOverJPatterns(patterns);
  if (failed(applyOpPatternsGreedily({reduce.getOperation()},
                                     std::move(patterns))))
    return failure();
  return reduce;
}

std::optional<SumScheme> keops::parseSumScheme(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<SumScheme>>(name)
      .Case("block_sum", SumScheme::BlockSum)
      .Case("kahan_scheme", SumScheme::KahanScheme)
      .Case("direct_sum", SumScheme::DirectSum)
      .Default(std::nullopt);
}

FloatType keops::getFormulaElementType(ReduceOp reduce) {
  return llvm::cast<FloatType>(
      llvm::cast<VectorType>(reduce.getYield().getValues()[0].getType())
          .getElementType());
}

int64_t keops::getInputDim(ReduceOp reduce, unsigned k) {
  return llvm::cast<RankedTensorType>(reduce.getInputs()[k].getType())
      .getShape()
      .back();
}

std::pair<Components, Components>
keops::emitPairFormula(LaneEmitter &e, ReduceOp reduce,
                       llvm::DenseMap<Value, Components> &values,
                       FloatType accType) {
  Block &body = reduce.getBody().front();
  for (Operation &op : body.without_terminator()) {
    llvm::SmallVector<Components> operands;
    for (Value operand : op.getOperands())
      operands.push_back(values.at(operand));
    Components result;
    llvm::cast<FormulaOpInterface>(op).emitLanes(e, operands, result);
    values[op.getResult(0)] = std::move(result);
  }
  auto yielded = reduce.getYield().getValues();
  auto convert = [&](Value v) {
    Components components = values.at(v);
    for (Value &c : components) {
      auto type = llvm::dyn_cast<VectorType>(c.getType());
      Type target = type ? Type(VectorType::get(type.getShape(), accType))
                         : Type(accType);
      if (c.getType() != target)
        c = arith::ExtFOp::create(e.getBuilder(), e.getLoc(), target, c);
    }
    return components;
  };
  return {convert(yielded[0]),
          yielded.size() > 1 ? convert(yielded[1]) : Components()};
}
