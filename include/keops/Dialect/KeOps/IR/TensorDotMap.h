//===- TensorDotMap.h - Which components keops.tensordot reads --*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares TensorDotMap, the index arithmetic of keops.tensordot
// (KeOps TensorDot: two tensors stored row-major in vectors, summed over
// paired axes, the other axes permuted). Its verifier, float64 evaluation,
// code generation (unrolled or as loops) and derivative rule all read the
// operands through it.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_IR_TENSORDOTMAP_H
#define KEOPS_DIALECT_KEOPS_IR_TENSORDOTMAP_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <array>

namespace mlir::keops {

/// The attributes of a keops.tensordot: the shapes of its operands, the
/// axes paired for the sum, and `permute` (result axis t before the
/// permutation goes to axis permute[t]; the unpermuted axes are the other
/// axes of a, then those of b, in order).
struct TensorDotAttributes {
  llvm::SmallVector<int64_t> shapeA, shapeB, axesA, axesB, permute;
};

/// The row-major strides of `shape`.
llvm::SmallVector<int64_t> rowMajorStrides(llvm::ArrayRef<int64_t> shape);

/// Component o of the result (row-major over `outShape`) is the sum over c
/// (row-major over `contractedShape`) of a[indexA(o, c)] * b[indexB(o, c)],
/// where each index is a sum of strides times the components of o and c.
struct TensorDotMap {
  llvm::SmallVector<int64_t> outShape, contractedShape;
  /// Strides of the output axes and the contracted axes in each operand
  /// ([0]: a, [1]: b); an output axis has a stride in one operand only.
  std::array<llvm::SmallVector<int64_t>, 2> outStrides, contractedStrides;
  /// The operand (0: a, 1: b) and axis that each output axis comes from.
  llvm::SmallVector<std::pair<unsigned, int64_t>> outOrigin;
  /// The axis of a and of b that each contracted axis pairs.
  std::array<llvm::SmallVector<int64_t>, 2> contractedAxes;

  /// The map of `attributes` for operands of dimensions `dimA` and `dimB`,
  /// or an error that names what does not fit.
  static llvm::Expected<TensorDotMap> get(const TensorDotAttributes &attributes,
                                          int64_t dimA, int64_t dimB);

  int64_t outDim() const;
  int64_t contractedDim() const;
  /// The component of operand `operand` that output component `o` meets at
  /// contracted position `c`.
  int64_t index(unsigned operand, int64_t o, int64_t c) const;

  /// The attributes of the tensordot that gives the adjoint of operand
  /// `operand` from the adjoint u of the result: tensordot(u, b) for a,
  /// tensordot(a, u) for b, summed over the axes of u that the other operand
  /// gave, permuted into the operand's axes.
  TensorDotAttributes adjointAttributes(unsigned operand,
                                        const TensorDotAttributes &of) const;
};

} // namespace mlir::keops

#endif // KEOPS_DIALECT_KEOPS_IR_TENSORDOTMAP_H
