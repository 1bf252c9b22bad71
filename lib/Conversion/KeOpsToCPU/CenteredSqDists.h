//===- CenteredSqDists.h - Squared distances as inner products --*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares CenteredSqDists, the CPU form of keops.schedule's
// sqdist_expansion: each expanded |x_i - y_j|^2 (x a row variable, y a
// reduced one, each read by that distance only) is computed as
//
//   |x~_i|^2 + |y~_j|^2 - 2 <x~_i, y~_j>,   x~ = x - c, y~ = y - c,
//
// c the mean of the call's rows of x (0 where it is not finite): the
// centered rows and their squared norms once per call (a buffer of the
// call's rows), a tile's centered columns in place of y's staged tile and
// their squared norms once per tile (on the stack). Centering keeps the
// norms small against the distances for points far from the origin, where
// the expansion would round badly; lanes where it still would fall back to
// the direct form (kSqDistExpansionGuard, in emitBlockFeatureLoops).
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_CONVERSION_KEOPSTOCPU_CENTEREDSQDISTS_H
#define KEOPS_LIB_CONVERSION_KEOPSTOCPU_CENTEREDSQDISTS_H

#include "keops/Conversion/KeOpsCommon/KernelFormula.h"

#include "llvm/ADT/MapVector.h"

namespace mlir::keops {

class CenteredSqDists {
public:
  /// The expanded squared distances of `reduce` (getExpandableSqDists),
  /// with vectors of `lanes` elements and tiles of `tileCols` columns.
  CenteredSqDists(ReduceOp reduce, int64_t minDim, int64_t lanes,
                  int64_t tileCols, const KernelArrays &arrays);

  llvm::ArrayRef<ExpandableSqDist> getSqDists() const { return sqdists; }
  /// Whether input `k` is the row variable of an expanded distance.
  bool isCenteredRow(unsigned k) const { return rows.count(k); }

  /// Allocates the buffers (the columns' on the stack: call it in the
  /// entry block).
  void allocateColumns(OpBuilder &b, Location loc);
  /// The centers, centered rows and their squared norms for the rows
  /// [rowBegin, rowEnd) of the call (allocated: see release).
  void prepareRows(OpBuilder &b, Location loc, Value rowBegin, Value rowEnd);
  /// Frees the rows' buffers.
  void release(OpBuilder &b, Location loc);

  /// Centers the lanes of columns [j, j + lanes) (masked past the tile's
  /// end with `mask`) of the staged tile, where component d of reduced
  /// input k at column col is at `staged`[stagedOffset(b, k, d, col)], and
  /// stores their squared norms.
  void centerColumns(
      OpBuilder &b, Location loc, Value staged,
      llvm::function_ref<Value(OpBuilder &, unsigned k, Value d, Value col)>
          stagedOffset,
      Value tileBegin, Value j, Value mask);

  /// Component `d` of the centered row `row` of input `k`, broadcast to
  /// lanes.
  Value rowComponent(OpBuilder &b, Location loc, unsigned k, Value row,
                     Value d);
  /// The squared norm of the centered row `row` of input `k`, broadcast.
  Value rowNorm(OpBuilder &b, Location loc, unsigned k, Value row);
  /// The squared norms of the centered columns [j, j + lanes) of input k.
  Value columnNorm(OpBuilder &b, Location loc, unsigned k, Value tileBegin,
                   Value j);

private:
  /// Runs `body(b, d, mask, carried)` for the components of a row of
  /// `dim`: whole vectors (null mask), then a masked tail; the body
  /// returns the next carried value (from `init`; null: none), and the
  /// last is returned.
  Value forComponentLanes(
      OpBuilder &b, Location loc, int64_t dim, Value init,
      llvm::function_ref<Value(OpBuilder &, Value d, Value mask,
                               Value carried)>
          body);
  /// Components [d, d + lanes) of row `row` of input `k` (masked).
  Value loadRow(OpBuilder &b, Location loc, unsigned k, Value row, Value d,
                Value mask);
  /// Where the tile's norm of reduced input `k` at column `j` is.
  Value columnNormAt(OpBuilder &b, Location loc, unsigned k, Value tileBegin,
                     Value j);
  /// Where component `d` of `row`'s centered row of `k` is.
  Value centeredAt(OpBuilder &b, Location loc, unsigned k, Value row,
                   Value d);

  /// The buffers of a row variable: its center (dim elements, on the
  /// stack), its centered rows (row r - rowBegin at (r - rowBegin) * dim)
  /// and their squared norms.
  struct Rows {
    int64_t dim = 0;
    Value center, centered, norms;
  };
  llvm::SmallVector<ExpandableSqDist> sqdists;
  int64_t lanes, normStride;
  const KernelArrays &arrays;
  VectorType laneType;
  llvm::MapVector<unsigned, Rows> rows;
  /// The row input whose center each reduced input takes, and where the
  /// tile's column norms are (slot * normStride).
  llvm::MapVector<unsigned, unsigned> rowOfColumn;
  Value columnNorms;
  Value rowBegin;
};

} // namespace mlir::keops

#endif // KEOPS_LIB_CONVERSION_KEOPSTOCPU_CENTEREDSQDISTS_H
