//===- ApproximateMath.cpp - Polynomial f32 math functions ------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops-approximate-math: MLIR's polynomial
// approximations of math functions (f32), and an f64 exp of our own (MLIR
// has none), so that CPU loops vectorize instead of calling libm once per
// lane.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::keops {
#define GEN_PASS_DEF_KEOPSAPPROXIMATEMATHPASS
#include "keops/Dialect/KeOps/Transforms/Passes.h.inc"
} // namespace mlir::keops

using namespace mlir;

namespace {

/// exp on f64 scalars and vectors: x = k ln2 + r with |r| <= ln2 / 2 (ln2 in
/// two parts, fdlibm's, so r is exact), exp(r) by its Taylor polynomial of
/// degree 12 (truncation below 2e-16 relative), then 2^k in two factors
/// 2^(k/2) 2^(k - k/2), both normal, so that overflow to +inf and gradual
/// underflow to subnormals and 0 come out of the multiplications. x is
/// clamped to [-746, 710] first (beyond, exp is 0 or +inf) and NaN stays NaN.
/// Within 2 ulp of the correctly rounded exp (unittests check it against
/// std::exp).
struct ExpF64Approximation final : OpRewritePattern<math::ExpOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(math::ExpOp op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    auto vectorType = llvm::dyn_cast<VectorType>(type);
    if (!getElementTypeOrSelf(type).isF64())
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Type intType = b.getI64Type();
    if (vectorType)
      intType = VectorType::get(vectorType.getShape(), intType);
    auto f = [&](double value) -> Value {
      return arith::ConstantOp::create(
          b, type,
          vectorType ? llvm::cast<TypedAttr>(SplatElementsAttr::get(
                           vectorType, b.getF64FloatAttr(value)))
                     : TypedAttr(b.getF64FloatAttr(value)));
    };
    auto i = [&](int64_t value) -> Value {
      return arith::ConstantOp::create(
          b, intType,
          vectorType ? llvm::cast<TypedAttr>(SplatElementsAttr::get(
                           llvm::cast<ShapedType>(intType),
                           b.getI64IntegerAttr(value)))
                     : TypedAttr(b.getI64IntegerAttr(value)));
    };
    Value x = op.getOperand();
    Value clamped = arith::MinimumFOp::create(
        b, arith::MaximumFOp::create(b, x, f(-746.0)), f(710.0));
    // k = round(x / ln2); r = x - k ln2, exactly.
    Value k = math::FloorOp::create(
        b, math::FmaOp::create(b, clamped, f(1.4426950408889634), f(0.5)));
    Value r = math::FmaOp::create(b, arith::NegFOp::create(b, k),
                                  f(6.93147180369123816490e-01), clamped);
    r = math::FmaOp::create(b, arith::NegFOp::create(b, k),
                            f(1.90821492927058770002e-10), r);
    // exp(r) = sum r^n / n!, n <= 12, by Horner's rule.
    Value p = f(1.0 / 479001600.0);
    double factorial = 479001600.0;
    for (int n = 11; n >= 0; --n) {
      factorial /= n + 1;
      p = math::FmaOp::create(b, p, r, f(1.0 / factorial));
    }
    // 2^k as two normal powers of two: (h + 1023) << 52 is 2^h.
    Value ki = arith::FPToSIOp::create(b, intType, k);
    Value half = arith::ShRSIOp::create(b, ki, i(1));
    Value rest = arith::SubIOp::create(b, ki, half);
    auto power = [&](Value exponent) -> Value {
      Value bits = arith::ShLIOp::create(
          b, arith::AddIOp::create(b, exponent, i(1023)), i(52));
      return arith::BitcastOp::create(b, type, bits);
    };
    Value result = arith::MulFOp::create(
        b, arith::MulFOp::create(b, p, power(half)), power(rest));
    Value isNan = arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, x, x);
    rewriter.replaceOp(op, arith::SelectOp::create(b, isNan, x, result));
    return success();
  }
};

struct KeOpsApproximateMathPass final
    : keops::impl::KeOpsApproximateMathPassBase<KeOpsApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    patterns.add<ExpF64Approximation>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
