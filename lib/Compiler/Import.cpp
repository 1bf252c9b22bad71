//===- Import.cpp - Formulas into canonical keops modules -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the import steps of CompileSteps.h: the dialect
// registry of every compile, a formula imported, differentiated and
// canonicalized, a keops-dialect module split into its kernels, and the
// symbol of a kernel; and the reduction names of the formula language.
//
//===----------------------------------------------------------------------===//

#include "CompileSteps.h"

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Dialect/KeOps/IR/ReduceAnalysis.h"
#include "keops/Dialect/KeOps/Transforms/KernelFunctions.h"
#include "keops/Frontend/FormulaImporter.h"
#include "keops/InitAllKeOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/xxhash.h"

using namespace mlir;
namespace mk = mlir::keops;

namespace keops::detail {

const DialectRegistry &registry() {
  static const DialectRegistry instance = [] {
    DialectRegistry registry;
    mk::registerAllKeOpsDialects(registry);
    return registry;
  }();
  return instance;
}

std::string nameKernel(ModuleOp module, const std::string &canonical,
                       const ::keops::CompileOptions &options) {
  std::string symbol =
      "keops_" +
      llvm::utohexstr(llvm::xxh3_64bits(canonical + "|" + optionsKey(options)),
                      /*LowerCase=*/true, /*Width=*/16);
  (*module.getOps<func::FuncOp>().begin()).setSymName(symbol);
  return symbol;
}

llvm::Expected<OwningOpRef<ModuleOp>>
importCanonical(MLIRContext &context, const std::string &formula,
                const std::vector<std::string> &aliases,
                const ::keops::CompileOptions &options) {
  mk::ImportOptions importOptions;
  importOptions.elementType =
      options.dtype == "float64"   ? Type(Float64Type::get(&context))
      : options.dtype == "float16" ? Type(Float16Type::get(&context))
                                   : Type(Float32Type::get(&context));
  mk::FormulaError error;
  OwningOpRef<ModuleOp> module =
      mk::importFormula(context, formula, aliases, importOptions, error);
  if (!module)
    return makeError(error.render());
  if (llvm::Error error = canonicalize(*module))
    return std::move(error);
  return std::move(module);
}

llvm::Error canonicalize(ModuleOp module) {
  PassManager pm(module.getContext());
  pm.addNestedPass<func::FuncOp>(mk::createKeOpsAutodiffPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (failed(pm.run(module)))
    return makeError("internal error: autodiff or canonicalization failed");
  for (auto function : module.getOps<func::FuncOp>())
    function->removeAttr("keops.formula");
  return llvm::Error::success();
}

/// The kernel functions of a keops-dialect module (see forEachKernel), each
/// alone in a canonical module.
static llvm::Expected<std::vector<KernelModule>>
importModule(MLIRContext &context, llvm::StringRef text) {
  std::string diagnostics;
  llvm::raw_string_ostream stream(diagnostics);
  llvm::SourceMgr sources;
  sources.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBuffer(text, "module"),
                             llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sources, &context, stream);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sources, &context);
  if (!module)
    return makeError(diagnostics);
  PassManager pm(&context);
  pm.addPass(mk::createKeOpsOutlineReductionsPass());
  if (failed(pm.run(*module)))
    return makeError(diagnostics);
  if (llvm::Error error = canonicalize(*module))
    return std::move(error);
  std::vector<KernelModule> kernels;
  for (auto function : module->getOps<func::FuncOp>()) {
    if (!mk::isKernelFunction(function))
      continue;
    OpBuilder b(&context);
    OwningOpRef<ModuleOp> single = ModuleOp::create(b, function.getLoc());
    b.setInsertionPointToStart(single->getBody());
    auto kernel = llvm::cast<func::FuncOp>(b.clone(*function));
    kernel.setPublic();
    kernels.push_back({function.getSymName().str(), std::move(single)});
  }
  if (kernels.empty())
    return makeError("the module has no keops.reduce to compile");
  return std::move(kernels);
}

llvm::Error
forEachKernel(llvm::StringRef text,
              llvm::function_ref<llvm::Error(KernelModule &)> each) {
  MLIRContext context(registry());
  auto kernels = importModule(context, text);
  if (!kernels)
    return kernels.takeError();
  for (KernelModule &kernel : *kernels)
    if (llvm::Error error = each(kernel))
      return makeError("kernel '" + kernel.function +
                       "': " + llvm::toString(std::move(error)));
  return llvm::Error::success();
}

CompileOptions withModuleDtype(ModuleOp module, const CompileOptions &options) {
  auto function = *module.getOps<func::FuncOp>().begin();
  Type element =
      mk::getFormulaElementType(*function.getOps<mk::ReduceOp>().begin());
  CompileOptions result = options;
  result.dtype = element.isF64()   ? "float64"
                 : element.isF16() ? "float16"
                                   : "float32";
  return result;
}

} // namespace keops::detail

namespace keops {

std::vector<ReductionName> getReductionNames() {
  using A = mk::ReductionSyntax::Arguments;
  std::vector<ReductionName> names;
  for (const mk::ReductionSyntax &syntax : mk::getReductionSyntaxes()) {
    ReductionName name;
    name.name = syntax.name.str();
    name.kind = mk::stringifyReductionKind(syntax.kind).str();
    name.takesK = syntax.arguments == A::FormulaKAxis;
    name.weight = syntax.arguments == A::FormulaAxisWeight
                      ? ReductionName::Weight::Required
                  : syntax.arguments == A::FormulaAxisOptionalWeight
                      ? ReductionName::Weight::Optional
                      : ReductionName::Weight::None;
    name.sumType = mk::isSumType(syntax.kind);
    names.push_back(std::move(name));
  }
  return names;
}

} // namespace keops
