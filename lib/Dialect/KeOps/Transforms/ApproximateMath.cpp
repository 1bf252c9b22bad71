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

/// exp on f64 scalars and vectors: x = k ln2 + r with |r| <= ln2 / 2, k
/// rounded to nearest by adding 1.5 2^52 (whose bits then hold k: no
/// conversion, so NaN stays a defined NaN), r exact with ln2 in fdlibm's two
/// parts; exp(r) by a near-minimax polynomial of degree 11 (mpmath's
/// chebyfit on [-ln2/2, ln2/2], error 3e-18); then 2^k in two factors
/// 2^(k/2) 2^(k - k/2), both normal, so that overflow to +inf and gradual
/// underflow to subnormals and 0 come out of the multiplications. x is
/// clamped to [-746, 710] first (beyond, exp is 0 or +inf); NaN propagates
/// through the products. Within 2 ulp of std::exp (OpCodegenTest).
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
    auto constant = [&](Type of, TypedAttr scalar) -> Value {
      return arith::ConstantOp::create(
          b, of,
          vectorType ? llvm::cast<TypedAttr>(SplatElementsAttr::get(
                           llvm::cast<ShapedType>(of), scalar))
                     : scalar);
    };
    auto f = [&](double value) { return constant(type, b.getF64FloatAttr(value)); };
    auto i = [&](int64_t value) {
      return constant(intType, b.getI64IntegerAttr(value));
    };
    auto bits = [&](Value v) { return arith::BitcastOp::create(b, intType, v); };

    Value x = op.getOperand();
    Value clamped = arith::MinimumFOp::create(
        b, arith::MaximumFOp::create(b, x, f(-746.0)), f(710.0));
    // k = round(x / ln2), as a float and in the low bits of t.
    const double magic = 6755399441055744.0; // 1.5 * 2^52
    Value t = math::FmaOp::create(b, clamped, f(1.4426950408889634), f(magic));
    Value k = arith::SubFOp::create(b, t, f(magic));
    Value negK = arith::NegFOp::create(b, k);
    Value r = math::FmaOp::create(b, negK, f(6.93147180369123816490e-01), clamped);
    r = math::FmaOp::create(b, negK, f(1.90821492927058770002e-10), r);
    // exp(r), highest degree first.
    static const double coefficients[] = {
        2.5110049204818658e-08, 2.763265472252779e-07, 2.755724088722987e-06,
        2.4801485441561313e-05, 0.00019841269890076403, 0.0013888888952352863,
        0.008333333333319589,   0.04166666666648795,    0.1666666666666668,
        0.5000000000000019,     1.0,                    1.0};
    Value p = f(coefficients[0]);
    for (double c : llvm::ArrayRef(coefficients).drop_front())
      p = math::FmaOp::create(b, p, r, f(c));
    // 2^k as two normal powers of two: (h + 1023) << 52 is 2^h.
    Value ki = arith::SubIOp::create(b, bits(t), i(0x4338000000000000));
    Value half = arith::ShRSIOp::create(b, ki, i(1));
    Value rest = arith::SubIOp::create(b, ki, half);
    auto power = [&](Value exponent) -> Value {
      Value exponentBits = arith::ShLIOp::create(
          b, arith::AddIOp::create(b, exponent, i(1023)), i(52));
      return arith::BitcastOp::create(b, type, exponentBits);
    };
    rewriter.replaceOp(op, arith::MulFOp::create(
                               b, arith::MulFOp::create(b, p, power(half)),
                               power(rest)));
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
