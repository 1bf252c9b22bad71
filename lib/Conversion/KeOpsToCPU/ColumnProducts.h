//===- ColumnProducts.h - Sums of factors times wide rows -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares ColumnProducts, the CPU form of keops.schedule's
// column_product: the sum over j of a dimension-1 factor s_ij times the D
// components of a reduced variable b_j is, per i-block of R rows and j-tile
// of T columns, the product of the R x T factors (computed first, in lanes
// of columns, into a buffer) and the T x D rows of b, read in place:
//
//   for groups of G vectors of components:
//     acc[r][g] = the sums of row r (in the scratch)
//     for t < T: load b_t's G vectors once; for r < R:
//       acc[r][g] += broadcast(s[r][t]) * b_t[g]     (R x G FMAs)
//     the sums = acc
//
// so that each load of b serves R rows and each factor G vectors, and a
// factor is computed once per pair, not once per chunk of components.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_CONVERSION_KEOPSTOCPU_COLUMNPRODUCTS_H
#define KEOPS_LIB_CONVERSION_KEOPSTOCPU_COLUMNPRODUCTS_H

#include "keops/Conversion/KeOpsCommon/KernelFormula.h"

namespace mlir::keops {

class ColumnProducts {
public:
  /// The products of input `input` (of `dim` components, among `arrays`),
  /// with vectors of `lanes` elements of `accType`, the rows' sums in the
  /// scratch buffer `sums` (slot s at s * paddedDim()) and the factors of a
  /// block in `factors` (row r, tile column t at first + r * tileCols + t).
  /// With `blockSum`, each tile's products are summed from zero, then
  /// added to the sums (the block sum); otherwise added to them directly.
  ColumnProducts(unsigned input, int64_t dim, int64_t lanes,
                 FloatType accType, bool blockSum, const KernelArrays &arrays,
                 Value sums, Value factors, int64_t first, int64_t tileCols);

  /// Zeroes the sums of `slot`.
  void init(OpBuilder &b, Location loc, Value slot);
  /// Where the factor of row `r` of the block at tile column `t` is.
  Value factorAt(OpBuilder &b, Location loc, int64_t r, Value t);
  /// Adds the products of the block's factors (rows with sums at `slots`)
  /// and the rows [tileBegin, tileEnd) of the input to the sums.
  void accumulateTile(OpBuilder &b, Location loc, llvm::ArrayRef<Value> slots,
                      Value tileBegin, Value tileEnd);
  /// Stores the sums of `slot` as the output row `row`, or (`toRaw`) to
  /// its raw state for `split`, added to the state there when `resume`.
  void store(OpBuilder &b, Location loc, Value slot, Value row, Value toRaw,
             Value resume, const RawStates &raw, Value split);
  /// Stores the sum of the raw states of `row` for splits [0, splits) as
  /// the output row `row`.
  void storeMerged(OpBuilder &b, Location loc, Value row,
                   const RawStates &raw, Value splits);

private:
  /// The vectors of components that a pass over the tile accumulates.
  static constexpr int64_t kGroupVectors = 4;
  /// The components of a row's sums: dim rounded up to whole groups.
  int64_t paddedDim() const {
    int64_t group = kGroupVectors * lanes;
    return (dim + group - 1) / group * group;
  }
  Value sumAt(OpBuilder &b, Location loc, Value slot, Value d);
  /// Where component `d` of the raw state of `row` for `split` is.
  Value rawAt(OpBuilder &b, Location loc, const RawStates &raw, Value split,
              Value row, Value d);
  /// Runs `body(b, d)` for each component d.
  void forEachComponent(OpBuilder &b, Location loc,
                        llvm::function_ref<void(OpBuilder &, Value)> body);
  /// Stores `sum` as component `d` of the output row `row`.
  void storeOutput(OpBuilder &b, Location loc, Value sum, Value row, Value d);

  unsigned input;
  int64_t dim, lanes;
  FloatType accType;
  bool blockSum;
  const KernelArrays &arrays;
  Value sumsBuffer, factors;
  int64_t first, tileCols;
};

} // namespace mlir::keops

#endif // KEOPS_LIB_CONVERSION_KEOPSTOCPU_COLUMNPRODUCTS_H
