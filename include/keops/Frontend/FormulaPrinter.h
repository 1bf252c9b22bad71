//===- FormulaPrinter.h - keops.reduce back to formula text -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the inverse of the formula importer: a keops.reduce,
// or a value of its region, written in the KeOps formula language. The text
// imports back to the same values (variables print as Var(position, dim,
// category), constants with enough digits to round-trip), so a reduction
// the compiler builds (a backward reduction, for instance) can be handed to
// a front end that speaks formulas and differentiated again.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_FRONTEND_FORMULAPRINTER_H
#define KEOPS_FRONTEND_FORMULAPRINTER_H

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Frontend/ReductionText.h"

#include <string>

namespace mlir::keops {

/// The formula text of `value`, a value of the region of a keops.reduce,
/// or failure with `error` set (an op the formula language cannot spell, a
/// constant that is not finite, a text over 16 MiB).
FailureOr<std::string> printFormula(Value value, std::string &error);

/// `reduce` in the formula language, or failure with `error` set.
FailureOr<ReductionText> printReduction(ReduceOp reduce, std::string &error);

} // namespace mlir::keops

#endif // KEOPS_FRONTEND_FORMULAPRINTER_H
