//===- KernelFormula.cpp - What every kernel generator shares ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/Transforms/KernelFormula.h"

#include "keops/Dialect/KeOps/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
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

static Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// base * stride + k.
static Value flatIndex(OpBuilder &b, Location loc, Value base, int64_t stride,
                       int64_t k) {
  return arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, base, indexConstant(b, loc, stride)),
      indexConstant(b, loc, k));
}

Components keops::loadRowComponents(OpBuilder &b, Location loc,
                                    ReduceOp reduce, unsigned k, Value buffer,
                                    Value row, Type laneType) {
  int64_t dim = getInputDim(reduce, k);
  Value base = row ? arith::MulIOp::create(b, loc, row,
                                           indexConstant(b, loc, dim))
                   : indexConstant(b, loc, 0);
  Components components;
  for (int64_t d = 0; d < dim; ++d) {
    Value offset =
        arith::AddIOp::create(b, loc, base, indexConstant(b, loc, d));
    Value scalar = memref::LoadOp::create(b, loc, buffer, offset);
    components.push_back(vector::BroadcastOp::create(b, loc, laneType, scalar));
  }
  return components;
}

void keops::storeResults(LaneEmitter &e, ReduceOp reduce, Accumulator &acc,
                         const State &state, Value row,
                         llvm::ArrayRef<Value> outputs) {
  OpBuilder &b = e.getBuilder();
  Location loc = e.getLoc();
  for (auto [result, components] :
       llvm::zip_equal(reduce.getResults(), acc.finalize(e, state))) {
    Type outElement =
        llvm::cast<RankedTensorType>(result.getType()).getElementType();
    int64_t dim = static_cast<int64_t>(components.size());
    for (auto [k, component] : llvm::enumerate(components)) {
      Value scalar = vector::ExtractOp::create(b, loc, component,
                                               llvm::ArrayRef<int64_t>{0});
      if (scalar.getType() != outElement)
        scalar = arith::TruncFOp::create(b, loc, outElement, scalar);
      memref::StoreOp::create(b, loc, scalar, outputs[result.getResultNumber()],
                              flatIndex(b, loc, row, dim, k));
    }
  }
}

StateLayout keops::getStateLayout(Accumulator &acc) {
  StateLayout layout;
  for (Type type : acc.stateTypes(1))
    ++(llvm::isa<FloatType>(getElementTypeOrSelf(type)) ? layout.floats
                                                        : layout.ints);
  return layout;
}

void keops::storeRawState(LaneEmitter &e, const State &state, Value slot,
                          Value floats, Value ints) {
  OpBuilder &b = e.getBuilder();
  Location loc = e.getLoc();
  int64_t numFloats = 0, numInts = 0;
  for (Value v : state)
    ++(llvm::isa<FloatType>(getElementTypeOrSelf(v.getType())) ? numFloats
                                                               : numInts);
  int64_t f = 0, i = 0;
  for (Value v : state) {
    Value scalar =
        vector::ExtractOp::create(b, loc, v, llvm::ArrayRef<int64_t>{0});
    bool isFloat = llvm::isa<FloatType>(scalar.getType());
    memref::StoreOp::create(
        b, loc, scalar, isFloat ? floats : ints,
        isFloat ? flatIndex(b, loc, slot, numFloats, f++)
                : flatIndex(b, loc, slot, numInts, i++));
  }
}

State keops::loadRawState(LaneEmitter &e, Accumulator &acc, Value slot,
                          Value floats, Value ints) {
  OpBuilder &b = e.getBuilder();
  Location loc = e.getLoc();
  StateLayout layout = getStateLayout(acc);
  State state;
  int64_t f = 0, i = 0;
  for (Type type : acc.stateTypes(1)) {
    bool isFloat = llvm::isa<FloatType>(getElementTypeOrSelf(type));
    Value scalar = memref::LoadOp::create(
        b, loc, isFloat ? floats : ints,
        isFloat ? flatIndex(b, loc, slot, layout.floats, f++)
                : flatIndex(b, loc, slot, layout.ints, i++));
    state.push_back(vector::BroadcastOp::create(b, loc, type, scalar));
  }
  return state;
}
