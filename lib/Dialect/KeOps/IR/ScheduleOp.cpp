//===- ScheduleOp.cpp - The tiled form of a reduction -----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the verifiers and accessors of keops.schedule and
// the ops of its body (KeOpsScheduleOps.td).
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Dialect/KeOps/IR/ReduceAnalysis.h"

using namespace mlir;
using namespace mlir::keops;

/// The block that holds the i-block program of `schedule`.
static Block &programBlock(ScheduleOp schedule) {
  if (OutputChunksOp chunks = schedule.getOutputChunks())
    return chunks.getBody().front();
  return schedule.getBody().front();
}

/// Checks that `block` is an i-block program: init, for_tiles of it, store
/// of its result.
static LogicalResult verifyProgram(Operation *owner, Block &block) {
  auto fail = [&] {
    return owner->emitOpError(
        "body must be keops.state_init, keops.for_tiles of its state and "
        "keops.state_store of the tiles' states");
  };
  if (block.getOperations().size() != 3)
    return fail();
  auto it = block.begin();
  auto init = llvm::dyn_cast<StateInitOp>(*it++);
  auto tiles = llvm::dyn_cast<ForTilesOp>(*it++);
  auto store = llvm::dyn_cast<StateStoreOp>(*it);
  if (!init || !tiles || !store || tiles.getInit() != init.getState() ||
      store.getState() != tiles.getState())
    return fail();
  return success();
}

ReduceOp ScheduleOp::getReduce() {
  return getReduction().getDefiningOp<ReduceOp>();
}

OutputChunksOp ScheduleOp::getOutputChunks() {
  Block &body = getBody().front();
  if (!llvm::hasSingleElement(body))
    return nullptr;
  return llvm::dyn_cast<OutputChunksOp>(body.front());
}

StateInitOp ScheduleOp::getInit() {
  return llvm::cast<StateInitOp>(programBlock(*this).front());
}

ForTilesOp ScheduleOp::getForTiles() {
  return llvm::cast<ForTilesOp>(*std::next(programBlock(*this).begin()));
}

StateStoreOp ScheduleOp::getStore() {
  return llvm::cast<StateStoreOp>(programBlock(*this).back());
}

LogicalResult ScheduleOp::verify() {
  ReduceOp reduce = getReduce();
  if (!reduce || reduce.getAxis() != Axis::j)
    return emitOpError("schedules a result of a keops.reduce over j");
  if (!symbolizeSumScheme(getSumScheme()))
    return emitOpError("sum_scheme must be block_sum, kahan_scheme or "
                       "direct_sum, got '")
           << getSumScheme() << "'";
  if (getSqdistExpansion() &&
      getExpandableSqDists(reduce, getFeatureLoopMinDim()).empty())
    return emitOpError("sqdist_expansion needs a keops.sqdist of a row "
                       "variable and a reduced variable computed by a "
                       "feature loop (feature_loop_min_dim components)");
  if (OutputChunksOp chunks = getOutputChunks())
    return verifyProgram(chunks, chunks.getBody().front());
  return verifyProgram(*this, getBody().front());
}

LogicalResult ForTilesOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.getNumArguments() != 1 ||
      !llvm::isa<StateType>(body.getArgument(0).getType()))
    return emitOpError("body takes one !keops.state: the states so far");
  if (!llvm::isa<TileYieldOp>(body.getTerminator()))
    return emitOpError("body must end with keops.tile_yield");
  for (Operation &op : body.without_terminator())
    if (!llvm::isa<StateInitOp, StateMergeOp, AccumulateTileOp>(op))
      return op.emitOpError("is not allowed in keops.for_tiles (only "
                            "state_init, state_merge, accumulate_tile)");
  return success();
}
