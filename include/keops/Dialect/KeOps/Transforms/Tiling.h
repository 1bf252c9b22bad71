//===- Tiling.h - The target-neutral tiled form of a reduction --*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares what keops-tile-reductions decides for a kernel's
// reduction (tile sizes, staging, accumulator) and how the conversions read
// it back from the keops.schedule it builds.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_TRANSFORMS_TILING_H
#define KEOPS_DIALECT_KEOPS_TRANSFORMS_TILING_H

#include "keops/Conversion/KeOpsCommon/KernelFormula.h"
#include "keops/Dialect/KeOps/Transforms/Passes.h"

namespace mlir::keops {

/// The tiled form of a reduction: what keops.schedule holds.
struct ReductionTiling {
  int64_t rows = 1, cols = 1;
  bool staged = true;
  FloatType accType;
  SumScheme scheme = SumScheme::BlockSum;
  int64_t featureLoopMinDim = 0;
  OutputChunks chunks;
};

/// The tiling of `reduce` (either axis) with `options` (see
/// keops-tile-reductions), or failure with a message in `error` for bad
/// options.
FailureOr<ReductionTiling>
chooseTiling(ReduceOp reduce, const KeOpsTileReductionsPassOptions &options,
             std::string &error);

/// Adds the keops.schedule of `tiling` right after `reduce`.
ScheduleOp buildSchedule(OpBuilder &b, ReduceOp reduce,
                         const ReductionTiling &tiling);

/// The tiling a keops.schedule holds.
ReductionTiling getTiling(ScheduleOp schedule);

/// The accumulator of `tiling` for `reduce` (of a chunk, with chunks).
std::unique_ptr<Accumulator> createAccumulator(ReduceOp reduce,
                                               const ReductionTiling &tiling);

/// The keops.schedule of `func` when its body is one keops.reduce over j of
/// its arguments, in order, and that schedule (what keops-tile-reductions
/// makes); otherwise an error on `func` naming `passName`, and failure.
FailureOr<ScheduleOp> getKernelSchedule(func::FuncOp func,
                                        llvm::StringRef passName);

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

#endif // KEOPS_DIALECT_KEOPS_TRANSFORMS_TILING_H
