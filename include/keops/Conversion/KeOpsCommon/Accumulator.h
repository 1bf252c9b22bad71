//===- Accumulator.h - The state of a reduction kind ------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares Accumulator, the interface that defines a reduction
// kind once as a monoid over lanes of pairs:
//
//   init -> accumulate(state, F, G, j)* -> merge(state, state)* -> finalize
//
// A state is a list of vectors of W lanes (values of the accumulator type A,
// or i64 indices). Tiling, lanes, threads and devices all combine partial
// states with `merge`, so every target reuses one definition per kind.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_CONVERSION_KEOPSCOMMON_ACCUMULATOR_H
#define KEOPS_CONVERSION_KEOPSCOMMON_ACCUMULATOR_H

#include "keops/Conversion/KeOpsCommon/LaneEmitter.h"
#include "keops/Dialect/KeOps/IR/ReduceAnalysis.h"

#include <memory>

namespace mlir::keops {

using State = llvm::SmallVector<Value, 8>;

/// The states of a block of `rows` rows, one after the other (what loops
/// carry), split into one state per row.
llvm::SmallVector<State> splitRowStates(ValueRange block, int64_t rows);

class Accumulator {
public:
  virtual ~Accumulator() = default;

  /// The accumulator for `reduce`, with values accumulated in `accType`;
  /// with `chunkDim` > 0, for a chunk of that many components of its wide
  /// value (the weight when there is one, else the formula; see
  /// OutputChunks).
  static std::unique_ptr<Accumulator> create(ReduceOp reduce, FloatType accType,
                                             SumScheme scheme,
                                             int64_t chunkDim = 0);

  /// The layout of the state: the dialect's getStateLayout of its kind,
  /// which every accumulator's states follow.
  const StateLayout &getStateLayout() const { return stateLayout; }
  /// The types of the state for W lanes: the layout's floats, vectors of
  /// the accumulator type, then its ints, vectors of i64.
  llvm::SmallVector<Type> stateTypes(int64_t width) const;
  /// The neutral state for W lanes.
  virtual State init(LaneEmitter &e, int64_t width) = 0;
  /// Adds the formula value `f` (and weight `g`) at columns `j` (vector of
  /// i64) to `state`. Components are vectors of the state's width, already
  /// converted to the accumulator type.
  virtual State accumulate(LaneEmitter &e, const State &state,
                           const Components &f, const Components &g,
                           Value j) = 0;
  /// Combines two states of the same width.
  virtual State merge(LaneEmitter &e, const State &a, const State &b) = 0;
  /// The result components (each of width 1) from a state of width 1: one
  /// list per result of the reduction.
  virtual llvm::SmallVector<Components> finalize(LaneEmitter &e,
                                                 const State &state) = 0;
  /// Whether the tiles of the block sum apply to this kind.
  bool isSumType() const { return sumType; }

private:
  /// The accumulator of the kind of `reduce` (create sets the rest).
  static std::unique_ptr<Accumulator> createOfKind(ReduceOp reduce,
                                                   FloatType accType,
                                                   SumScheme scheme,
                                                   int64_t chunkDim);

  StateLayout stateLayout;
  FloatType stateAccType;
  bool sumType = false;
};

} // namespace mlir::keops

#endif // KEOPS_CONVERSION_KEOPSCOMMON_ACCUMULATOR_H
