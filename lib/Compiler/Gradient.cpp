//===- Gradient.cpp - Backward reductions of formulas -----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops::gradientFormula, keops::tangentFormula,
// keops::expandedFormula and keops::compileGradient.
// The backward reduction is built in the dialect (buildGradientModule, the
// rules of ReductionGradient.h) and written back in the formula language,
// with its keops.grad ops unexpanded, so that it is as short as the forward
// formula and can be differentiated again; compileGradient compiles those
// texts, so the Python package, keops-aot and the C++ API run the same
// backward kernels.
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/Compiler.h"

#include "CompileSteps.h"

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Dialect/KeOps/Transforms/ReductionGradient.h"
#include "keops/Frontend/FormulaImporter.h"
#include "keops/Frontend/FormulaPrinter.h"

#include "mlir/IR/MLIRContext.h"

using namespace mlir;
namespace mk = mlir::keops;
using namespace ::keops::detail;

namespace {

mk::ReduceOp reduceOf(ModuleOp module) {
  mk::ReduceOp reduce;
  module.walk([&](mk::ReduceOp op) { reduce = op; });
  return reduce;
}

llvm::Expected<mk::ReductionText> printReduceOf(ModuleOp module) {
  std::string error;
  FailureOr<mk::ReductionText> text = mk::printReduction(reduceOf(module), error);
  if (failed(text))
    return makeError("internal error: the reduction has no formula text: " +
                     error);
  return std::move(*text);
}

} // namespace

namespace keops {

const char *GradientFormula::Input::kindName(Kind kind) {
  static const char *const names[] = {"eta",     "output", "logsumexp",
                                      "indices", "column", "tangent"};
  return names[static_cast<int>(kind)];
}

namespace {

/// The forward module of `formula`, imported in float64 so that the printed
/// constants are the formula's own.
llvm::Expected<OwningOpRef<ModuleOp>>
importForward(MLIRContext &context, const std::string &formula,
              const std::vector<std::string> &aliases) {
  mk::ImportOptions importOptions;
  importOptions.elementType = Float64Type::get(&context);
  mk::FormulaError importError;
  OwningOpRef<ModuleOp> forward =
      mk::importFormula(context, formula, aliases, importOptions, importError);
  if (!forward)
    return makeError(importError.render());
  return std::move(forward);
}

bool isPiecewiseConstant(mk::ReductionKind kind) {
  return kind == mk::ReductionKind::argmin || kind == mk::ReductionKind::argmax ||
         kind == mk::ReductionKind::argkmin;
}

/// `derived` (a module of buildGradientModule or buildTangentModule) as
/// text, with the saved values it reads after `leading`; the sibling
/// reductions come from `forward`.
llvm::Expected<GradientFormula>
describeDerivative(ModuleOp forward, ModuleOp derived,
                   const mk::BackwardInputs &needs,
                   std::vector<GradientFormula::Input> leading) {
  GradientFormula result;
  auto printed = printReduceOf(derived);
  if (!printed)
    return printed.takeError();
  result.reduction = std::move(*printed);
  result.inputs = std::move(leading);
  using Kind = GradientFormula::Input::Kind;
  auto sibling = [&](Kind inputKind, mk::ReductionKind kind) -> llvm::Error {
    auto text = printReduceOf(*mk::buildSiblingReductionModule(forward, kind));
    if (!text)
      return text.takeError();
    result.inputs.push_back({inputKind, std::move(*text)});
    return llvm::Error::success();
  };
  if (needs.forwardOutput)
    result.inputs.push_back({Kind::ForwardOutput, {}});
  if (needs.logSumExp)
    if (llvm::Error error = sibling(Kind::LogSumExp, mk::ReductionKind::logsumexp))
      return std::move(error);
  if (needs.forwardIndices)
    if (llvm::Error error = sibling(
            Kind::Indices, *mk::getSelectionIndicesKind(reduceOf(forward).getKind())))
      return std::move(error);
  if (needs.columnIndex)
    result.inputs.push_back({Kind::ColumnIndex, {}});
  return result;
}

llvm::Error checkPosition(mk::ReduceOp reduce, unsigned position) {
  if (position < reduce.getInputs().size())
    return llvm::Error::success();
  return makeError("the formula has " + llvm::Twine(reduce.getInputs().size()) +
                   " variables; there is no variable at position " +
                   llvm::Twine(position));
}

} // namespace

llvm::Expected<std::optional<GradientFormula>>
gradientFormula(const std::string &formula,
                const std::vector<std::string> &aliases, unsigned wrt) {
  MLIRContext context(registry());
  auto forward = importForward(context, formula, aliases);
  if (!forward)
    return forward.takeError();
  mk::ReduceOp reduce = reduceOf(**forward);
  if (llvm::Error error = checkPosition(reduce, wrt))
    return std::move(error);
  if (isPiecewiseConstant(reduce.getKind()))
    return std::nullopt; // a zero gradient
  mk::BackwardInputs needs;
  bool sumRows = false;
  std::string error;
  auto backward = mk::buildGradientModule(**forward, wrt, needs, sumRows, error);
  if (failed(backward))
    return makeError(error);
  auto result = describeDerivative(**forward, **backward, needs,
                                   {{GradientFormula::Input::Kind::Eta, {}}});
  if (!result)
    return result.takeError();
  result->sumRows = sumRows;
  return std::move(*result);
}

llvm::Expected<mk::ReductionText>
expandedFormula(const std::string &formula,
                const std::vector<std::string> &aliases) {
  MLIRContext context(registry());
  auto module = importForward(context, formula, aliases);
  if (!module)
    return module.takeError();
  if (llvm::Error error = canonicalize(**module))
    return std::move(error);
  return printReduceOf(**module);
}

llvm::Expected<std::optional<GradientFormula>>
tangentFormula(const std::string &formula,
               const std::vector<std::string> &aliases,
               const std::vector<unsigned> &positions) {
  MLIRContext context(registry());
  auto forward = importForward(context, formula, aliases);
  if (!forward)
    return forward.takeError();
  mk::ReduceOp reduce = reduceOf(**forward);
  std::vector<GradientFormula::Input> tangents;
  for (unsigned position : positions) {
    if (llvm::Error error = checkPosition(reduce, position))
      return std::move(error);
    tangents.push_back({GradientFormula::Input::Kind::Tangent, {}, position});
  }
  if (positions.empty())
    return makeError("a tangent needs at least one variable");
  if (isPiecewiseConstant(reduce.getKind()))
    return std::nullopt; // a zero tangent
  mk::BackwardInputs needs;
  std::string error;
  auto derived = mk::buildTangentModule(**forward, positions, needs, error);
  if (failed(derived))
    return makeError(error);
  auto result =
      describeDerivative(**forward, **derived, needs, std::move(tangents));
  if (!result)
    return result.takeError();
  return std::move(*result);
}

llvm::Expected<GradientKernels>
compileGradient(const std::string &formula,
                const std::vector<std::string> &aliases, unsigned wrt,
                const CompileOptions &options) {
  auto described = gradientFormula(formula, aliases, wrt);
  if (!described)
    return described.takeError();
  GradientKernels result;
  if (!*described)
    return result;
  auto gradient = compile((*described)->reduction.str(), aliases, options);
  if (!gradient)
    return gradient.takeError();
  result.gradient = *gradient;
  result.sumRows = (*described)->sumRows;
  using Kind = GradientFormula::Input::Kind;
  for (const GradientFormula::Input &input : (*described)->inputs) {
    result.needsForwardOutput |= input.kind == Kind::ForwardOutput;
    result.needsColumnIndex |= input.kind == Kind::ColumnIndex;
    if (input.kind != Kind::LogSumExp && input.kind != Kind::Indices)
      continue;
    auto sibling = compile(input.reduction.str(), aliases, options);
    if (!sibling)
      return sibling.takeError();
    (input.kind == Kind::LogSumExp ? result.logSumExp : result.indices) =
        *sibling;
  }
  return result;
}

} // namespace keops
