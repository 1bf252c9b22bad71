//===- LaneEmitter.cpp - Emit formula ops on lanes of pairs -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements LaneEmitter with arith and math ops. Floating-point
// ops carry the `contract` fast-math flag only (FMA formation), so the
// semantics of NaN, inf and signed zeros are kept.
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/KeOpsCommon/LaneEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace mlir::keops;

static arith::FastMathFlags contract() { return arith::FastMathFlags::contract; }

Value LaneEmitter::constant(Value like, double value) {
  return constantOfType(like.getType(), value);
}

Value LaneEmitter::constant(double value) {
  return constantOfType(laneType, value);
}

Value LaneEmitter::constantOfType(Type type, double value) {
  auto elementType = llvm::cast<FloatType>(getElementTypeOrSelf(type));
  TypedAttr attr = builder.getFloatAttr(elementType, value);
  if (auto shaped = llvm::dyn_cast<ShapedType>(type))
    attr = DenseElementsAttr::get(shaped, attr);
  return arith::ConstantOp::create(builder, loc, attr);
}

Value LaneEmitter::add(Value a, Value b) {
  return arith::AddFOp::create(builder, loc, a, b, contract());
}
Value LaneEmitter::sub(Value a, Value b) {
  return arith::SubFOp::create(builder, loc, a, b, contract());
}
Value LaneEmitter::mul(Value a, Value b) {
  return arith::MulFOp::create(builder, loc, a, b, contract());
}
Value LaneEmitter::div(Value a, Value b) {
  return arith::DivFOp::create(builder, loc, a, b, contract());
}
Value LaneEmitter::neg(Value x) { return arith::NegFOp::create(builder, loc, x); }
Value LaneEmitter::min(Value a, Value b) {
  return arith::MinimumFOp::create(builder, loc, a, b);
}
Value LaneEmitter::max(Value a, Value b) {
  return arith::MaximumFOp::create(builder, loc, a, b);
}
Value LaneEmitter::exp(Value x) { return math::ExpOp::create(builder, loc, x); }
Value LaneEmitter::log(Value x) { return math::LogOp::create(builder, loc, x); }
Value LaneEmitter::sqrt(Value x) {
  return math::SqrtOp::create(builder, loc, x);
}
Value LaneEmitter::sin(Value x) { return math::SinOp::create(builder, loc, x); }
Value LaneEmitter::cos(Value x) { return math::CosOp::create(builder, loc, x); }
Value LaneEmitter::abs(Value x) {
  return math::AbsFOp::create(builder, loc, x);
}

Value LaneEmitter::asin(Value x) { return math::AsinOp::create(builder, loc, x); }
Value LaneEmitter::acos(Value x) { return math::AcosOp::create(builder, loc, x); }
Value LaneEmitter::atan(Value x) { return math::AtanOp::create(builder, loc, x); }
Value LaneEmitter::atan2(Value y, Value x) {
  return math::Atan2Op::create(builder, loc, y, x);
}
Value LaneEmitter::floor(Value x) {
  return math::FloorOp::create(builder, loc, x);
}
Value LaneEmitter::round(Value x) {
  return math::RoundOp::create(builder, loc, x);
}

Value LaneEmitter::roundTo(Value x, int64_t decimals) {
  Value scale = constant(x, std::pow(10.0, static_cast<double>(decimals)));
  return div(round(mul(x, scale)), scale);
}

Value LaneEmitter::xlogx(Value x) {
  Value zero = constant(x, 0.0);
  Value isZero = compare(arith::CmpFPredicate::OEQ, x, zero);
  return select(isZero, zero, mul(x, log(x)));
}

Value LaneEmitter::sinxdivx(Value x) {
  Value isZero = compare(arith::CmpFPredicate::OEQ, x, constant(x, 0.0));
  return select(isZero, constant(x, 1.0), div(sin(x), x));
}

Value LaneEmitter::compare(arith::CmpFPredicate predicate, Value a, Value b) {
  return arith::CmpFOp::create(builder, loc, predicate, a, b);
}

Type LaneEmitter::floatTypeLike(Value mask) {
  Type element = getElementTypeOrSelf(laneType);
  if (auto shaped = llvm::dyn_cast<ShapedType>(mask.getType()))
    return shaped.clone(element);
  return element;
}

Value LaneEmitter::indicator(Value mask) {
  Type type = floatTypeLike(mask);
  return select(mask, constantOfType(type, 1.0), constantOfType(type, 0.0));
}

Value LaneEmitter::lessThan(Value a, Value b) {
  return arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OLT, a, b);
}
Value LaneEmitter::greaterThan(Value a, Value b) {
  return arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OGT, a, b);
}
Value LaneEmitter::select(Value condition, Value ifTrue, Value ifFalse) {
  return arith::SelectOp::create(builder, loc, condition, ifTrue, ifFalse);
}

Value LaneEmitter::rsqrt(Value x) {
  Value zero = constant(x, 0.0);
  Value isZero =
      arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OEQ, x, zero);
  return select(isZero, zero, div(constant(x, 1.0), sqrt(x)));
}

Value LaneEmitter::powi(Value x, int64_t n) {
  Value result;
  Value base = x;
  for (uint64_t e = n < 0 ? -static_cast<uint64_t>(n) : n; e; e >>= 1) {
    if (e & 1)
      result = result ? mul(result, base) : base;
    if (e > 1)
      base = mul(base, base);
  }
  if (!result)
    return constant(x, 1.0);
  return n < 0 ? div(constant(x, 1.0), result) : result;
}

Value LaneEmitter::sign(Value x) {
  Value zero = constant(x, 0.0);
  return select(greaterThan(x, zero), constant(x, 1.0),
                select(lessThan(x, zero), constant(x, -1.0), zero));
}

Value LaneEmitter::step(Value x) {
  return select(lessThan(x, constant(x, 0.0)), constant(x, 0.0),
                constant(x, 1.0));
}

Value LaneEmitter::relu(Value x) {
  Value zero = constant(x, 0.0);
  return select(lessThan(x, zero), zero, x);
}

Components
LaneEmitter::broadcast(llvm::ArrayRef<Components> operands,
                       llvm::function_ref<Value(llvm::ArrayRef<Value>)> f) {
  size_t dim = 1;
  for (const Components &operand : operands)
    dim = std::max(dim, operand.size());
  Components result;
  llvm::SmallVector<Value, 3> args(operands.size());
  for (size_t k = 0; k < dim; ++k) {
    for (size_t n = 0; n < operands.size(); ++n)
      args[n] = component(operands[n], k);
    result.push_back(f(args));
  }
  return result;
}

Value LaneEmitter::fold(const Components &x,
                        llvm::function_ref<Value(Value, Value)> combine) {
  Value total = x[0];
  for (size_t k = 1; k < x.size(); ++k)
    total = combine(total, x[k]);
  return total;
}

Value LaneEmitter::sum(const Components &x) {
  return fold(x, [&](Value a, Value b) { return add(a, b); });
}

Value LaneEmitter::dot(const Components &x, const Components &y) {
  Value total = mul(x[0], y[0]);
  for (size_t k = 1; k < x.size(); ++k)
    total = add(total, mul(x[k], y[k]));
  return total;
}

Value LaneEmitter::minOf(const Components &x) {
  return fold(x, [&](Value a, Value b) { return min(a, b); });
}

Value LaneEmitter::maxOf(const Components &x) {
  return fold(x, [&](Value a, Value b) { return max(a, b); });
}

Value LaneEmitter::argBest(const Components &x, bool smallest) {
  Value best = x[0];
  Value index = constant(x[0], 0.0);
  for (size_t k = 1; k < x.size(); ++k) {
    Value better = smallest ? lessThan(x[k], best) : greaterThan(x[k], best);
    best = select(better, x[k], best);
    index = select(better, constant(x[0], static_cast<double>(k)), index);
  }
  return index;
}

Value LaneEmitter::argMinOf(const Components &x) { return argBest(x, true); }
Value LaneEmitter::argMaxOf(const Components &x) { return argBest(x, false); }
