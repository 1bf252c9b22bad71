//===- FormulaPrinter.cpp - keops.reduce back to formula text ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements FormulaPrinter.h. Every op prints as the call of the
// formula op whose table entry builds it (FormulaOpTable), its integer
// attributes after its operands, then its tuple attributes as lists; shared
// values print once per use.
//
//===----------------------------------------------------------------------===//

#include "keops/Frontend/FormulaPrinter.h"

#include "FormulaOpTable.h"
#include "keops/Frontend/FormulaImporter.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::keops;

namespace {

/// Prints values of one region, each at most once.
class Printer {
public:
  explicit Printer(std::string &error) : error(error) {}

  FailureOr<std::string> print(Value value) {
    auto known = printed.find(value);
    if (known != printed.end())
      return known->second;
    FailureOr<std::string> text = printUncached(value);
    if (failed(text))
      return failure();
    if (text->size() > kMaxLength)
      return fail("the formula text exceeds 16 MiB");
    printed[value] = *text;
    return text;
  }

private:
  static constexpr size_t kMaxLength = 16u << 20;

  FailureOr<std::string> fail(const llvm::Twine &message) {
    error = message.str();
    return failure();
  }

  /// A variable: Var(position, dim, category) with the importer's tags.
  FailureOr<std::string> printVariable(BlockArgument row) {
    auto reduce = llvm::dyn_cast<ReduceOp>(row.getOwner()->getParentOp());
    if (!reduce)
      return fail("a block argument outside of a keops.reduce region");
    unsigned position = row.getArgNumber();
    int64_t category = static_cast<int64_t>(reduce.getCategory(position));
    return llvm::formatv("Var({0},{1},{2})", position,
                         llvm::cast<VectorType>(row.getType()).getDimSize(0),
                         category)
        .str();
  }

  /// A number that imports back to `value`: an integer when it is one
  /// (IntCst), else 17 significant digits; negatives in parentheses.
  FailureOr<std::string> printNumber(double value) {
    if (!std::isfinite(value))
      return fail(llvm::formatv("the constant {0} has no formula spelling",
                                value));
    double magnitude = std::fabs(value);
    std::string digits =
        magnitude == std::trunc(magnitude) && magnitude < 1e15
            ? std::to_string(static_cast<int64_t>(magnitude))
            : llvm::formatv("{0}", llvm::format("%.17g", magnitude)).str();
    return std::signbit(value) ? "(-" + digits + ")" : digits;
  }

  /// A constant vector: its number, or a balanced tree of Concats of its
  /// components (log2 of the dimension deep, within the formula depth
  /// limit whatever the dimension).
  FailureOr<std::string> printConstant(ConstantOp constant) {
    llvm::SmallVector<double> values;
    for (const llvm::APFloat &component :
         constant.getValue().getValues<llvm::APFloat>())
      values.push_back(component.convertToDouble());
    return printComponents(values);
  }

  FailureOr<std::string> printComponents(llvm::ArrayRef<double> values) {
    if (values.size() == 1)
      return printNumber(values[0]);
    size_t half = values.size() / 2;
    FailureOr<std::string> first = printComponents(values.take_front(half));
    if (failed(first))
      return failure();
    FailureOr<std::string> second = printComponents(values.drop_front(half));
    if (failed(second))
      return failure();
    return "Concat(" + *first + "," + *second + ")";
  }

  FailureOr<std::string> printUncached(Value value) {
    if (auto row = llvm::dyn_cast<BlockArgument>(value))
      return printVariable(row);
    Operation *op = value.getDefiningOp();
    if (auto constant = llvm::dyn_cast<ConstantOp>(op))
      return printConstant(constant);
    llvm::StringRef name = llvm::isa<GradOp>(op)
                               ? "Grad"
                               : formula::formulaNameOfOp(
                                     op->getName().getStringRef());
    if (name.empty())
      return fail("'" + op->getName().getStringRef() +
                  "' has no spelling in the formula language");
    std::string text = name.str() + "(";
    llvm::ListSeparator comma(",");
    for (Value operand : op->getOperands()) {
      FailureOr<std::string> printedOperand = print(operand);
      if (failed(printedOperand))
        return failure();
      text += std::string(llvm::StringRef(comma)) + *printedOperand;
    }
    // The integers follow the operands, then the tuples (as lists: [2,3],
    // [] for no axes), from the attributes that hold them.
    const formula::OpSignature *signature =
        llvm::isa<GradOp>(op) ? nullptr : formula::lookupFormulaOp(name);
    if (!signature)
      return text + ")";
    auto spell = [&](llvm::StringRef attribute) -> FailureOr<std::string> {
      Attribute value = op->getAttr(attribute);
      if (auto integer = llvm::dyn_cast_or_null<IntegerAttr>(value))
        return std::to_string(integer.getInt());
      auto tuple = llvm::dyn_cast_or_null<DenseI64ArrayAttr>(value);
      if (!tuple)
        return fail("'" + op->getName().getStringRef() +
                    "' has no integer attribute '" + attribute + "'");
      std::string list = "[";
      llvm::ListSeparator elementComma(",");
      for (int64_t element : tuple.asArrayRef())
        list += std::string(llvm::StringRef(elementComma)) +
                std::to_string(element);
      return list + "]";
    };
    for (llvm::ArrayRef<llvm::StringRef> attributes :
         {llvm::ArrayRef(signature->integerAttributes),
          llvm::ArrayRef(signature->tupleAttributes)})
      for (llvm::StringRef attribute : attributes) {
        if (attribute.empty())
          continue;
        FailureOr<std::string> spelled = spell(attribute);
        if (failed(spelled))
          return failure();
        text += std::string(llvm::StringRef(comma)) + *spelled;
      }
    return text + ")";
  }

  std::string &error;
  llvm::DenseMap<Value, std::string> printed;
};

} // namespace

FailureOr<std::string> keops::printFormula(Value value, std::string &error) {
  return Printer(error).print(value);
}

std::string ReductionText::str() const {
  std::string text = name + "_Reduction(" + formula + ",";
  if (k)
    return text + std::to_string(*k) + "," + std::to_string(axis) + ")";
  text += std::to_string(axis);
  return weight.empty() ? text + ")" : text + "," + weight + ")";
}

FailureOr<ReductionText> keops::printReduction(ReduceOp reduce,
                                                  std::string &error) {
  const ReductionSyntax *syntax = nullptr;
  for (const ReductionSyntax &candidate : getReductionSyntaxes())
    if (candidate.kind == reduce.getKind()) {
      syntax = &candidate;
      break;
    }
  if (!syntax) {
    error = "reduction '" + stringifyReductionKind(reduce.getKind()).str() +
            "' has no spelling in the formula language";
    return failure();
  }
  Printer printer(error);
  auto yielded = reduce.getYield().getValues();
  ReductionText result;
  result.name = syntax->name.str();
  result.axis = reduce.getAxis() == Axis::j ? 0 : 1;
  if (syntax->arguments == ReductionSyntax::Arguments::FormulaKAxis)
    result.k = reduce.getK().value_or(1);
  FailureOr<std::string> formula = printer.print(yielded[0]);
  if (failed(formula))
    return failure();
  result.formula = std::move(*formula);
  if (yielded.size() > 1) {
    FailureOr<std::string> weight = printer.print(yielded[1]);
    if (failed(weight))
      return failure();
    result.weight = std::move(*weight);
  }
  return result;
}
