//===- ImportTestUtils.h - Helpers of the importer unit tests ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the fixture shared by the importer tests: a context with
// the keops dialect and a helper that imports a formula.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_UNITTESTS_FRONTEND_IMPORTTESTUTILS_H
#define KEOPS_UNITTESTS_FRONTEND_IMPORTTESTUTILS_H

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Frontend/FormulaImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

namespace keops_test {

class ImportTest : public ::testing::Test {
protected:
  /// Imports `formula`; on failure the error is in `error`.
  mlir::OwningOpRef<mlir::ModuleOp>
  import(llvm::StringRef formula, const std::vector<std::string> &aliases,
         mlir::Type elementType = {}) {
    mlir::keops::ImportOptions options;
    options.elementType = elementType;
    error = {};
    return mlir::keops::importFormula(context, formula, aliases, options,
                                      error);
  }

  /// The keops.reduce of an imported module.
  static mlir::keops::ReduceOp reduceOf(mlir::ModuleOp module) {
    mlir::keops::ReduceOp reduce;
    module.walk([&](mlir::keops::ReduceOp op) { reduce = op; });
    return reduce;
  }

  mlir::MLIRContext context;
  mlir::keops::FormulaError error;
};

} // namespace keops_test

#endif // KEOPS_UNITTESTS_FRONTEND_IMPORTTESTUTILS_H
