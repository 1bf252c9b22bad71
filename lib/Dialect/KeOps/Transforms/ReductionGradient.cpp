//===- ReductionGradient.cpp - Backward reductions --------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements buildGradientModule: it clones the forward formula
// into a new keops.reduce (a sum over the axis the variable is not indexed
// by) whose inputs are the forward ones plus eta and, where the kind needs
// them, saved forward values; the formula is the kind's keops.grad
// expression (see ReductionGradient.h), expanded later by keops-autodiff.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/Transforms/ReductionGradient.h"

#include "keops/Dialect/KeOps/IR/FormulaBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::keops;

namespace {

/// What a backward formula reads besides the forward variables.
struct BackwardValues {
  Value eta, output, logSumExp, indices, column;
};

} // namespace

/// Clones the formula of `reduce` into `body`, whose first arguments are the
/// rows of the forward variables, then yields the backward formula of the
/// variable `wrt` (the table of ReductionGradient.h).
static void emitBackwardFormula(OpBuilder &builder, ReduceOp reduce,
                                Block &body, unsigned wrt,
                                const BackwardValues &values) {
  Location loc = reduce.getLoc();
  Block &forwardBody = reduce.getBody().front();
  IRMapping mapping;
  for (unsigned k = 0; k < forwardBody.getNumArguments(); ++k)
    mapping.map(forwardBody.getArgument(k), body.getArgument(k));
  builder.setInsertionPointToStart(&body);
  for (Operation &op : forwardBody.without_terminator())
    builder.clone(op, mapping);
  auto yielded = reduce.getYield().getValues();
  Value f = mapping.lookup(yielded[0]);
  Value g = yielded.size() > 1 ? mapping.lookup(yielded[1]) : Value();
  Value eta = values.eta, v = body.getArgument(wrt);

  FormulaBuilder fb(builder, loc);
  Value gradient;
  ReductionKind kind = reduce.getKind();
  if (values.indices) {
    // eta passes to the columns the forward selected: slot s of component k
    // holds index J[s * D + k].
    int64_t dim = FormulaBuilder::dimOf(f);
    int64_t slots = FormulaBuilder::dimOf(eta) / dim;
    Value weight;
    for (int64_t slot = 0; slot < slots; ++slot) {
      auto part = [&](Value x) {
        return slots == 1 ? x : fb.extract(x, slot * dim, dim);
      };
      Value term = fb.mul(part(eta), EqualOp::create(builder, loc, values.column,
                                                     part(values.indices)));
      weight = weight ? fb.add(weight, term) : term;
    }
    gradient = fb.grad(f, v, weight);
  } else if (kind == ReductionKind::sum) {
    gradient = fb.grad(f, v, eta);
  } else if (kind == ReductionKind::logsumexp) {
    Value weights = fb.exp(fb.sub(f, values.output)); // exp(F - L)
    if (!g) {
      gradient = fb.grad(f, v, fb.mul(eta, weights));
    } else {
      Value etaWeights = fb.mul(eta, weights);
      gradient = fb.add(fb.grad(f, v, fb.scalProd(etaWeights, g)),
                        fb.grad(g, v, etaWeights));
    }
  } else {
    Value weight = fb.exp(fb.sub(f, values.logSumExp)); // softmax weight
    gradient = fb.add(
        fb.grad(f, v, fb.mul(weight, fb.scalProd(eta, fb.sub(g, values.output)))),
        fb.grad(g, v, fb.mul(eta, weight)));
  }
  YieldOp::create(builder, loc, gradient);
}

/// The axis of the backward reduction of variable `wrt`: the one that
/// variable is not indexed by (parameters: the forward axis).
static Axis backwardAxis(ReduceOp reduce, unsigned wrt) {
  Category rowCategory = reduce.getAxis() == Axis::j ? Category::i : Category::j;
  Category variableCategory = reduce.getCategory(wrt);
  if (variableCategory == Category::param || variableCategory == rowCategory)
    return reduce.getAxis();
  return reduce.getAxis() == Axis::j ? Axis::i : Axis::j;
}

FailureOr<OwningOpRef<ModuleOp>>
keops::buildGradientModule(ModuleOp forward, unsigned wrt,
                           BackwardInputs &inputs, bool &sumRows,
                           std::string &error) {
  ReduceOp reduce;
  forward.walk([&](ReduceOp op) { reduce = op; });
  if (!reduce || wrt >= reduce.getInputs().size()) {
    error = "no such input of the reduction";
    return failure();
  }
  ReductionKind kind = reduce.getKind();
  bool selects = getSelectionIndicesKind(kind).has_value();
  if (kind != ReductionKind::sum && kind != ReductionKind::logsumexp &&
      kind != ReductionKind::sumsoftmaxweight && !selects) {
    error = "reduction '" + stringifyReductionKind(kind).str() +
            "' has no backward reduction";
    return failure();
  }
  inputs = {};
  inputs.forwardOutput = kind == ReductionKind::logsumexp ||
                         kind == ReductionKind::sumsoftmaxweight;
  inputs.logSumExp = kind == ReductionKind::sumsoftmaxweight;
  inputs.forwardIndices = selects;
  inputs.columnIndex = selects;

  // Output rows are indexed by `rowCategory`; the variable decides the axis.
  Category rowCategory = reduce.getAxis() == Axis::j ? Category::i : Category::j;
  Category variableCategory = reduce.getCategory(wrt);
  sumRows = variableCategory == Category::param;
  Axis axis = backwardAxis(reduce, wrt);

  MLIRContext *ctx = forward.getContext();
  Location loc = reduce.getLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  OpBuilder builder = OpBuilder::atBlockEnd(module->getBody());
  auto outputType = llvm::cast<RankedTensorType>(reduce.getResult(0).getType());
  auto elementType = llvm::cast<FloatType>(outputType.getElementType());
  auto rowTensor = [&](int64_t dim) -> Type {
    return RankedTensorType::get({ShapedType::kDynamic, dim}, elementType);
  };
  llvm::SmallVector<Type> argumentTypes(reduce.getInputs().getTypes());
  llvm::SmallVector<Category> categories;
  for (unsigned k = 0; k < reduce.getInputs().size(); ++k)
    categories.push_back(reduce.getCategory(k));
  auto addRowInput = [&](int64_t dim) {
    argumentTypes.push_back(rowTensor(dim));
    categories.push_back(rowCategory);
  };
  int64_t outputDim = outputType.getShape().back();
  addRowInput(outputDim);
  if (inputs.forwardOutput)
    addRowInput(outputDim);
  if (inputs.logSumExp)
    addRowInput(1);
  if (inputs.forwardIndices)
    addRowInput(outputDim);
  if (inputs.columnIndex) {
    argumentTypes.push_back(rowTensor(1));
    categories.push_back(rowCategory == Category::i ? Category::j : Category::i);
  }

  auto variableType =
      llvm::cast<RankedTensorType>(reduce.getInputs()[wrt].getType());
  Type resultType = rowTensor(variableType.getShape().back());
  auto function = func::FuncOp::create(
      builder, loc, "keops_kernel",
      FunctionType::get(ctx, argumentTypes, {resultType}));
  Block *entry = function.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  auto backward = ReduceOp::create(builder, loc, {resultType},
                                   entry->getArguments(), ReductionKind::sum,
                                   std::nullopt, axis, categories);
  func::ReturnOp::create(builder, loc, backward.getResults());

  unsigned extra = reduce.getInputs().size();
  Block &body = backward.getBody().front();
  BackwardValues values;
  values.eta = body.getArgument(extra);
  unsigned next = extra + 1;
  if (inputs.forwardOutput)
    values.output = body.getArgument(next++);
  if (inputs.logSumExp)
    values.logSumExp = body.getArgument(next++);
  if (inputs.forwardIndices)
    values.indices = body.getArgument(next++);
  if (inputs.columnIndex)
    values.column = body.getArgument(next++);
  emitBackwardFormula(builder, reduce, body, wrt, values);
  return std::move(module);
}

std::optional<ReductionKind> keops::getSelectionIndicesKind(ReductionKind kind) {
  switch (kind) {
  case ReductionKind::min:
  case ReductionKind::min_argmin:
    return ReductionKind::argmin;
  case ReductionKind::max:
  case ReductionKind::max_argmax:
    return ReductionKind::argmax;
  case ReductionKind::kmin:
  case ReductionKind::kmin_argkmin:
    return ReductionKind::argkmin;
  default:
    return std::nullopt;
  }
}

OwningOpRef<ModuleOp> keops::buildSiblingReductionModule(ModuleOp forward,
                                                        ReductionKind kind) {
  OwningOpRef<ModuleOp> module = forward.clone();
  ReduceOp reduce;
  module->walk([&](ReduceOp op) { reduce = op; });
  auto function = reduce->getParentOfType<func::FuncOp>();
  auto formulaType =
      llvm::cast<VectorType>(reduce.getYield().getValues()[0].getType());
  std::string error;
  std::optional<int64_t> k = reduce.getK();
  if (kind != ReductionKind::argkmin)
    k.reset();
  auto resultTypes = ReduceOp::inferResultTypes(
      kind, k, formulaType.getDimSize(0), 0,
      llvm::cast<FloatType>(formulaType.getElementType()), error);
  assert(succeeded(resultTypes) && "sibling reduction of a valid formula");
  OpBuilder builder(reduce);
  llvm::SmallVector<Category> categories;
  for (unsigned n = 0; n < reduce.getInputs().size(); ++n)
    categories.push_back(reduce.getCategory(n));
  auto sibling = ReduceOp::create(builder, reduce.getLoc(), *resultTypes,
                                  reduce.getInputs(), kind, k,
                                  reduce.getAxis(), categories);
  Region &region = sibling.getBody();
  region.front().erase();
  region.takeBody(reduce.getBody());
  YieldOp yield = sibling.getYield();
  builder.setInsertionPoint(yield);
  YieldOp::create(builder, yield.getLoc(), yield.getValues()[0]);
  yield.erase();
  Operation *terminator = function.getBody().front().getTerminator();
  builder.setInsertionPoint(terminator);
  func::ReturnOp::create(builder, terminator->getLoc(), sibling.getResults());
  terminator->erase();
  reduce.erase();
  function.setFunctionType(FunctionType::get(
      function.getContext(), function.getArgumentTypes(), *resultTypes));
  return module;
}

LogicalResult keops::replaceByBackward(ReduceOp forward, unsigned wrt,
                                       unsigned etaInput,
                                       std::optional<unsigned> outputInput,
                                       std::string &error) {
  ReductionKind kind = forward.getKind();
  if (kind != ReductionKind::sum && kind != ReductionKind::logsumexp) {
    error = "supports Sum and LogSumExp reductions (use the C++ "
            "compileGradient for the others)";
    return failure();
  }
  if (kind == ReductionKind::logsumexp && !outputInput) {
    error = "a LogSumExp reduction needs its saved forward output";
    return failure();
  }
  Category rowCategory =
      forward.getAxis() == Axis::j ? Category::i : Category::j;
  auto outputType = llvm::cast<RankedTensorType>(forward.getResult(0).getType());
  for (std::optional<unsigned> input : {std::optional<unsigned>(etaInput), outputInput}) {
    if (!input)
      continue;
    auto type = llvm::cast<RankedTensorType>(forward.getInputs()[*input].getType());
    if (forward.getCategory(*input) != rowCategory ||
        type.getShape().back() != outputType.getShape().back()) {
      error = llvm::formatv("the gradient input and the saved output must be "
                            "variables indexed like the output rows ({0}), of "
                            "the output's dimension {1}",
                            stringifyCategory(rowCategory),
                            outputType.getShape().back())
                  .str();
      return failure();
    }
  }
  OpBuilder builder(forward);
  llvm::SmallVector<Category> categories;
  for (unsigned k = 0; k < forward.getInputs().size(); ++k)
    categories.push_back(forward.getCategory(k));
  auto variableType =
      llvm::cast<RankedTensorType>(forward.getInputs()[wrt].getType());
  Type resultType = RankedTensorType::get(
      {ShapedType::kDynamic, variableType.getShape().back()},
      outputType.getElementType());
  auto backward = ReduceOp::create(builder, forward.getLoc(), {resultType},
                                   forward.getInputs(), ReductionKind::sum,
                                   std::nullopt, backwardAxis(forward, wrt),
                                   categories);
  Block &body = backward.getBody().front();
  BackwardValues values;
  values.eta = body.getArgument(etaInput);
  if (outputInput)
    values.output = body.getArgument(*outputInput);
  emitBackwardFormula(builder, forward, body, wrt, values);
  auto function = forward->getParentOfType<func::FuncOp>();
  forward.getResult(0).replaceAllUsesWith(backward.getResult(0));
  forward.erase();
  function.setFunctionType(FunctionType::get(
      function.getContext(), function.getArgumentTypes(), {resultType}));
  return success();
}
