//===- TileBody.h - The tiles of a keops.schedule, as code ------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares what both kernel generators do with a keops.schedule:
// the accumulator of its tiling, and the body of its keops.for_tiles emitted
// op by op.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_CONVERSION_KEOPSCOMMON_TILEBODY_H
#define KEOPS_CONVERSION_KEOPSCOMMON_TILEBODY_H

#include "keops/Conversion/KeOpsCommon/Accumulator.h"

namespace mlir::keops {

/// The accumulator of `tiling` for `reduce` (of a chunk, with chunks).
std::unique_ptr<Accumulator> createAccumulator(ReduceOp reduce,
                                               const ReductionTiling &tiling);

/// Emits the body of `tiles` for an i-block of `rows` rows whose states so
/// far are `total` (the states of the rows one after the other), and
/// returns the states it yields: keops.state_init is `init()`,
/// keops.accumulate_tile `accumulate(states)` (the target's scan of the
/// tile), keops.state_merge the row-by-row merge of `acc`.
State emitTileBody(LaneEmitter &e, ForTilesOp tiles, Accumulator &acc,
                   int64_t rows, const State &total,
                   llvm::function_ref<State()> init,
                   llvm::function_ref<State(const State &)> accumulate);

} // namespace mlir::keops

#endif // KEOPS_CONVERSION_KEOPSCOMMON_TILEBODY_H
