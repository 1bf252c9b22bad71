//===- Gradients.cpp - Derivative rules of formula ops ----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the reverse-mode derivative of every formula op:
// given the adjoint u of the result y = op(x, ...), the adjoints of the
// operands, written with formula ops so that derivatives can be derived
// again. Piecewise-constant ops (sign, step, argmin, argmax) have a zero
// derivative; min and max (over components) pass u to the components equal
// to the result.
//
//===----------------------------------------------------------------------===//

#include "Gradients.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::keops;

LogicalResult keops::emitGradient(Operation *op, FormulaBuilder &g, Value u,
                                  llvm::SmallVectorImpl<Value> &adjoints) {
  Value y = op->getNumResults() ? op->getResult(0) : Value();
  auto x = [&](unsigned k) { return op->getOperand(k); };
  auto c = [&](double value) { return g.scalar(u, value); };
  auto set = [&](std::initializer_list<Value> values) {
    adjoints.assign(values.begin(), values.end());
    return success();
  };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      // Arithmetic.
      .Case([&](AddOp) { return set({u, u}); })
      .Case([&](SubOp) { return set({u, g.neg(u)}); })
      .Case([&](MulOp) { return set({g.mul(u, x(1)), g.mul(u, x(0))}); })
      .Case([&](DivOp) {
        return set({g.div(u, x(1)), g.neg(g.div(g.mul(u, y), x(1)))});
      })
      .Case([&](NegOp) { return set({g.neg(u)}); })
      .Case([&](SquareOp) { return set({g.mul(u, g.mul(c(2), x(0)))}); })
      .Case([&](InvOp) { return set({g.neg(g.mul(u, g.square(y)))}); })
      .Case([&](PowOp pow) {
        int64_t n = static_cast<int64_t>(pow.getExponent());
        if (n == 0)
          return set({Value()});
        return set({g.mul(u, g.mul(c(static_cast<double>(n)),
                                   g.pow(x(0), n - 1)))});
      })
      .Case([&](PowfOp) {
        // y = a^b: dy = b y / a da + y log(a) db.
        return set({g.mul(u, g.div(g.mul(x(1), y), x(0))),
                    g.mul(u, g.mul(y, g.log(x(0))))});
      })
      // Transcendental functions.
      .Case([&](ExpOp) { return set({g.mul(u, y)}); })
      .Case([&](LogOp) { return set({g.div(u, x(0))}); })
      .Case([&](SqrtOp) { return set({g.div(g.mul(u, c(0.5)), y)}); })
      .Case([&](RsqrtOp) {
        return set({g.mul(u, g.mul(c(-0.5), g.pow(y, 3)))});
      })
      .Case([&](SinOp) { return set({g.mul(u, g.cos(x(0)))}); })
      .Case([&](CosOp) { return set({g.neg(g.mul(u, g.sin(x(0))))}); })
      .Case([&](AbsOp) { return set({g.mul(u, g.sign(x(0)))}); })
      .Case([&](XLogXOp) {
        return set({g.mul(u, g.add(g.log(x(0)), c(1)))});
      })
      .Case([&](AsinOp) {
        return set({g.mul(u, g.rsqrt(g.sub(c(1), g.square(x(0)))))});
      })
      .Case([&](AcosOp) {
        return set({g.neg(g.mul(u, g.rsqrt(g.sub(c(1), g.square(x(0))))))});
      })
      .Case([&](AtanOp) {
        return set({g.div(u, g.add(c(1), g.square(x(0))))});
      })
      .Case([&](Atan2Op) {
        // atan2(a, b): d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2).
        Value r2 = g.add(g.square(x(0)), g.square(x(1)));
        return set({g.div(g.mul(u, x(1)), r2), g.neg(g.div(g.mul(u, x(0)), r2))});
      })
      .Case([&](SinXDivXOp) {
        // (cos x - sinc x) / x, and 0 at x = 0 (where step(-x^2) = 1).
        Value atZero = g.step(g.neg(g.square(x(0))));
        Value slope = g.div(g.sub(g.cos(x(0)), y), g.add(x(0), atZero));
        return set({g.mul(u, g.mul(g.sub(c(1), atZero), slope))});
      })
      .Case([&](ModOp) {
        // x - n floor((x - o) / n): 1 in x, -floor(...) in n, 0 in o.
        Value quotient = g.floor(g.div(g.sub(x(0), x(2)), x(1)));
        return set({u, g.neg(g.mul(u, quotient)), Value()});
      })
      .Case([&](ClampIntOp clamp) {
        return set({g.mul(u, g.diffClampInt(x(0),
                                            static_cast<int64_t>(clamp.getLow()),
                                            static_cast<int64_t>(clamp.getHigh())))});
      })
      // Piecewise-constant functions.
      .Case<FloorOp, RoundOp, DiffClampIntOp, EqualOp, NotEqualOp, LessThanOp,
            LessOrEqualOp, OneHotOp>([&](Operation *op) {
        adjoints.assign(op->getNumOperands(), Value());
        return success();
      })
      // Piecewise functions.
      .Case<SignOp, StepOp, ArgMinOp, ArgMaxOp>(
          [&](Operation *) { return set({Value()}); })
      .Case([&](ReluOp) { return set({g.mul(u, g.step(x(0)))}); })
      .Case([&](IfElseOp) {
        Value zero = c(0);
        return set({Value(), g.ifElse(x(0), u, zero), g.ifElse(x(0), zero, u)});
      })
      .Case([&](ClampOp) {
        // y = min(max(v, lo), hi): v passes where lo <= v <= hi, lo where
        // v < lo <= hi, hi where max(v, lo) > hi.
        Value v = x(0), lo = x(1), hi = x(2), zero = c(0);
        Value low = g.ifElse(g.sub(v, lo), v, lo);
        return set({g.ifElse(g.sub(v, lo), g.ifElse(g.sub(hi, v), u, zero), zero),
                     g.ifElse(g.sub(v, lo), zero, g.ifElse(g.sub(hi, lo), u, zero)),
                     g.ifElse(g.sub(hi, low), zero, u)});
      })
      // Vector ops.
      .Case([&](SumOp) {
        return set({g.broadcastTo(u, FormulaBuilder::dimOf(x(0)))});
      })
      .Case([&](SqNorm2Op) { return set({g.mul(u, g.mul(c(2), x(0)))}); })
      .Case([&](Norm2Op) {
        return set({g.mul(u, g.mul(x(0), g.rsqrt(g.sqNorm2(x(0)))))});
      })
      .Case([&](NormalizeOp) {
        // y = v r with r = |v|^-1: J^T u = r u - r^3 v (v . u).
        Value r = g.rsqrt(g.sqNorm2(x(0)));
        return set({g.sub(g.mul(r, u), g.mul(g.mul(g.pow(r, 3), x(0)),
                                             g.scalProd(x(0), u)))});
      })
      .Case([&](MinOp) { return set({g.mul(u, g.step(g.sub(y, x(0))))}); })
      .Case([&](MaxOp) { return set({g.mul(u, g.step(g.sub(x(0), y)))}); })
      .Case([&](ScalProdOp) {
        return set({g.mul(u, x(1)), g.mul(u, x(0))});
      })
      .Case([&](SqDistOp) {
        Value d = g.mul(u, g.mul(c(2), g.sub(x(0), x(1))));
        return set({d, g.neg(d)});
      })
      // Indexing and shaping.
      .Case([&](ElemOp elem) {
        return set({g.inject(u, static_cast<int64_t>(elem.getIndex()),
                             FormulaBuilder::dimOf(x(0)))});
      })
      .Case([&](ExtractOp extract) {
        return set({g.inject(u, static_cast<int64_t>(extract.getStart()),
                             FormulaBuilder::dimOf(x(0)))});
      })
      .Case([&](ConcatOp) {
        int64_t first = FormulaBuilder::dimOf(x(0));
        return set({g.extract(u, 0, first),
                    g.extract(u, first, FormulaBuilder::dimOf(x(1)))});
      })
      .Case([&](TensorDotOp dot) {
        TensorDotMap map = dot.getMap();
        TensorDotAttributes attributes = dot.getAttributes();
        return set({g.tensorDot(u, x(1), map.adjointAttributes(0, attributes)),
                    g.tensorDot(x(0), u, map.adjointAttributes(1, attributes))});
      })
      .Case([&](ConstantOp) { return set({}); })
      .Default([](Operation *) { return failure(); });
}
