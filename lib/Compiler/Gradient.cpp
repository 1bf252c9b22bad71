//===- Gradient.cpp - Backward reductions of formulas -----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops::gradientFormula and keops::compileGradient.
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
    return makeError("internal error: the backward reduction has no formula "
                     "text: " +
                     error);
  return std::move(*text);
}

} // namespace

namespace keops {

const char *GradientFormula::Input::kindName(Kind kind) {
  static const char *const names[] = {"eta", "output", "logsumexp", "indices",
                                      "column"};
  return names[static_cast<int>(kind)];
}

llvm::Expected<std::optional<GradientFormula>>
gradientFormula(const std::string &formula,
                const std::vector<std::string> &aliases, unsigned wrt) {
  MLIRContext context(registry());
  // float64, so that the printed constants are the formula's own.
  mk::ImportOptions importOptions;
  importOptions.elementType = Float64Type::get(&context);
  mk::FormulaError importError;
  OwningOpRef<ModuleOp> forward =
      mk::importFormula(context, formula, aliases, importOptions, importError);
  if (!forward)
    return makeError(importError.render());
  mk::ReduceOp reduce = reduceOf(*forward);
  if (wrt >= reduce.getInputs().size())
    return makeError("the formula has " +
                     llvm::Twine(reduce.getInputs().size()) +
                     " variables; there is no variable at position " +
                     llvm::Twine(wrt));
  mk::ReductionKind kind = reduce.getKind();
  if (kind == mk::ReductionKind::argmin || kind == mk::ReductionKind::argmax ||
      kind == mk::ReductionKind::argkmin)
    return std::nullopt; // piecewise constant: a zero gradient

  mk::BackwardInputs needs;
  GradientFormula result;
  std::string error;
  auto backward =
      mk::buildGradientModule(*forward, wrt, needs, result.sumRows, error);
  if (failed(backward))
    return makeError(error);
  auto printed = printReduceOf(**backward);
  if (!printed)
    return printed.takeError();
  result.reduction = std::move(*printed);

  using Kind = GradientFormula::Input::Kind;
  auto sibling = [&](Kind inputKind, mk::ReductionKind siblingKind) -> llvm::Error {
    auto text =
        printReduceOf(*mk::buildSiblingReductionModule(*forward, siblingKind));
    if (!text)
      return text.takeError();
    result.inputs.push_back({inputKind, std::move(*text)});
    return llvm::Error::success();
  };
  result.inputs.push_back({Kind::Eta, {}});
  if (needs.forwardOutput)
    result.inputs.push_back({Kind::ForwardOutput, {}});
  if (needs.logSumExp)
    if (llvm::Error error = sibling(Kind::LogSumExp, mk::ReductionKind::logsumexp))
      return std::move(error);
  if (needs.forwardIndices)
    if (llvm::Error error =
            sibling(Kind::Indices, *mk::getSelectionIndicesKind(kind)))
      return std::move(error);
  if (needs.columnIndex)
    result.inputs.push_back({Kind::ColumnIndex, {}});
  return result;
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
