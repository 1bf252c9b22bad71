//===- RowHeaps.h - The K best of each row, as heaps in memory --*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares RowHeaps, the state of a kmin-family reduction on the
// CPU under keops.schedule's heap_selection: per row and component, the K
// best (value, column) pairs as a max-heap by (value, column) in the
// scratch buffers. The root, the K-th best, is the threshold: a vector of
// candidates that does not beat it is rejected by one comparison, and the
// few that do replace the root and sift down, in loops, so that the code
// does not grow with K. Sorted (heapsort), a row's heaps are its raw state:
// the K best ascending per component, as the kind's Accumulator holds it.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_CONVERSION_KEOPSTOCPU_ROWHEAPS_H
#define KEOPS_LIB_CONVERSION_KEOPSTOCPU_ROWHEAPS_H

#include "keops/Conversion/KeOpsCommon/KernelFormula.h"

namespace mlir::keops {

class RowHeaps {
public:
  /// The heaps of `reduce` (a kmin-family kind) in the scratch buffers
  /// `floats` (of `accType`) and `ints`: heap slot s holds, for position p
  /// of component c, floats[(s * K + p) * dim + c] and the column at the
  /// same place of `ints`.
  RowHeaps(ReduceOp reduce, FloatType accType, Value floats, Value ints);

  /// Fills the heaps of `slot` with (+inf, 0), which every value beats.
  void init(OpBuilder &b, Location loc, Value slot);
  /// The thresholds of `slot` (the roots' values), one per component,
  /// broadcast to `laneType`.
  State thresholds(OpBuilder &b, Location loc, Value slot,
                   VectorType laneType);
  /// Offers the lanes of `f` (one vector per component, columns j + lane;
  /// only the lanes of `live` when given) to the heaps of `slot` whose
  /// `thresholds` they are, unless `valid` (i1, when given) is false; the
  /// new thresholds. Columns reach a heap in increasing order, so a value
  /// enters when it is below the threshold.
  State offerLanes(OpBuilder &b, Location loc, Value slot,
                   const State &thresholds, const Components &f, Value j,
                   Value live, Value valid);
  /// Offers the K best of every component of the raw state of `row` for
  /// `split` to the heaps of `slot`, by (value, column).
  void offerRaw(OpBuilder &b, Location loc, Value slot, const RawStates &raw,
                Value split, Value row);
  /// Sorts the heaps of `slot` in place: the K best ascending by (value,
  /// column), the raw state of the kind.
  void sort(OpBuilder &b, Location loc, Value slot);
  /// Copies the sorted heaps of `slot` to the raw state of `row` for `split`.
  void storeRaw(OpBuilder &b, Location loc, Value slot, const RawStates &raw,
                Value split, Value row);
  /// Stores the results of output row `row` from the sorted heaps of `slot`.
  void storeResults(OpBuilder &b, Location loc, Value slot,
                    const KernelArrays &arrays, Value row);

private:
  /// Where position `p` of component `c` of the heaps of `slot` is.
  Value at(OpBuilder &b, Location loc, Value slot, Value p, int64_t c);
  /// (a, ia) > (b, ib) by value, then column.
  Value greater(OpBuilder &b, Location loc, Value a, Value ia, Value bValue,
                Value ib);
  /// Replaces the root of the heap of component `c` of `slot` (`size`
  /// positions) by (value, column) and sifts it down.
  void replaceRoot(OpBuilder &b, Location loc, Value slot, int64_t c,
                   Value size, Value value, Value column);
  /// Runs `body(b, e)` for every element e of a row's flat state (K * dim
  /// pairs, in the order of the raw state), in a loop.
  void forEachElement(OpBuilder &b, Location loc,
                      llvm::function_ref<void(OpBuilder &, Value)> body);

  ReduceOp reduce;
  int64_t dim, k;
  FloatType accType;
  Value floats, ints;
};

} // namespace mlir::keops

#endif // KEOPS_LIB_CONVERSION_KEOPSTOCPU_ROWHEAPS_H
