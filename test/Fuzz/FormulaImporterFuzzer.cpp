//===- FormulaImporterFuzzer.cpp - libFuzzer target of the importer -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// The formula parser and importer on arbitrary bytes: each input is a
// formula over x = Vi(3), y = Vj(3), b = Vj(1), p = Pm(2). Importing must give
// a module or an error, never a crash, a hang or an abort; an imported
// formula printed back in the formula language (printReduction) must import
// again. scripts/fuzz-importer.sh builds it with -fsanitize=fuzzer,address;
// the regular build links StandaloneMain.cpp and ctest replays the corpus.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Frontend/FormulaImporter.h"
#include "keops/Frontend/FormulaPrinter.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

mlir::keops::ReduceOp reduceOf(mlir::ModuleOp module) {
  mlir::keops::ReduceOp reduce;
  module.walk([&](mlir::keops::ReduceOp op) { reduce = op; });
  return reduce;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext context;
  static const std::vector<std::string> aliases = {"x = Vi(3)", "y = Vj(3)",
                                                   "b = Vj(1)", "p = Pm(2)"};
  std::string formula(reinterpret_cast<const char *>(data), size);
  mlir::keops::FormulaError error;
  auto module =
      mlir::keops::importFormula(context, formula, aliases, {}, error);
  if (!module)
    return 0;
  std::string message;
  auto printed = mlir::keops::printReduction(reduceOf(*module), message);
  if (mlir::failed(printed))
    return 0; // constants without a spelling (inf, NaN)
  std::string text = printed->str();
  if (!mlir::keops::importFormula(context, text, aliases, {}, error)) {
    std::fprintf(stderr, "'%s' imports, but its printed form '%s' does not: %s\n",
                 formula.c_str(), text.c_str(), error.render().c_str());
    std::abort();
  }
  return 0;
}
