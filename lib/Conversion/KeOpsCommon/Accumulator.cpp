//===- Accumulator.cpp - The state of every reduction kind ------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the Accumulator of every reduction kind:
//
//   sum               s += f                   (or Kahan-compensated)
//   logsumexp,        (m, s): m = max f, s = sum exp(f - m) g, with one exp
//   sumsoftmaxweight    per pair; g = 1 without weight, (1, g) for softmax
//   min, max          per component, NaN-ignoring strict comparison
//   arg*, *_arg*      value and first index of the best value
//   kmin family       the K best (value, index) per component, sorted;
//                     inserting only what may be among the K best of all
//                     lanes
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/KeOpsCommon/Accumulator.h"

#include "keops/Runtime/KeOpsRuntime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "llvm/Support/MathExtras.h"

#include <limits>
#include <tuple>

using namespace mlir;
using namespace mlir::keops;

static constexpr double kInf = std::numeric_limits<double>::infinity();

static VectorType vectorOf(int64_t width, Type element) {
  return VectorType::get({width}, element);
}

static Value splat(LaneEmitter &e, VectorType type, double value) {
  OpBuilder &b = e.getBuilder();
  TypedAttr attr;
  if (auto floatType = llvm::dyn_cast<FloatType>(type.getElementType()))
    attr = b.getFloatAttr(floatType, value);
  else
    attr = b.getIntegerAttr(type.getElementType(), static_cast<int64_t>(value));
  return arith::ConstantOp::create(b, e.getLoc(),
                                   DenseElementsAttr::get(type, attr));
}

static Value selectIndex(LaneEmitter &e, Value condition, Value a, Value b) {
  return arith::SelectOp::create(e.getBuilder(), e.getLoc(), condition, a, b);
}

namespace {

//===----------------------------------------------------------------------===//
// Sum
//===----------------------------------------------------------------------===//

/// sum: one value per component; Kahan keeps a compensation per component.
class SumAccumulator final : public Accumulator {
public:
  SumAccumulator(int64_t dim, FloatType accType, bool kahan)
      : dim(dim), accType(accType), kahan(kahan) {}

  State init(LaneEmitter &e, int64_t width) override {
    return State(dim * (kahan ? 2 : 1), splat(e, vectorOf(width, accType), 0));
  }
  State accumulate(LaneEmitter &e, const State &state, const Components &f,
                   const Components &, Value) override {
    State next(state);
    for (int64_t k = 0; k < dim; ++k) {
      if (kahan)
        addCompensated(e, next[k], next[dim + k], f[k]);
      else
        next[k] = e.add(state[k], f[k]);
    }
    return next;
  }
  State merge(LaneEmitter &e, const State &a, const State &b) override {
    State merged(a);
    for (int64_t k = 0; k < dim; ++k) {
      // Kahan: b's corrected sum s - c enters a as one compensated term.
      if (kahan)
        addCompensated(e, merged[k], merged[dim + k],
                       e.sub(b[k], b[dim + k]));
      else
        merged[k] = e.add(a[k], b[k]);
    }
    return merged;
  }
  llvm::SmallVector<Components> finalize(LaneEmitter &,
                                         const State &state) override {
    return {Components(state.begin(), state.begin() + dim)};
  }

private:
  /// Kahan: y = v - c; t = s + y; c = (t - s) - y; s = t.
  static void addCompensated(LaneEmitter &e, Value &s, Value &c, Value v) {
    Value y = e.sub(v, c);
    Value t = e.add(s, y);
    c = e.sub(e.sub(t, s), y);
    s = t;
  }

  int64_t dim;
  FloatType accType;
  bool kahan;
};

//===----------------------------------------------------------------------===//
// LogSumExp and SumSoftMaxWeight
//===----------------------------------------------------------------------===//

/// (m, s_0..s_{E-1}): m = max_j f_j, s_k = sum_j exp(f_j - m) g_jk.
class ShiftedExpSumAccumulator final : public Accumulator {
public:
  enum class Finalize { LogSumExp, SoftMax };
  ShiftedExpSumAccumulator(int64_t numSums, FloatType accType, Finalize mode)
      : numSums(numSums), accType(accType), mode(mode) {}

  State init(LaneEmitter &e, int64_t width) override {
    State state{splat(e, vectorOf(width, accType), -kInf)};
    state.append(numSums, splat(e, vectorOf(width, accType), 0));
    return state;
  }
  State accumulate(LaneEmitter &e, const State &state, const Components &f,
                   const Components &g, Value) override {
    // One exp per pair: e = exp(-|f - m|); if f > m the old sums scale by e
    // and g enters with weight 1, else g enters with weight e. A value of
    // -inf contributes nothing (this also avoids -inf - -inf); f = m counts
    // with e = 1 (this avoids +inf - +inf).
    Value m = state[0], v = f[0];
    Value greater = e.greaterThan(v, m);
    Value diff = e.select(
        e.compare(arith::CmpFPredicate::OEQ, v, m), e.constant(v, 0),
        e.select(greater, e.sub(m, v), e.sub(v, m)));
    Value isMinusInf = arith::CmpFOp::create(
        e.getBuilder(), e.getLoc(), arith::CmpFPredicate::OEQ, v,
        e.constant(v, -kInf));
    Value factor = e.select(isMinusInf, e.constant(v, 0), e.exp(diff));
    State next{e.select(greater, v, m)};
    for (int64_t k = 0; k < numSums; ++k) {
      Value s = state[1 + k];
      Value w = weight(e, v, g, k);
      next.push_back(e.select(greater, e.add(e.mul(s, factor), w),
                              e.add(s, e.mul(factor, w))));
    }
    return next;
  }
  State merge(LaneEmitter &e, const State &a, const State &b) override {
    Value m = e.max(a[0], b[0]);
    // Empty states have m = -inf: their sums are 0 and must stay so.
    Value empty = arith::CmpFOp::create(e.getBuilder(), e.getLoc(),
                                        arith::CmpFPredicate::OEQ, m,
                                        e.constant(m, -kInf));
    Value zero = e.constant(m, 0);
    // exp(x - m), 1 where x = m (+inf included).
    auto scale = [&](Value x) {
      Value shift = e.select(e.compare(arith::CmpFPredicate::OEQ, x, m), zero,
                             e.sub(x, m));
      return e.select(empty, zero, e.exp(shift));
    };
    Value scaleA = scale(a[0]), scaleB = scale(b[0]);
    State merged{m};
    for (int64_t k = 0; k < numSums; ++k)
      merged.push_back(
          e.add(e.mul(a[1 + k], scaleA), e.mul(b[1 + k], scaleB)));
    return merged;
  }
  llvm::SmallVector<Components> finalize(LaneEmitter &e,
                                         const State &state) override {
    Components out;
    if (mode == Finalize::LogSumExp) {
      for (int64_t k = 0; k < numSums; ++k)
        out.push_back(e.add(state[0], e.log(state[1 + k])));
    } else {
      for (int64_t k = 1; k < numSums; ++k)
        out.push_back(e.div(state[1 + k], state[1]));
    }
    return {out};
  }

private:
  /// The weight of sum k: 1 without weight; softmax sums (1, g).
  Value weight(LaneEmitter &e, Value like, const Components &g, int64_t k) {
    if (mode == Finalize::SoftMax)
      return k == 0 ? e.constant(like, 1) : LaneEmitter::component(g, k - 1);
    return g.empty() ? e.constant(like, 1) : LaneEmitter::component(g, k);
  }

  int64_t numSums;
  FloatType accType;
  Finalize mode;
};

//===----------------------------------------------------------------------===//
// Min, max and their indices
//===----------------------------------------------------------------------===//

/// Per component, the best value and the first column that reaches it.
class BestAccumulator final : public Accumulator {
public:
  BestAccumulator(int64_t dim, FloatType accType, bool smallest,
                  bool outputValues, bool outputIndices)
      : dim(dim), accType(accType), smallest(smallest),
        outputValues(outputValues), outputIndices(outputIndices) {}

  State init(LaneEmitter &e, int64_t width) override {
    State state(dim, splat(e, vectorOf(width, accType), smallest ? kInf : -kInf));
    state.append(dim, splat(e, vectorOf(width, indexType()), KEOPS_RT_NO_COLUMN));
    return state;
  }
  State accumulate(LaneEmitter &e, const State &state, const Components &f,
                   const Components &, Value j) override {
    State next(state);
    for (int64_t k = 0; k < dim; ++k) {
      Value better = isBetter(e, f[k], state[k]);
      next[k] = e.select(better, f[k], state[k]);
      next[dim + k] = selectIndex(e, better, j, state[dim + k]);
    }
    return next;
  }
  State merge(LaneEmitter &e, const State &a, const State &b) override {
    State merged(a);
    for (int64_t k = 0; k < dim; ++k) {
      // b wins when strictly better, or equal with a smaller index.
      OpBuilder &builder = e.getBuilder();
      Value equal = arith::CmpFOp::create(builder, e.getLoc(),
                                          arith::CmpFPredicate::OEQ, b[k], a[k]);
      Value earlier = arith::CmpIOp::create(
          builder, e.getLoc(), arith::CmpIPredicate::slt, b[dim + k], a[dim + k]);
      Value tie = arith::AndIOp::create(builder, e.getLoc(), equal, earlier);
      Value better = arith::OrIOp::create(builder, e.getLoc(),
                                          isBetter(e, b[k], a[k]), tie);
      merged[k] = e.select(better, b[k], a[k]);
      merged[dim + k] = selectIndex(e, better, b[dim + k], a[dim + k]);
    }
    return merged;
  }
  llvm::SmallVector<Components> finalize(LaneEmitter &,
                                         const State &state) override {
    llvm::SmallVector<Components> results;
    if (outputValues)
      results.push_back(Components(state.begin(), state.begin() + dim));
    if (outputIndices)
      results.push_back(Components(state.begin() + dim, state.end()));
    return results;
  }

private:
  Type indexType() { return IntegerType::get(accType.getContext(), 64); }
  Value isBetter(LaneEmitter &e, Value candidate, Value best) {
    return smallest ? e.lessThan(candidate, best)
                    : e.greaterThan(candidate, best);
  }

  int64_t dim;
  FloatType accType;
  bool smallest, outputValues, outputIndices;
};

/// Per component, the K smallest values (ascending) and their columns.
/// State layout: values[slot * dim + k], then indices in the same order.
class KMinAccumulator final : public Accumulator {
public:
  KMinAccumulator(int64_t dim, int64_t k, FloatType accType, bool outputValues,
                  bool outputIndices)
      : dim(dim), k(k), accType(accType), outputValues(outputValues),
        outputIndices(outputIndices) {}

  State init(LaneEmitter &e, int64_t width) override {
    State state(k * dim, splat(e, vectorOf(width, accType), kInf));
    state.append(k * dim,
                 splat(e, vectorOf(width, indexType()), KEOPS_RT_NO_COLUMN));
    return state;
  }
  /// Inserts only when a lane's value may be among the K best of all the
  /// lanes together: at most T, the smallest of the lanes' K-th bests (K
  /// values are already at most T). Once the lists fill up, the insertion
  /// (K compare-and-swaps) is rarely entered; values equal to T still
  /// enter, so ties keep the order of the indices.
  State accumulate(LaneEmitter &e, const State &state, const Components &f,
                   const Components &, Value j) override {
    OpBuilder &b = e.getBuilder();
    Location loc = e.getLoc();
    State next(state);
    for (int64_t c = 0; c < dim; ++c) {
      Value kth = state[(k - 1) * dim + c], bound = kth;
      if (auto type = llvm::dyn_cast<VectorType>(kth.getType()))
        bound = vector::BroadcastOp::create(
            b, loc, type,
            vector::ReductionOp::create(b, loc, vector::CombiningKind::MINNUMF,
                                        kth, arith::FastMathFlags::nnan));
      Value beats = e.compare(arith::CmpFPredicate::OLE, f[c], bound);
      if (llvm::isa<VectorType>(beats.getType()))
        beats = vector::ReductionOp::create(b, loc, vector::CombiningKind::OR,
                                            beats);
      llvm::SmallVector<Value> slots;
      for (int64_t slot = 0; slot < k; ++slot)
        slots.append({next[slot * dim + c], next[k * dim + slot * dim + c]});
      auto branch = scf::IfOp::create(b, loc, ValueRange(slots).getTypes(),
                                      beats, /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(branch.thenBlock());
        State inserted(next);
        insert(e, inserted, c, f[c], j);
        llvm::SmallVector<Value> yielded;
        for (int64_t slot = 0; slot < k; ++slot)
          yielded.append({inserted[slot * dim + c],
                          inserted[k * dim + slot * dim + c]});
        scf::YieldOp::create(b, loc, yielded);
        b.setInsertionPointToStart(branch.elseBlock());
        scf::YieldOp::create(b, loc, slots);
      }
      for (int64_t slot = 0; slot < k; ++slot) {
        next[slot * dim + c] = branch.getResult(2 * slot);
        next[k * dim + slot * dim + c] = branch.getResult(2 * slot + 1);
      }
    }
    return next;
  }
  /// The K best of two sorted lists, by a bitonic merge over (value,
  /// index) keys, a total order, so equal values keep the smaller column:
  /// padded to n (a power of two) with (+inf, max) entries, a[s] against
  /// b[n - 1 - s] keeps the n smallest as a bitonic sequence, which
  /// log2(n) half-cleaner stages sort. n + (n / 2) log2(n) comparisons
  /// instead of the K^2 of K insertions.
  State merge(LaneEmitter &e, const State &a, const State &b) override {
    State merged(a);
    int64_t n = llvm::PowerOf2Ceil(k);
    for (int64_t c = 0; c < dim; ++c) {
      auto entry = [&](const State &list, int64_t slot) -> std::pair<Value, Value> {
        if (slot < k)
          return {list[slot * dim + c], list[k * dim + slot * dim + c]};
        Value like = list[c], likeIndex = list[k * dim + c];
        OpBuilder &builder = e.getBuilder();
        auto indexType = llvm::cast<VectorType>(likeIndex.getType());
        Value last = arith::ConstantOp::create(
            builder, e.getLoc(),
            DenseElementsAttr::get(
                indexType, builder.getI64IntegerAttr(
                               std::numeric_limits<int64_t>::max())));
        return {e.constant(like, kInf), last};
      };
      llvm::SmallVector<std::pair<Value, Value>> keys;
      for (int64_t s = 0; s < n; ++s) {
        auto [lower, upper] = ordered(e, entry(a, s), entry(b, n - 1 - s));
        (void)upper;
        keys.push_back(lower);
      }
      for (int64_t stride = n / 2; stride > 0; stride /= 2)
        for (int64_t s = 0; s < n; ++s)
          if ((s & stride) == 0)
            std::tie(keys[s], keys[s + stride]) =
                ordered(e, keys[s], keys[s + stride]);
      for (int64_t slot = 0; slot < k; ++slot) {
        merged[slot * dim + c] = keys[slot].first;
        merged[k * dim + slot * dim + c] = keys[slot].second;
      }
    }
    return merged;
  }
  llvm::SmallVector<Components> finalize(LaneEmitter &,
                                         const State &state) override {
    llvm::SmallVector<Components> results;
    if (outputValues)
      results.push_back(Components(state.begin(), state.begin() + k * dim));
    if (outputIndices)
      results.push_back(Components(state.begin() + k * dim, state.end()));
    return results;
  }

private:
  Type indexType() { return IntegerType::get(accType.getContext(), 64); }

  /// The two (value, index) keys in order: by value, then by index.
  std::pair<std::pair<Value, Value>, std::pair<Value, Value>>
  ordered(LaneEmitter &e, std::pair<Value, Value> x, std::pair<Value, Value> y) {
    OpBuilder &b = e.getBuilder();
    Location loc = e.getLoc();
    Value first = arith::OrIOp::create(
        b, loc, e.lessThan(x.first, y.first),
        arith::AndIOp::create(
            b, loc, e.compare(arith::CmpFPredicate::OEQ, x.first, y.first),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x.second,
                                  y.second)));
    return {{e.select(first, x.first, y.first),
             selectIndex(e, first, x.second, y.second)},
            {e.select(first, y.first, x.first),
             selectIndex(e, first, y.second, x.second)}};
  }

  /// Inserts (value, index) into the sorted slots of component c: one
  /// compare-and-swap per slot by (value, index), so that a pair moved down
  /// stays before the equal values of later columns.
  void insert(LaneEmitter &e, State &state, int64_t c, Value value,
              Value index) {
    for (int64_t slot = 0; slot < k; ++slot) {
      Value &slotValue = state[slot * dim + c];
      Value &slotIndex = state[k * dim + slot * dim + c];
      auto [lower, upper] = ordered(e, {value, index}, {slotValue, slotIndex});
      std::tie(slotValue, slotIndex) = lower;
      std::tie(value, index) = upper;
    }
  }

  int64_t dim, k;
  FloatType accType;
  bool outputValues, outputIndices;
};

} // namespace

llvm::SmallVector<State> keops::splitRowStates(ValueRange block,
                                               int64_t rows) {
  int64_t perRow = static_cast<int64_t>(block.size()) / rows;
  llvm::SmallVector<State> states;
  for (int64_t r = 0; r < rows; ++r)
    states.push_back(State(block.slice(r * perRow, perRow)));
  return states;
}

llvm::SmallVector<Type> Accumulator::stateTypes(int64_t width) const {
  llvm::SmallVector<Type> types(stateLayout.floats,
                                vectorOf(width, stateAccType));
  types.append(stateLayout.ints,
               vectorOf(width, IntegerType::get(stateAccType.getContext(), 64)));
  return types;
}

std::unique_ptr<Accumulator> Accumulator::create(ReduceOp reduce,
                                                 FloatType accType,
                                                 SumScheme scheme,
                                                 int64_t chunkDim) {
  std::unique_ptr<Accumulator> acc =
      createOfKind(reduce, accType, scheme, chunkDim);
  acc->stateLayout = keops::getStateLayout(reduce, scheme, chunkDim);
  acc->stateAccType = accType;
  acc->sumType = keops::isSumType(reduce.getKind());
  return acc;
}

std::unique_ptr<Accumulator> Accumulator::createOfKind(ReduceOp reduce,
                                                       FloatType accType,
                                                       SumScheme scheme,
                                                       int64_t chunkDim) {
  auto yielded = reduce.getYield().getValues();
  auto dimOf = [](Value v) {
    return llvm::cast<VectorType>(v.getType()).getDimSize(0);
  };
  int64_t dim = dimOf(yielded[0]);
  int64_t weightDim = yielded.size() > 1 ? dimOf(yielded[1]) : 0;
  if (chunkDim > 0)
    (weightDim ? weightDim : dim) = chunkDim;
  using Kind = ReductionKind;
  using SES = ShiftedExpSumAccumulator;
  switch (reduce.getKind()) {
  case Kind::sum:
    return std::make_unique<SumAccumulator>(dim, accType,
                                            scheme == SumScheme::KahanScheme);
  case Kind::logsumexp:
    return std::make_unique<SES>(weightDim ? weightDim : 1, accType,
                                 SES::Finalize::LogSumExp);
  case Kind::sumsoftmaxweight:
    return std::make_unique<SES>(1 + weightDim, accType, SES::Finalize::SoftMax);
  case Kind::min:
  case Kind::argmin:
  case Kind::min_argmin:
  case Kind::max:
  case Kind::argmax:
  case Kind::max_argmax: {
    Kind kind = reduce.getKind();
    bool smallest =
        kind == Kind::min || kind == Kind::argmin || kind == Kind::min_argmin;
    bool values = kind != Kind::argmin && kind != Kind::argmax;
    bool indices = kind != Kind::min && kind != Kind::max;
    return std::make_unique<BestAccumulator>(dim, accType, smallest, values,
                                             indices);
  }
  case Kind::kmin:
  case Kind::argkmin:
  case Kind::kmin_argkmin: {
    Kind kind = reduce.getKind();
    return std::make_unique<KMinAccumulator>(dim, *reduce.getK(), accType,
                                             kind != Kind::argkmin,
                                             kind != Kind::kmin);
  }
  }
  llvm_unreachable("unknown reduction kind");
}
