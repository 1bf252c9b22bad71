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
// lane. f32 sin and cos are ours (MathApproximations.h), computed in f64
// with an accurate reduction by pi/2. MLIR's f32 exp turns NaN into 0 (its
// range reduction converts to integers): it is guarded, NaN in, NaN out.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/Transforms/MathApproximations.h"
#include "keops/Dialect/KeOps/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir::keops {
#define GEN_PASS_DEF_KEOPSAPPROXIMATEMATHPASS
#include "keops/Dialect/KeOps/Transforms/Passes.h.inc"
} // namespace mlir::keops

using namespace mlir;

namespace {

/// Constants of a float type or of vectors of it (splats), and their i64
/// counterparts, built by `b`.
struct Constants {
  Constants(ImplicitLocOpBuilder &b, Type type) : b(b), type(type) {
    vectorType = llvm::dyn_cast<VectorType>(type);
    intType = b.getI64Type();
    if (vectorType)
      intType = VectorType::get(vectorType.getShape(), intType);
  }
  Value get(Type of, TypedAttr scalar) const {
    return arith::ConstantOp::create(
        b, of,
        vectorType ? llvm::cast<TypedAttr>(SplatElementsAttr::get(
                         llvm::cast<ShapedType>(of), scalar))
                   : scalar);
  }
  Value f(double value) const {
    return get(type, b.getFloatAttr(getElementTypeOrSelf(type), value));
  }
  Value i(int64_t value) const {
    return get(intType, b.getI64IntegerAttr(value));
  }
  Value bits(Value v) const { return arith::BitcastOp::create(b, intType, v); }

  ImplicitLocOpBuilder &b;
  Type type, intType;
  VectorType vectorType;
};

/// 1.5 * 2^52: x + kRoundingMagic rounds x (|x| < 2^51) to an integer k,
/// whose low bits are then those of the sum's bits.
constexpr double kRoundingMagic = 6755399441055744.0;

/// x = k (hi + lo) + r (f64, `c` its constants), k = round(x * inverse):
/// (t, r), the low bits of t holding k's (kRoundingMagic), r exact enough
/// by one fma per part of the constant (fdlibm's reductions).
std::pair<Value, Value> reduce(const Constants &c, Value x, double inverse,
                               double hi, double lo) {
  ImplicitLocOpBuilder &b = c.b;
  Value t = math::FmaOp::create(b, x, c.f(inverse), c.f(kRoundingMagic));
  Value negK = arith::NegFOp::create(
      b, arith::SubFOp::create(b, t, c.f(kRoundingMagic)));
  Value r = math::FmaOp::create(b, negK, c.f(hi), x);
  return {t, math::FmaOp::create(b, negK, c.f(lo), r)};
}

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
    if (!getElementTypeOrSelf(type).isF64())
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Constants constants(b, type);
    auto f = [&](double value) { return constants.f(value); };
    auto i = [&](int64_t value) { return constants.i(value); };
    auto bits = [&](Value v) { return constants.bits(v); };

    Value x = op.getOperand();
    Value clamped = arith::MinimumFOp::create(
        b, arith::MaximumFOp::create(b, x, f(-746.0)), f(710.0));
    // x = k ln2 + r, k in the low bits of t.
    auto [t, r] = reduce(constants, clamped, 1.4426950408889634,
                         6.93147180369123816490e-01, 1.90821492927058770002e-10);
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

/// sin (`isCos` false) or cos of f32 scalars and vectors, in f64:
/// x = k pi/2 + r, k = round(x 2/pi) (by adding kRoundingMagic: the low
/// bits of the sum hold k mod 4), r by pi/2 in two parts, each subtracted
/// by one fma (exact enough while |k| < 2^51); then in f32, sin r and cos
/// r by their Taylor polynomials to degree 9 and 10 on |r| <= pi/4 (error
/// below 2e-9); k mod 4 picks sin r, cos r, -sin r or -cos r. NaN and infinities
/// give NaN through r. |x| >= 2^50 takes `large`, in a branch that runs only
/// when some element needs it.
template <typename OpTy, bool isCos>
struct SinCosF32Approximation final : OpRewritePattern<OpTy> {
  SinCosF32Approximation(MLIRContext *ctx, keops::LargeSinCosArguments large,
                         PatternBenefit benefit)
      : OpRewritePattern<OpTy>(ctx, benefit), large(large) {}

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!getElementTypeOrSelf(type).isF32())
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Type wide = b.getF64Type();
    if (auto vector = llvm::dyn_cast<VectorType>(type))
      wide = VectorType::get(vector.getShape(), wide);
    Constants c(b, wide);
    Value x = arith::ExtFOp::create(b, wide, op.getOperand());
    Value isLarge = arith::CmpFOp::create(b, arith::CmpFPredicate::OGE,
                                          math::AbsFOp::create(b, x),
                                          c.f(0x1p50));
    if (c.vectorType)
      isLarge = vector::ReductionOp::create(b, vector::CombiningKind::OR,
                                            isLarge);
    auto branch = scf::IfOp::create(
        b, isLarge,
        [&](OpBuilder &, Location) {
          Value result =
              large == keops::LargeSinCosArguments::F64Function
                  ? Value(OpTy::create(b, x))
                  : c.f(std::numeric_limits<double>::quiet_NaN());
          scf::YieldOp::create(
              b, ValueRange{arith::TruncFOp::create(b, type, result)});
        },
        [&](OpBuilder &, Location) {
          scf::YieldOp::create(
              b, ValueRange{reduced(c, Constants(b, type), x)});
        });
    rewriter.replaceOp(op, branch.getResult(0));
    return success();
  }

private:
  /// The function of x (f64, `c` its constants) for |x| < 2^50, in f32
  /// (`narrow` its constants).
  Value reduced(const Constants &c, const Constants &narrow, Value x) const {
    ImplicitLocOpBuilder &b = c.b;
    // x = k pi/2 + r, k in the low bits of t.
    auto [t, wideR] = reduce(c, x, 0.63661977236758134308, 1.5707963267948966,
                             6.123233995736766e-17);
    Value r = arith::TruncFOp::create(b, narrow.type, wideR);
    Value r2 = arith::MulFOp::create(b, r, r);
    // Highest degree first, in r^2.
    auto polynomial = [&](llvm::ArrayRef<double> coefficients) {
      Value p = narrow.f(coefficients.front());
      for (double coefficient : coefficients.drop_front())
        p = math::FmaOp::create(b, p, r2, narrow.f(coefficient));
      return p;
    };
    // sin r = r + r^3 (-1/3! + r^2 / 5! - ...), cos r = 1 - r^2 / 2! + ...
    Value sinR = math::FmaOp::create(
        b, arith::MulFOp::create(b, r, r2),
        polynomial({1.0 / 362880, -1.0 / 5040, 1.0 / 120, -1.0 / 6}), r);
    Value cosR = math::FmaOp::create(
        b, r2,
        polynomial({-1.0 / 3628800, 1.0 / 40320, -1.0 / 720, 1.0 / 24,
                    -1.0 / 2}),
        narrow.f(1.0));
    // The quadrant: k mod 4 (cos x = sin(x + pi/2): k + 1).
    Value quadrant = arith::AndIOp::create(b, c.bits(t), c.i(3));
    if (isCos)
      quadrant = arith::AddIOp::create(b, quadrant, c.i(1));
    auto isSet = [&](int64_t bit) {
      return arith::CmpIOp::create(
          b, arith::CmpIPredicate::ne,
          arith::AndIOp::create(b, quadrant, c.i(bit)), c.i(0));
    };
    Value value = arith::SelectOp::create(b, isSet(1), cosR, sinR);
    return arith::SelectOp::create(b, isSet(2),
                                   arith::NegFOp::create(b, value), value);
  }

  keops::LargeSinCosArguments large;
};

/// Makes the f32 `op` give its operand where that is NaN, as IEEE says, when
/// MLIR's approximation of it would not.
void guardNaN(Operation *op) {
  if (!llvm::isa<math::ExpOp>(op) ||
      !getElementTypeOrSelf(op->getResult(0).getType()).isF32())
    return;
  OpBuilder b(op->getContext());
  b.setInsertionPointAfter(op);
  Location loc = op->getLoc();
  Value x = op->getOperand(0), result = op->getResult(0);
  Value isNaN = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
  auto guarded = arith::SelectOp::create(b, loc, isNaN, x, result);
  result.replaceAllUsesExcept(guarded, guarded);
}

struct KeOpsApproximateMathPass final
    : keops::impl::KeOpsApproximateMathPassBase<KeOpsApproximateMathPass> {
  void runOnOperation() override {
    getOperation()->walk(guardNaN);
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    patterns.add<ExpF64Approximation>(&getContext());
    keops::populateSinCosF32Patterns(
        patterns, keops::LargeSinCosArguments::F64Function,
        /*benefit=*/2);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void keops::populateSinCosF32Patterns(RewritePatternSet &patterns,
                                      LargeSinCosArguments large,
                                      PatternBenefit benefit) {
  patterns.add<SinCosF32Approximation<math::SinOp, false>,
               SinCosF32Approximation<math::CosOp, true>>(
      patterns.getContext(), large, benefit);
}
