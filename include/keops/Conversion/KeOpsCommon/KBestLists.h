//===- KBestLists.h - The K best of each row, in memory ---------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares KBestLists, the state of a kmin-family reduction
// under keops.schedule's selection_in_memory: per row and component, the K
// best (value, column) pairs in memory (the CPU's scratch buffers, a GPU
// thread's local memory), ordered by (value, column), either
//
//   - sorted vectors (K up to kMaxSortedVectors vectors of lanes): a pair
//     enters by a vector compare, shift and select per vector, without a
//     branch; or
//   - a max-heap (more): a pair replaces the root and sifts down, in a loop.
//
// The worst kept pair (the last of the sorted vector, the heap's root) is
// the threshold: a vector of candidates that does not beat it is rejected
// by one comparison. Nothing is unrolled K times. Sorted (the heaps by
// heapsort), the lists are the raw state that the kind's Accumulator
// holds: the K best ascending per component.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_CONVERSION_KEOPSCOMMON_KBESTLISTS_H
#define KEOPS_CONVERSION_KEOPSCOMMON_KBESTLISTS_H

#include "keops/Conversion/KeOpsCommon/KernelFormula.h"

namespace mlir::keops {

class KBestLists {
public:
  /// The lists of `reduce` (a kmin-family kind) in the buffers `floats`
  /// (of `accType`) and `ints`, for kernels of `lanes` lanes:
  /// list slot s holds position p of component c at (s * dim + c) * S + p,
  /// S = listSize(). With output chunks (`chunkDim` > 0), the lists are
  /// those of the chunk being computed, dim = chunkDim.
  KBestLists(ReduceOp reduce, FloatType accType, int64_t lanes, Value floats,
             Value ints, int64_t chunkDim);
  /// The positions of the lists of one slot (per buffer): a slot s takes
  /// [s * slotSize, (s + 1) * slotSize).
  static int64_t slotSize(ReduceOp reduce, int64_t lanes, int64_t chunkDim);

  /// Fills the lists of `slot` with (+inf, KEOPS_RT_NO_COLUMN), which every
  /// value but NaN and +inf beats.
  void init(OpBuilder &b, Location loc, Value slot);
  /// The thresholds of `slot`, one per component, broadcast to `laneType`.
  State thresholds(OpBuilder &b, Location loc, Value slot,
                   VectorType laneType);
  /// Offers the lanes of `f` (one vector per component, columns j + lane;
  /// only the lanes of `live` when given) to the lists of `slot` whose
  /// `thresholds` they are, unless `valid` (i1, when given) is false; the
  /// new thresholds. One lane (a GPU thread): a branch per component, no
  /// stack.
  State offerLanes(OpBuilder &b, Location loc, Value slot,
                   const State &thresholds, const Components &f, Value j,
                   Value live, Value valid);
  /// Offers the K best of every component of the raw state of `row` for
  /// `split` to the lists of `slot`.
  void offerRaw(OpBuilder &b, Location loc, Value slot, const RawStates &raw,
                Value split, Value row);
  /// Sorts the lists of `slot`, then copies them to the raw state of `row`
  /// for `split` where `toRaw` (i1) holds, else stores the results of
  /// output row `row` from them (those of `chunk`, when given).
  void finish(OpBuilder &b, Location loc, Value slot, Value toRaw,
              const RawStates &raw, Value split, const KernelArrays &arrays,
              Value row, const ChunkPosition *chunk);
  /// Merge mode: the lists of `slot` from the raw states of `row` for
  /// every split of `splits`, sorted, stored as the results of `row`.
  void storeMerged(OpBuilder &b, Location loc, Value slot,
                   const RawStates &raw, Value splits,
                   const KernelArrays &arrays, Value row,
                   const ChunkPosition *chunk);

private:
  /// Sorts the lists of `slot` in place (heapsort; sorted vectors already
  /// are): the K best ascending by (value, column).
  void sort(OpBuilder &b, Location loc, Value slot);
  /// Copies the sorted lists of `slot` to the raw state of `row` for
  /// `split`.
  void storeRaw(OpBuilder &b, Location loc, Value slot, const RawStates &raw,
                Value split, Value row);
  /// Stores the results of output row `row` from the sorted lists of `slot`
  /// (those of `chunk`, when given).
  void storeResults(OpBuilder &b, Location loc, Value slot,
                    const KernelArrays &arrays, Value row,
                    const ChunkPosition *chunk);
  /// Where position `p` of component `c` of the lists of `slot` is.
  Value at(OpBuilder &b, Location loc, Value slot, Value p, Value c);
  /// Where the threshold of component `c` of `slot` is.
  Value thresholdAt(OpBuilder &b, Location loc, Value slot, Value c);
  /// (a, ia) > (b, ib) by value, then column (scalars or vectors).
  Value greater(OpBuilder &b, Location loc, Value a, Value ia, Value bValue,
                Value ib);
  /// Puts (value, column), which beats the threshold, into the list of
  /// component `c` of `slot`.
  void insert(OpBuilder &b, Location loc, Value slot, Value c, Value value,
              Value column);
  /// Heaps: replaces the root of the heap of component `c` of `slot`
  /// (`size` positions) by (value, column) and sifts it down.
  void replaceRoot(OpBuilder &b, Location loc, Value slot, Value c,
                   Value size, Value value, Value column);
  /// Runs `body(b, c, p, where, e)` for every position p < K of every
  /// component c of `slot`, in a loop per component: `where` is its place
  /// in the lists, e = p * dim + c its place in the flat state (the raw
  /// state's order).
  void forEachPosition(
      OpBuilder &b, Location loc, Value slot,
      llvm::function_ref<void(OpBuilder &, Value c, Value p, Value where,
                              Value e)>
          body);
  /// Runs `body(b, c)` in a loop over the components c of the lists.
  void forEachComponent(OpBuilder &b, Location loc,
                        llvm::function_ref<void(OpBuilder &, Value c)> body);
  /// offerLanes for one lane, whose components enter where `beats` (one
  /// vector<1xi1> each) says: a branch per component.
  State offerEach(OpBuilder &b, Location loc, Value slot,
                  const State &thresholds, const Components &f,
                  llvm::ArrayRef<Value> beats, Value j);
  /// Offers the lanes set in `mask` (an integer of a bit per lane) of the
  /// candidates of component `c`, at `first` in the stack buffer
  /// `candidates` (column j + lane), to its list in `slot`.
  void offerMask(OpBuilder &b, Location loc, Value slot, Value c, Value mask,
                 Value candidates, Value first, Value j);

  /// The most vectors of a sorted list; longer lists are heaps.
  static constexpr int64_t kMaxSortedVectors = 8;
  /// The vectors of a sorted list of K positions; 0: heaps.
  static int64_t vectorsPerList(int64_t k, int64_t lanes);
  /// The positions of a list: all the lanes of its sorted vectors (those
  /// past K are never read), or K.
  static int64_t listSize(int64_t k, int64_t lanes);
  int64_t listSize() const { return listSize(k, lanes); }

  ReduceOp reduce;
  int64_t dim, k, lanes;
  /// vectorsPerList(k, lanes).
  int64_t sortedVectors;
  FloatType accType;
  Value floats, ints;
};

} // namespace mlir::keops

#endif // KEOPS_CONVERSION_KEOPSCOMMON_KBESTLISTS_H
