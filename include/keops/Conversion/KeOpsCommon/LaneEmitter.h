//===- LaneEmitter.h - Emit formula ops on lanes of pairs -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares LaneEmitter, the builder with which the kernel
// generators emit formula ops (emitFormulaOp: each formula op's
// `emitLanes`, a template that only they instantiate, so that the dialect
// itself generates no code). A formula value of
// dimension D is held as D components; each component is one SSA value
// covering several (i, j) pairs at once: a vector<L x T> of L lanes on the
// CPU (consecutive j), a scalar on a GPU thread. Ops therefore emit the same
// arith/math code for every target, one component at a time.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_CONVERSION_KEOPSCOMMON_LANEEMITTER_H
#define KEOPS_CONVERSION_KEOPSCOMMON_LANEEMITTER_H

#include "keops/Dialect/KeOps/IR/KeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::keops {

/// The components of one formula value.
using Components = llvm::SmallVector<Value, 4>;

class LaneEmitter {
public:
  /// `laneType` is the type of one component: vector<L x T> or T.
  LaneEmitter(OpBuilder &builder, Location loc, Type laneType)
      : builder(builder), loc(loc), laneType(laneType) {}

  OpBuilder &getBuilder() { return builder; }
  Location getLoc() { return loc; }

  Type getLaneType() { return laneType; }

  /// A constant with the type of `like` (scalar or vector splat).
  Value constant(Value like, double value);
  /// A constant component (of the lane type).
  Value constant(double value);

  Value add(Value a, Value b);
  Value sub(Value a, Value b);
  Value mul(Value a, Value b);
  Value div(Value a, Value b);
  Value neg(Value x);
  Value min(Value a, Value b);
  Value max(Value a, Value b);
  Value exp(Value x);
  Value log(Value x);
  Value sqrt(Value x);
  Value sin(Value x);
  Value cos(Value x);
  Value abs(Value x);
  /// 1/sqrt(x), and 0 for x == 0.
  Value rsqrt(Value x);
  /// x^n for a constant integer n, by repeated squaring.
  Value powi(Value x, int64_t n);
  Value sign(Value x);
  Value step(Value x);
  Value relu(Value x);
  Value asin(Value x);
  Value acos(Value x);
  Value atan(Value x);
  Value atan2(Value y, Value x);
  Value floor(Value x);
  /// Rounding to the nearest integer, halves away from zero.
  Value round(Value x);
  /// round(x * 10^d) / 10^d.
  Value roundTo(Value x, int64_t decimals);
  /// x log(x), 0 at 0.
  Value xlogx(Value x);
  /// sin(x)/x, 1 at 0.
  Value sinxdivx(Value x);
  /// A comparison mask.
  Value compare(arith::CmpFPredicate predicate, Value a, Value b);
  /// 1 where `mask` is set, else 0 (of the lane type of the comparison).
  Value indicator(Value mask);

  /// Ordered comparisons giving an i1 (or vector of i1) mask.
  Value lessThan(Value a, Value b);
  Value greaterThan(Value a, Value b);
  Value select(Value condition, Value ifTrue, Value ifFalse);

  /// Component k of `operand`, broadcasting a dimension-1 operand.
  static Value component(const Components &operand, size_t k) {
    return operand[operand.size() == 1 ? 0 : k];
  }
  /// Applies `f` componentwise to broadcasting operands.
  Components broadcast(llvm::ArrayRef<Components> operands,
                       llvm::function_ref<Value(llvm::ArrayRef<Value>)> f);
  /// combine(...combine(combine(x0, x1), x2)..., xn).
  Value fold(const Components &x,
             llvm::function_ref<Value(Value, Value)> combine);
  /// Sum of the components.
  Value sum(const Components &x);
  /// Scalar product of two equal-length component lists.
  Value dot(const Components &x, const Components &y);
  /// Smallest/largest component, and its (first) index as a float.
  Value minOf(const Components &x);
  Value maxOf(const Components &x);
  Value argMinOf(const Components &x);
  Value argMaxOf(const Components &x);

private:
  Value constantOfType(Type type, double value);
  /// The float type matching the shape of an i1 mask.
  Type floatTypeLike(Value mask);
  /// The first index of the best component under `better(candidate, best)`.
  Value argBest(const Components &x, bool smallest);

  OpBuilder &builder;
  Location loc;
  Type laneType;
};

/// Emits the formula op `op` with `emitter`: `operands[k]` holds the
/// components of operand k; the components of the result are appended to
/// `result`.
void emitFormulaOp(LaneEmitter &emitter, Operation *op,
                   llvm::ArrayRef<Components> operands, Components &result);

} // namespace mlir::keops

#endif // KEOPS_CONVERSION_KEOPSCOMMON_LANEEMITTER_H
