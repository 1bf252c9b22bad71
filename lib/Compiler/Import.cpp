//===- Import.cpp - Formulas into canonical keops modules -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the import steps of CompileSteps.h: the dialect
// registry of every compile, a formula imported, differentiated and
// canonicalized, and the symbol of its kernel.
//
//===----------------------------------------------------------------------===//

#include "CompileSteps.h"

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Frontend/FormulaImporter.h"
#include "keops/InitAllKeOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
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
  PassManager pm(&context);
  pm.addNestedPass<func::FuncOp>(mk::createKeOpsAutodiffPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (failed(pm.run(*module)))
    return makeError("internal error: autodiff or canonicalization failed");
  // The formula text is informative only: equal IR must hash equal.
  for (auto function : module->getOps<func::FuncOp>())
    function->removeAttr("keops.formula");
  return std::move(module);
}

} // namespace keops::detail
