//===- ShapeRules.cpp - Dimension rules of keops formula ops ----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the dimension rules of ShapeRules.h and the type
// inference of formula ops built on them.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/IR/ShapeRules.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

static llvm::Error dimError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::string joinDims(llvm::ArrayRef<int64_t> dims) {
  std::string text;
  for (int64_t dim : dims)
    text += (text.empty() ? "" : ", ") + std::to_string(dim);
  return text;
}

llvm::Expected<int64_t> keops::rules::broadcastDim(llvm::ArrayRef<int64_t> dims) {
  int64_t result = 1;
  for (int64_t dim : dims) {
    if (dim == 1 || dim == result)
      continue;
    if (result != 1)
      return dimError("operand dimensions (" + joinDims(dims) +
                      ") do not broadcast: they must be equal or 1");
    result = dim;
  }
  return result;
}

llvm::Expected<int64_t>
keops::rules::broadcastToScalar(llvm::ArrayRef<int64_t> dims) {
  llvm::Expected<int64_t> dim = broadcastDim(dims);
  if (!dim)
    return dim.takeError();
  return 1;
}

llvm::Expected<int64_t> keops::rules::sameDim(llvm::ArrayRef<int64_t> dims) {
  if (dims[0] != dims[1])
    return dimError("operand dimensions (" + joinDims(dims) +
                    ") must be equal");
  return 1;
}

llvm::Expected<int64_t> keops::rules::elemDim(int64_t dim, uint64_t index) {
  if (index >= static_cast<uint64_t>(dim))
    return dimError(llvm::formatv("component {0} is out of range for a vector "
                                  "of dimension {1}",
                                  static_cast<int64_t>(index), dim));
  return 1;
}

llvm::Expected<int64_t> keops::rules::extractDim(int64_t dim, uint64_t start,
                                                 uint64_t length) {
  if (length == 0 || start >= static_cast<uint64_t>(dim) ||
      length > static_cast<uint64_t>(dim) - start)
    return dimError(llvm::formatv(
        "components [{0}, {1}) are out of range for a vector of dimension {2}",
        static_cast<int64_t>(start), static_cast<int64_t>(start + length),
        dim));
  return static_cast<int64_t>(length);
}

llvm::Expected<int64_t> keops::rules::oneHotDim(int64_t operandDim,
                                               uint64_t dim) {
  if (operandDim != 1)
    return dimError("the operand must be a scalar, got dimension " +
                    llvm::Twine(operandDim));
  return static_cast<int64_t>(dim);
}

LogicalResult keops::inferFormulaType(
    std::optional<Location> location, ValueRange operands,
    llvm::function_ref<llvm::Expected<int64_t>(llvm::ArrayRef<int64_t>)> rule,
    llvm::SmallVectorImpl<Type> &inferredReturnTypes) {
  auto fail = [&](const llvm::Twine &message) {
    if (location)
      emitError(*location) << message;
    return failure();
  };
  llvm::SmallVector<int64_t, 3> dims;
  Type elementType;
  for (Value operand : operands) {
    auto type = llvm::dyn_cast<VectorType>(operand.getType());
    if (!type || type.getRank() != 1 || type.isScalable())
      return fail("formula operands must be vector<D x T> values");
    if (elementType && type.getElementType() != elementType)
      return fail("formula operands must have one element type");
    elementType = type.getElementType();
    dims.push_back(type.getDimSize(0));
  }
  llvm::Expected<int64_t> dim = rule(dims);
  if (!dim)
    return fail(llvm::toString(dim.takeError()));
  inferredReturnTypes.push_back(VectorType::get({*dim}, elementType));
  return success();
}
