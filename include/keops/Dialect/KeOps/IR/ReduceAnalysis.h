//===- ReduceAnalysis.h - What a keops.reduce implies ------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the facts about a keops.reduce that the tiler, the
// kernel generators and the runtime descriptor all need, kept with the
// dialect: its element type and dimensions, its output chunks, the raw
// accumulator state of a row of each reduction kind, and the tiling a
// keops.schedule holds.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_IR_REDUCEANALYSIS_H
#define KEOPS_DIALECT_KEOPS_IR_REDUCEANALYSIS_H

#include "keops/Dialect/KeOps/IR/KeOps.h"

#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::keops {

/// `type`, a ranked tensor, with a dynamic number of rows (dimension 0).
RankedTensorType withDynamicRows(Type type);

/// The element type of the formula values of `reduce`.
FloatType getFormulaElementType(ReduceOp reduce);

/// The feature dimension of input `k` of `reduce`.
int64_t getInputDim(ReduceOp reduce, unsigned k);

/// The components per chunk of both kernel generators.
constexpr int64_t kOutputChunkSize = 16;
/// The most values of a chunk's K best lists, when a kmin-family kernel
/// keeps them in registers (without selection in memory).
constexpr int64_t kOutputChunkSelections = 64;

/// How outputs of wide dimension are computed (KeOps's "chunks"): when the
/// reduced value (the weight of logsumexp and sumsoftmaxweight, the formula
/// of sum, min, max, the kmin family and their arg kinds) has at least
/// `minDim` components and is a tree of componentwise ops over variables
/// and dimension-1 values, the kernel reduces it in chunks of `size`
/// components, one after the other, with an accumulator of `size`
/// components and the dimension-1 part of the formula recomputed per chunk;
/// so the code does not grow with the dimension. The last chunk repeats
/// component dim - 1 (same values, same stores). The raw state of a row
/// holds the chunks' states one after the other.
struct OutputChunks {
  int64_t dim = 0;  // components of the reduced value; 0: no chunks
  int64_t size = 0; // components per chunk
  int64_t count() const { return dim ? (dim + size - 1) / size : 1; }
  explicit operator bool() const { return dim != 0; }
};
/// The output chunks of `size` components of `reduce`, if its reduced value
/// can be computed in chunks: a tree of componentwise ops of more than
/// `size` components (no chunks otherwise).
OutputChunks getOutputChunks(ReduceOp reduce, int64_t size);
/// getOutputChunks, if the reduced value is also wide: at least `minDim`
/// values per row in registers (K per component for the kmin family, unless
/// `selectionInMemory`); minDim 0: never.
OutputChunks planOutputChunks(ReduceOp reduce, int64_t minDim, int64_t size,
                              bool selectionInMemory);
/// The components per output chunk of `reduce`: kOutputChunkSize, fewer
/// for K best lists in registers (at most kOutputChunkSelections values).
int64_t getOutputChunkSize(ReduceOp reduce, bool selectionInMemory);

/// The yielded value that chunks of the output split (null: none): the
/// weight of the shifted-exponential kinds, the formula of the kinds whose
/// results are componentwise in it.
Value getChunkableValue(ReduceOp reduce);

/// Adds to `tree` the componentwise ops that compute `v` from variables and
/// dimension-1 values; false when something else (a constant vector, a
/// slice, ...) is in the way.
bool collectComponentwiseTree(Value v,
                              llvm::SmallPtrSetImpl<Operation *> &tree);

/// Whether `v` reads a variable of the reduced axis (so that it varies
/// along the columns of a kernel; otherwise it is the same for a whole row).
bool readsReducedVariable(ReduceOp reduce, Value v);

/// collectComponentwiseTree with tensordots as leaves too (in `tree`, their
/// operands not): the values of which an output chunk computes only its
/// components (a tensordot's, one at a time from its operands in memory).
bool collectChunkTree(Value v, llvm::SmallPtrSetImpl<Operation *> &tree);

/// Whether `op` is computed by a feature loop: a sum of components (Sum,
/// SqNorm2, Scalprod, SqDist) with an operand of at least `minDim`
/// components (none for minDim <= 0), whose operands are trees of
/// componentwise ops, with tensordots as leaves (collectChunkTree: a loop
/// computes their components one at a time).
bool isFeatureLoopRoot(Operation *op, int64_t minDim);

/// The partial sums a feature loop keeps (it adds as many components an
/// iteration, in independent chains).
inline constexpr int64_t kFeatureLoopSums = 4;

/// The feature-loop roots of `reduce` whose trees read variables and
/// constants only, so that they can be computed before the rest of the
/// formula: the CPU computes those of the rows of an i-block together.
llvm::SmallVector<Operation *> getBlockFeatureLoopRoots(ReduceOp reduce,
                                                        int64_t minDim);

/// A sum of a dimension-1 factor times a reduced variable of many
/// components, sum_j s_ij b_j: the product of the matrices S (rows x
/// columns) and B (the variable's rows), which a target may compute as one.
struct ColumnProduct {
  Value factor;      // s, of dimension 1
  unsigned input = 0; // the position of b among the reduce's inputs
  explicit operator bool() const { return static_cast<bool>(factor); }
};
/// The column product of `reduce` when it is a sum of s * b (either order)
/// with b a reduced variable of at least `minDim` components (s may read b
/// too: SqDist(x, b)) (none for minDim <= 0); else none.
ColumnProduct getColumnProduct(ReduceOp reduce, int64_t minDim);

/// A squared distance |a - b|^2 between a row variable a and a reduced
/// variable b that nothing else reads, a feature-loop root of the block
/// (getBlockFeatureLoopRoots), which a target may compute as |a - c|^2 +
/// |b - c|^2 - 2 <a - c, b - c> for any center c: the norms once per row
/// and per column, the inner products as a matrix product (one multiply-add
/// per component and pair instead of a subtraction and a multiply-add).
struct ExpandableSqDist {
  Operation *op = nullptr;
  unsigned rowInput = 0, columnInput = 0; // positions among the inputs
};
/// The squared distances of `reduce` that may be expanded (none for minDim
/// <= 0; see keops.schedule's sqdist_expansion).
llvm::SmallVector<ExpandableSqDist> getExpandableSqDists(ReduceOp reduce,
                                                          int64_t minDim);
/// The expansion's rounding error is about eps (|a|^2 + |b|^2), which is
/// large against |a - b|^2 when a and b are close compared to their norms:
/// the lanes where |a - b|^2 < kSqDistExpansionGuard (|a|^2 + |b|^2) (or
/// where it is not a number) take the direct form, so that the expansion's
/// relative error stays within about 1 / kSqDistExpansionGuard times the
/// inner product's.
inline constexpr double kSqDistExpansionGuard = 1.0 / 16;

/// Whether `kind` sums over the columns (sum, logsumexp, sumsoftmaxweight):
/// its tiles may be summed apart and merged (the block sum).
bool isSumType(ReductionKind kind);
/// Whether `kind` keeps the K best values of each component (kmin, argkmin,
/// kmin_argkmin).
bool isKMinType(ReductionKind kind);

/// The raw accumulator state of one row: `floats` values of the
/// accumulator type, then `ints` int64 indices. Each kind's Accumulator
/// holds its state in this layout.
struct StateLayout {
  int64_t floats = 0, ints = 0;
};

/// The state of a row of `reduce` with the sum scheme `scheme` (Kahan sums
/// carry a compensation per component) and, with `chunkDim` > 0, for a
/// chunk of that many components of its wide value (see OutputChunks).
StateLayout getStateLayout(ReduceOp reduce, SumScheme scheme,
                           int64_t chunkDim = 0);

/// The tiled form of a reduction: what keops.schedule holds.
struct ReductionTiling {
  int64_t rows = 1, cols = 1;
  bool staged = true;
  FloatType accType;
  SumScheme scheme = SumScheme::BlockSum;
  int64_t featureLoopMinDim = 0;
  OutputChunks chunks;
  /// The input whose rows the tile's factors multiply as a matrix product
  /// (see keops.schedule's column_product); -1: none.
  int64_t columnProduct = -1;
  /// The kmin family keeps each row's K best in memory (see
  /// keops.schedule's selection_in_memory).
  bool selectionInMemory = false;
  /// The block's feature loops compute the expandable squared distances as
  /// inner products (see keops.schedule's sqdist_expansion).
  bool sqdistExpansion = false;

  /// The state of a row (of every chunk, one after the other).
  StateLayout getRowState(ReduceOp reduce) const;
  /// Whether each tile starts from the neutral state and merges into the
  /// total (the block sum of sum-type kinds).
  bool isBlockSum(ReduceOp reduce) const;
};

/// The tiling a keops.schedule holds.
ReductionTiling getTiling(ScheduleOp schedule);

} // namespace mlir::keops

#endif // KEOPS_DIALECT_KEOPS_IR_REDUCEANALYSIS_H
