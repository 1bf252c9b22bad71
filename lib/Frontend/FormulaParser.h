//===- FormulaParser.h - Syntax tree of KeOps formulas ----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the syntax tree of the KeOps formula language and its
// parser. The grammar follows Python, whose eval KeOps uses on formulas:
//
//   expr    := additive ('|' additive)*          (| : scalar product)
//   additive:= term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := ('-' | '+') unary | power
//   power   := primary ('**' unary)?
//   primary := NUMBER | NAME | NAME '(' [expr (',' expr)*] ')' | '(' expr ')'
//            | '(' expr ',' [expr (',' expr)*] [','] ')' | '[' [expr (',' expr)*] ']'
//
// Tuples and lists (of integers) are the shape arguments of Kron and TensorDot.
//
// Aliases ("x = Vi(3)") are an optional `NAME '='` followed by an expr.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_FRONTEND_FORMULAPARSER_H
#define KEOPS_LIB_FRONTEND_FORMULAPARSER_H

#include "llvm/ADT/StringRef.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir::keops::formula {

/// A node of the syntax tree, with the 1-based column where it starts.
struct Node {
  enum class Kind { Number, Name, Call, Unary, Binary, Tuple };
  Kind kind;
  unsigned column;
  /// Name, callee, or operator ("+", "-", "*", "/", "|", "**").
  std::string text;
  /// The value of a Number; `integer` is set when it has no '.' or exponent.
  double number = 0.0;
  std::optional<int64_t> integer;
  /// Call arguments, or the operands of an operator.
  std::vector<std::unique_ptr<Node>> children;
  /// The levels of the tree from this node down (1: a leaf).
  unsigned height = 1;

  /// The integer this node denotes (an integer literal, possibly negated).
  std::optional<int64_t> asInteger() const;
  /// The number this node denotes (a literal, possibly negated).
  std::optional<double> asNumber() const;
  /// The integers of a tuple or list of integers, such as (2, 3) or [2];
  /// a single integer counts as a tuple of one.
  std::optional<std::vector<int64_t>> asIntegerTuple() const;
};

/// The most levels a formula's tree may have (its operators, calls and
/// parentheses nested, a chain of binary operators included), so that
/// parsing, importing and freeing it never exhaust the stack.
inline constexpr unsigned kMaxFormulaDepth = 1000;

/// The most components a variable or a formula value may have, and the
/// largest integer argument (a dimension, K, an exponent) in magnitude:
/// beyond, sizes no longer fit the kernels' 32-bit vector types.
inline constexpr int64_t kMaxFormulaSize = int64_t(1) << 20;

/// A syntax error: a message and the 1-based column it refers to.
struct SyntaxError {
  std::string message;
  unsigned column = 0;
};

/// Parses a whole formula.
std::unique_ptr<Node> parseFormula(llvm::StringRef text, SyntaxError &error);

/// A parsed alias: `name` (empty when the alias has none) and its value.
struct Alias {
  std::string name;
  unsigned nameColumn = 0;
  std::unique_ptr<Node> value;
};

/// Parses an alias "name = value" or "value".
std::optional<Alias> parseAlias(llvm::StringRef text, SyntaxError &error);

} // namespace mlir::keops::formula

#endif // KEOPS_LIB_FRONTEND_FORMULAPARSER_H
