//===- FormulaOpTable.h - KeOps op names to keops ops -----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the table of KeOps formula op names ("Exp", "SqDist",
// "Pow", ...) with their signatures (formula arguments first, then integer
// arguments) and how each builds its keops op. Infix operators of the
// formula language use the same entries ("+" is "Add", "|" is "Scalprod").
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_FRONTEND_FORMULAOPTABLE_H
#define KEOPS_LIB_FRONTEND_FORMULAOPTABLE_H

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringRef.h"

#include <array>
#include <string>
#include <vector>

namespace mlir::keops::formula {

/// The imported arguments of a call: formula values, then integers, then
/// tuples of integers (shapes).
struct OpArguments {
  llvm::ArrayRef<Value> formulas;
  llvm::ArrayRef<int64_t> integers;
  llvm::ArrayRef<std::vector<int64_t>> tuples = {};
};

/// Builds an op at the builder's insertion point, or fails with a message
/// (for example, operand dimensions that do not broadcast).
using OpBuildFn = FailureOr<Value> (*)(OpBuilder &builder, Location loc,
                                       const OpArguments &arguments,
                                       std::string &error);

struct OpSignature {
  unsigned numFormulas;
  unsigned numIntegers;
  OpBuildFn build;
  /// Tuples after the integers; the last `numOptionalTuples` may be omitted.
  unsigned numTuples = 0;
  unsigned numOptionalTuples = 0;
  /// The keops op that `build` creates from the arguments as they are, or
  /// "" for the compositions of several ops, and its attributes that hold
  /// the integers, in order: what the formula printer spells back.
  llvm::StringRef opName = {};
  std::array<llvm::StringRef, 2> integerAttributes = {};
  /// Its attributes that hold the tuples (dense i64 arrays), in order.
  std::array<llvm::StringRef, 5> tupleAttributes = {};
};

/// The signature of the KeOps op `name`, or null when there is none.
const OpSignature *lookupFormulaOp(llvm::StringRef name);

/// The name of the KeOps op whose entry builds the keops op `opName`
/// directly ("keops.exp" -> "Exp"), or "" when none does.
llvm::StringRef formulaNameOfOp(llvm::StringRef opName);

} // namespace mlir::keops::formula

#endif // KEOPS_LIB_FRONTEND_FORMULAOPTABLE_H
