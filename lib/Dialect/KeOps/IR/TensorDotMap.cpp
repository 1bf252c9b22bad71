//===- TensorDotMap.cpp - Which components keops.tensordot reads -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements TensorDotMap: the checks of a tensordot's attributes
// against its operands, the strides through which it reads them, and the
// attributes of the tensordots that give its derivatives.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/IR/TensorDotMap.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir::keops;

static llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(message);
}

static std::string text(llvm::ArrayRef<int64_t> values) {
  std::string result = "(";
  for (auto [k, value] : llvm::enumerate(values))
    result += (k ? ", " : "") + std::to_string(value);
  return result + ")";
}

/// The number of components of `shape`, or an error naming `what`.
static llvm::Expected<int64_t> componentsOf(llvm::ArrayRef<int64_t> shape,
                                            llvm::StringRef what) {
  int64_t total = 1;
  for (int64_t d : shape)
    if (d <= 0 || llvm::MulOverflow(total, d, total))
      return error(llvm::formatv("the shape {0} of {1} must have sizes >= 1 "
                                 "and fewer than 2^63 components",
                                 text(shape), what));
  return total;
}

llvm::SmallVector<int64_t>
mlir::keops::rowMajorStrides(llvm::ArrayRef<int64_t> shape) {
  llvm::SmallVector<int64_t> strides(shape.size(), 1);
  for (size_t k = shape.size(); k-- > 1;)
    strides[k - 1] = strides[k] * shape[k];
  return strides;
}

/// Checks that `axes` are distinct axes of a tensor of rank `rank`.
static llvm::Error checkAxes(llvm::ArrayRef<int64_t> axes, size_t rank,
                             llvm::StringRef what) {
  for (auto [k, axis] : llvm::enumerate(axes)) {
    if (axis < 0 || axis >= static_cast<int64_t>(rank))
      return error(llvm::formatv("the contracted axis {0} of {1} is not an "
                                 "axis of its shape (rank {2})",
                                 axis, what, rank));
    if (llvm::is_contained(axes.take_front(k), axis))
      return error(llvm::formatv("the contracted axis {0} of {1} is given "
                                 "twice",
                                 axis, what));
  }
  return llvm::Error::success();
}

llvm::Expected<TensorDotMap>
TensorDotMap::get(const TensorDotAttributes &attributes, int64_t dimA,
                  int64_t dimB) {
  const auto &[shapeA, shapeB, axesA, axesB, permute] = attributes;
  std::array<llvm::ArrayRef<int64_t>, 2> shapes{shapeA, shapeB};
  std::array<int64_t, 2> dims{dimA, dimB};
  const char *names[] = {"the first operand", "the second operand"};
  for (unsigned n = 0; n < 2; ++n) {
    llvm::Expected<int64_t> total = componentsOf(shapes[n], names[n]);
    if (!total)
      return total.takeError();
    if (*total != dims[n])
      return error(llvm::formatv("{0} has dimension {1}, not that of shape "
                                 "{2}",
                                 names[n], dims[n], text(shapes[n])));
  }
  if (axesA.size() != axesB.size())
    return error("the contracted axes of both operands must pair up");
  if (llvm::Error e = checkAxes(axesA, shapeA.size(), names[0]))
    return std::move(e);
  if (llvm::Error e = checkAxes(axesB, shapeB.size(), names[1]))
    return std::move(e);
  TensorDotMap map;
  std::array<llvm::SmallVector<int64_t>, 2> strides{rowMajorStrides(shapeA),
                                                    rowMajorStrides(shapeB)};
  for (size_t t = 0; t < axesA.size(); ++t) {
    if (shapeA[axesA[t]] != shapeB[axesB[t]])
      return error(llvm::formatv("contracted axes {0} and {1} have sizes {2} "
                                 "and {3}",
                                 axesA[t], axesB[t], shapeA[axesA[t]],
                                 shapeB[axesB[t]]));
    map.contractedShape.push_back(shapeA[axesA[t]]);
    map.contractedAxes[0].push_back(axesA[t]);
    map.contractedAxes[1].push_back(axesB[t]);
    map.contractedStrides[0].push_back(strides[0][axesA[t]]);
    map.contractedStrides[1].push_back(strides[1][axesB[t]]);
  }
  // The unpermuted output axes: the other axes of a, then of b.
  llvm::SmallVector<std::pair<unsigned, int64_t>> origin;
  std::array<llvm::ArrayRef<int64_t>, 2> axes{axesA, axesB};
  for (unsigned n = 0; n < 2; ++n)
    for (int64_t k = 0; k < static_cast<int64_t>(shapes[n].size()); ++k)
      if (!llvm::is_contained(axes[n], k))
        origin.push_back({n, k});
  llvm::SmallVector<int64_t> sorted(permute);
  llvm::sort(sorted);
  if (sorted.size() != origin.size() ||
      llvm::any_of(llvm::enumerate(sorted), [](auto entry) {
        return entry.value() != static_cast<int64_t>(entry.index());
      }))
    return error(llvm::formatv("permute {0} is not a permutation of the {1} "
                               "result axes",
                               text(permute), origin.size()));
  map.outOrigin.resize(origin.size());
  map.outShape.resize(origin.size());
  for (unsigned n = 0; n < 2; ++n)
    map.outStrides[n].assign(origin.size(), 0);
  for (auto [t, from] : llvm::enumerate(origin)) {
    int64_t p = permute[t];
    map.outOrigin[p] = from;
    map.outShape[p] = shapes[from.first][from.second];
    map.outStrides[from.first][p] = strides[from.first][from.second];
  }
  return map;
}

int64_t TensorDotMap::outDim() const {
  int64_t total = 1;
  for (int64_t d : outShape)
    total *= d;
  return total;
}

int64_t TensorDotMap::contractedDim() const {
  int64_t total = 1;
  for (int64_t d : contractedShape)
    total *= d;
  return total;
}

/// sum over the axes of `shape` of the component of `flat` times its stride.
static int64_t offsetOf(int64_t flat, llvm::ArrayRef<int64_t> shape,
                        llvm::ArrayRef<int64_t> strides) {
  int64_t offset = 0;
  for (size_t k = shape.size(); k-- > 0;) {
    offset += flat % shape[k] * strides[k];
    flat /= shape[k];
  }
  return offset;
}

int64_t TensorDotMap::index(unsigned operand, int64_t o, int64_t c) const {
  return offsetOf(o, outShape, outStrides[operand]) +
         offsetOf(c, contractedShape, contractedStrides[operand]);
}

TensorDotAttributes
TensorDotMap::adjointAttributes(unsigned operand,
                                const TensorDotAttributes &of) const {
  unsigned other = 1 - operand;
  // u meets the other operand over the output axes that operand gave.
  llvm::SmallVector<int64_t> uAxes, otherAxes, keptU;
  for (auto [p, from] : llvm::enumerate(outOrigin)) {
    if (from.first == other) {
      uAxes.push_back(p);
      otherAxes.push_back(from.second);
    } else {
      keptU.push_back(from.second);
    }
  }
  // The other operand's remaining axes are its contracted axes, in order.
  llvm::SmallVector<std::pair<int64_t, int64_t>> contracted;
  for (size_t t = 0; t < contractedShape.size(); ++t)
    contracted.push_back({contractedAxes[other][t], contractedAxes[operand][t]});
  llvm::sort(contracted);
  llvm::SmallVector<int64_t> keptOther;
  for (auto [otherAxis, axis] : contracted)
    keptOther.push_back(axis);
  TensorDotAttributes result;
  const llvm::SmallVector<int64_t> &otherShape =
      other == 0 ? of.shapeA : of.shapeB;
  if (operand == 0) { // tensordot(u, b): u's axes first
    result = {outShape, otherShape, uAxes, otherAxes, keptU};
    llvm::append_range(result.permute, keptOther);
  } else { // tensordot(a, u): a's axes first
    result = {otherShape, outShape, otherAxes, uAxes, keptOther};
    llvm::append_range(result.permute, keptU);
  }
  return result;
}
