//===- FormulaImporter.h - KeOps formula strings to keops IR ----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the importer of the KeOps formula language, as pykeops
// Genred accepts it, into the keops dialect:
//
//   importFormula(ctx, "Sum_Reduction(Exp(-SqDist(x,y))*b,0)",
//                 {"x = Vi(3)", "y = Vj(3)", "b = Vj(1)"}, {}, error)
//
// gives a module with one function taking the variables in position order
// (i/j variables as tensor<?xDxT>, parameters as tensor<DxT>) and returning
// the results of one keops.reduce. Errors name the problem and its column.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_FRONTEND_FORMULAIMPORTER_H
#define KEOPS_FRONTEND_FORMULAIMPORTER_H

#include "keops/Dialect/KeOps/IR/KeOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::keops {

/// Options of the import.
struct ImportOptions {
  /// Element type of every variable: f16, f32 or f64 (null means f32).
  Type elementType;
  /// Name of the generated function.
  std::string functionName = "keops_kernel";
};

/// An import error: what is wrong and where.
struct FormulaError {
  std::string message;
  /// 0 when the error is in the formula, k when it is in the k-th alias.
  unsigned aliasNumber = 0;
  /// 1-based column in that text (0 when it concerns the whole text).
  unsigned column = 0;
  /// The text the column refers to.
  std::string text;

  /// A compiler-style report: "formula:1:12: error: ...", the text and a
  /// caret under the column.
  std::string render() const;
};

/// Imports a reduction formula with its aliases. On failure, returns null
/// and fills `error`.
/// How a reduction of the formula language is written: `name` in
/// `name_Reduction(...)`, the keops.reduce kind it builds, and its arguments.
struct ReductionSyntax {
  enum class Arguments {
    FormulaAxis,               // Sum_Reduction(F, axis)
    FormulaAxisWeight,         // SumSoftMaxWeight_Reduction(F, axis, G)
    FormulaAxisOptionalWeight, // LogSumExp_Reduction(F, axis[, G])
    FormulaKAxis,              // KMin_Reduction(F, K, axis)
  };
  llvm::StringRef name;
  ReductionKind kind;
  Arguments arguments;
};

/// Every reduction the importer accepts; the first of each kind is the
/// spelling the formula printer writes.
llvm::ArrayRef<ReductionSyntax> getReductionSyntaxes();

/// The reduction called `name` (without "_Reduction"), or null.
const ReductionSyntax *lookupReductionSyntax(llvm::StringRef name);

OwningOpRef<ModuleOp> importFormula(MLIRContext &context,
                                    llvm::StringRef formula,
                                    llvm::ArrayRef<std::string> aliases,
                                    const ImportOptions &options,
                                    FormulaError &error);

} // namespace mlir::keops

#endif // KEOPS_FRONTEND_FORMULAIMPORTER_H
