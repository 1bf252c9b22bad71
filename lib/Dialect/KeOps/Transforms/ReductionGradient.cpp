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
/// rows of the forward variables; returns its formula and weight (or null).
static std::pair<Value, Value> cloneFormula(OpBuilder &builder, ReduceOp reduce,
                                            Block &body) {
  Block &forwardBody = reduce.getBody().front();
  IRMapping mapping;
  for (unsigned k = 0; k < forwardBody.getNumArguments(); ++k)
    mapping.map(forwardBody.getArgument(k), body.getArgument(k));
  builder.setInsertionPointToStart(&body);
  for (Operation &op : forwardBody.without_terminator())
    builder.clone(op, mapping);
  auto yielded = reduce.getYield().getValues();
  return {mapping.lookup(yielded[0]),
          yielded.size() > 1 ? mapping.lookup(yielded[1]) : Value()};
}

/// Clones the formula of `reduce` into `body`, whose first arguments are the
/// rows of the forward variables, then yields the backward formula of the
/// variable `wrt` (the table of ReductionGradient.h).
static void emitBackwardFormula(OpBuilder &builder, ReduceOp reduce,
                                Block &body, unsigned wrt,
                                const BackwardValues &values) {
  Location loc = reduce.getLoc();
  auto [f, g] = cloneFormula(builder, reduce, body);
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

/// The inputs a derivative reduction of `kind` reads besides the forward
/// variables (and eta or the tangents).
static BackwardInputs savedInputsOf(ReductionKind kind) {
  bool selects = getSelectionIndicesKind(kind).has_value();
  BackwardInputs inputs;
  inputs.forwardOutput = kind == ReductionKind::logsumexp ||
                         kind == ReductionKind::sumsoftmaxweight;
  inputs.logSumExp = kind == ReductionKind::sumsoftmaxweight;
  inputs.forwardIndices = selects;
  inputs.columnIndex = selects;
  return inputs;
}

namespace {

/// A module of one kernel function, `keops_kernel`, which returns a sum
/// reduction over `axis` of the forward variables of `reduce` followed by
/// `leading` inputs (eta or the tangents) and the saved values that `saved`
/// flags; the caller fills the region.
struct DerivativeKernel {
  OwningOpRef<ModuleOp> module;
  ReduceOp reduce;
  BackwardValues values; // the saved values' rows in the region

  DerivativeKernel(ReduceOp forward,
                   llvm::ArrayRef<std::pair<Type, Category>> leading,
                   const BackwardInputs &saved, Axis axis, int64_t resultDim) {
    MLIRContext *ctx = forward.getContext();
    Location loc = forward.getLoc();
    module = ModuleOp::create(loc);
    OpBuilder builder = OpBuilder::atBlockEnd(module->getBody());
    auto outputType =
        llvm::cast<RankedTensorType>(forward.getResult(0).getType());
    auto elementType = llvm::cast<FloatType>(outputType.getElementType());
    auto rowTensor = [&](int64_t dim) -> Type {
      return RankedTensorType::get({ShapedType::kDynamic, dim}, elementType);
    };
    // Output rows are indexed by `rowCategory`.
    Category rowCategory =
        forward.getAxis() == Axis::j ? Category::i : Category::j;
    llvm::SmallVector<Type> types(forward.getInputs().getTypes());
    llvm::SmallVector<Category> categories;
    for (unsigned k = 0; k < forward.getInputs().size(); ++k)
      categories.push_back(forward.getCategory(k));
    for (auto [type, category] : leading) {
      types.push_back(type);
      categories.push_back(category);
    }
    int64_t outputDim = outputType.getShape().back();
    auto addRowInput = [&](bool wanted, int64_t dim, Category category) {
      if (!wanted)
        return;
      types.push_back(rowTensor(dim));
      categories.push_back(category);
    };
    Category columnCategory =
        rowCategory == Category::i ? Category::j : Category::i;
    addRowInput(saved.forwardOutput, outputDim, rowCategory);
    addRowInput(saved.logSumExp, 1, rowCategory);
    addRowInput(saved.forwardIndices, outputDim, rowCategory);
    addRowInput(saved.columnIndex, 1, columnCategory);

    Type resultType = rowTensor(resultDim);
    auto function = func::FuncOp::create(
        builder, loc, "keops_kernel",
        FunctionType::get(ctx, types, {resultType}));
    Block *entry = function.addEntryBlock();
    builder.setInsertionPointToStart(entry);
    reduce = ReduceOp::create(builder, loc, {resultType},
                              entry->getArguments(), ReductionKind::sum,
                              std::nullopt, axis, categories);
    func::ReturnOp::create(builder, loc, reduce.getResults());

    Block &body = reduce.getBody().front();
    unsigned next = forward.getInputs().size() + leading.size();
    auto row = [&](bool wanted) {
      return wanted ? body.getArgument(next++) : Value();
    };
    values.output = row(saved.forwardOutput);
    values.logSumExp = row(saved.logSumExp);
    values.indices = row(saved.forwardIndices);
    values.column = row(saved.columnIndex);
  }
};

} // namespace

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
  if (kind != ReductionKind::sum && kind != ReductionKind::logsumexp &&
      kind != ReductionKind::sumsoftmaxweight &&
      !getSelectionIndicesKind(kind)) {
    error = "reduction '" + stringifyReductionKind(kind).str() +
            "' has no backward reduction";
    return failure();
  }
  inputs = savedInputsOf(kind);
  sumRows = reduce.getCategory(wrt) == Category::param;
  auto outputType = llvm::cast<RankedTensorType>(reduce.getResult(0).getType());
  auto variableType =
      llvm::cast<RankedTensorType>(reduce.getInputs()[wrt].getType());
  Category rowCategory = reduce.getAxis() == Axis::j ? Category::i : Category::j;
  std::pair<Type, Category> eta = {
      RankedTensorType::get({ShapedType::kDynamic, outputType.getShape().back()},
                            outputType.getElementType()),
      rowCategory};
  DerivativeKernel kernel(reduce, eta, inputs, backwardAxis(reduce, wrt),
                          variableType.getShape().back());
  Block &body = kernel.reduce.getBody().front();
  kernel.values.eta = body.getArgument(reduce.getInputs().size());
  OpBuilder builder(forward.getContext());
  emitBackwardFormula(builder, reduce, body, wrt, kernel.values);
  return std::move(kernel.module);
}

FailureOr<OwningOpRef<ModuleOp>>
keops::buildTangentModule(ModuleOp forward, llvm::ArrayRef<unsigned> positions,
                          BackwardInputs &inputs, std::string &error) {
  ReduceOp reduce;
  forward.walk([&](ReduceOp op) { reduce = op; });
  if (!reduce) {
    error = "no reduction";
    return failure();
  }
  llvm::SmallVector<std::pair<Type, Category>> tangents;
  for (unsigned position : positions) {
    if (position >= reduce.getInputs().size()) {
      error = "no such input of the reduction";
      return failure();
    }
    tangents.push_back({reduce.getInputs()[position].getType(),
                        reduce.getCategory(position)});
  }
  ReductionKind kind = reduce.getKind();
  if (kind != ReductionKind::sum && kind != ReductionKind::logsumexp &&
      kind != ReductionKind::sumsoftmaxweight &&
      !getSelectionIndicesKind(kind)) {
    error = "reduction '" + stringifyReductionKind(kind).str() +
            "' has no tangent reduction";
    return failure();
  }
  inputs = savedInputsOf(kind);
  inputs.eta = false;
  auto outputType = llvm::cast<RankedTensorType>(reduce.getResult(0).getType());
  DerivativeKernel kernel(reduce, tangents, inputs, reduce.getAxis(),
                          outputType.getShape().back());
  Block &body = kernel.reduce.getBody().front();
  OpBuilder builder(forward.getContext());
  auto [f, g] = cloneFormula(builder, reduce, body);
  FormulaBuilder fb(builder, reduce.getLoc());
  // The derivative of a value along the tangents: sum_k Diff(., v_k, t_k).
  auto derivative = [&](Value value) {
    Value total;
    for (auto [n, position] : llvm::enumerate(positions)) {
      Value term = fb.diff(value, body.getArgument(position),
                           body.getArgument(reduce.getInputs().size() + n));
      total = total ? fb.add(total, term) : term;
    }
    return total;
  };
  const BackwardValues &values = kernel.values;
  Value tangent;
  if (values.indices) {
    // The derivative at the selected columns: slot s holds J[s * D + k].
    Value df = derivative(f);
    int64_t dim = FormulaBuilder::dimOf(f);
    int64_t slots = FormulaBuilder::dimOf(values.indices) / dim;
    for (int64_t slot = 0; slot < slots; ++slot) {
      Value index =
          slots == 1 ? values.indices : fb.extract(values.indices, slot * dim, dim);
      Value part = fb.mul(df, EqualOp::create(builder, reduce.getLoc(),
                                              values.column, index));
      tangent = tangent ? fb.concat(tangent, part) : part;
    }
  } else if (kind == ReductionKind::sum) {
    tangent = derivative(f);
  } else if (kind == ReductionKind::logsumexp) {
    Value weights = fb.exp(fb.sub(f, values.output)); // exp(F - L)
    tangent = fb.mul(weights, g ? fb.add(fb.mul(derivative(f), g), derivative(g))
                                : derivative(f));
  } else { // sumsoftmaxweight
    Value weight = fb.exp(fb.sub(f, values.logSumExp)); // softmax weight
    tangent = fb.mul(weight, fb.add(fb.mul(derivative(f),
                                           fb.sub(g, values.output)),
                                    derivative(g)));
  }
  YieldOp::create(builder, reduce.getLoc(), tangent);
  return std::move(kernel.module);
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
