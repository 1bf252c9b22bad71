//===- TileBody.cpp - The tiles of a keops.schedule, as code ----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements TileBody.h.
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/KeOpsCommon/TileBody.h"

using namespace mlir;
using namespace mlir::keops;

std::unique_ptr<Accumulator>
keops::createAccumulator(ReduceOp reduce, const ReductionTiling &tiling) {
  return Accumulator::create(reduce, tiling.accType, tiling.scheme,
                             tiling.chunks.size);
}

State keops::emitTileBody(LaneEmitter &e, ForTilesOp tiles, Accumulator &acc,
                          int64_t rows, const State &total,
                          llvm::function_ref<State()> init,
                          llvm::function_ref<State(const State &)> accumulate) {
  Block &body = tiles.getBody().front();
  llvm::DenseMap<Value, State> states;
  states[body.getArgument(0)] = total;
  auto stateOf = [&](Value value) {
    return value.getDefiningOp<StateInitOp>() ? init() : states.at(value);
  };
  for (Operation &op : body.without_terminator()) {
    if (auto accumulateOp = llvm::dyn_cast<AccumulateTileOp>(op)) {
      states[accumulateOp.getResult()] =
          accumulate(stateOf(accumulateOp.getState()));
    } else if (auto merge = llvm::dyn_cast<StateMergeOp>(op)) {
      llvm::SmallVector<State> lhs =
          splitRowStates(stateOf(merge.getLhs()), rows);
      llvm::SmallVector<State> rhs =
          splitRowStates(stateOf(merge.getRhs()), rows);
      State merged;
      for (int64_t r = 0; r < rows; ++r)
        merged.append(acc.merge(e, lhs[r], rhs[r]));
      states[merge.getState()] = merged;
    }
  }
  return stateOf(llvm::cast<TileYieldOp>(body.getTerminator()).getState());
}

