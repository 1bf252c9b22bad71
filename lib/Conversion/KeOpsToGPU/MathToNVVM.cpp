//===- MathToNVVM.cpp - GPU math without libdevice --------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements convert-keops-math-to-nvvm:
//
//   math.<f> : vector<1xT>  -->  extract, math.<f> : T, broadcast
//   math.exp : f32          -->  llvm.nvvm.ex2.approx.ftz.f(x * log2(e))
//   math.log : f32          -->  llvm.nvvm.lg2.approx.ftz.f(x) * ln(2)
//   math.sin, cos : f32     -->  ours (MathApproximations.h; NaN beyond
//                                |x| = 2^50, where only libdevice is exact)
//   math.atan, ... f32      -->  polynomial approximations (MLIR's)
//   math.sqrt, absf, floor, ceil, round, fma, copysign  -->  llvm.<f>.fNN
//   math.<f> : f16          -->  extf, math.<f> : f32, truncf
//
// so that f32 kernels need no libdevice; f64 transcendental functions stay
// for convert-gpu-to-nvvm (libdevice).
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/Passes.h"
#include "keops/Dialect/KeOps/Transforms/MathApproximations.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/MathExtras.h"


namespace mlir::keops {
#define GEN_PASS_DEF_CONVERTKEOPSMATHTONVVMPASS
#include "keops/Conversion/Passes.h.inc"
} // namespace mlir::keops

using namespace mlir;

namespace {

/// The patterns below run before the polynomial approximations.
constexpr unsigned kBenefit = 2;

/// A math op on one-element vectors computed on their scalar.
struct ScalarizeOneElementMath final : RewritePattern {
  explicit ScalarizeOneElementMath(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), kBenefit + 1, ctx) {}

  static bool isOneElement(Type type) {
    auto vector = llvm::dyn_cast<VectorType>(type);
    return vector && vector.getRank() == 1 && vector.getNumElements() == 1 &&
           !vector.isScalable();
  }

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!llvm::isa<math::MathDialect>(op->getDialect()) ||
        op->getNumResults() != 1 || !isOneElement(op->getResult(0).getType()) ||
        !llvm::all_of(op->getOperandTypes(), isOneElement))
      return failure();
    llvm::SmallVector<Value> scalars;
    for (Value operand : op->getOperands())
      scalars.push_back(vector::ExtractOp::create(
          rewriter, op->getLoc(), operand, llvm::ArrayRef<int64_t>{0}));
    auto vectorType = llvm::cast<VectorType>(op->getResult(0).getType());
    OperationState state(op->getLoc(), op->getName(), scalars,
                         {vectorType.getElementType()}, op->getAttrs());
    Operation *scalar = rewriter.create(state);
    rewriter.replaceOpWithNewOp<vector::BroadcastOp>(op, vectorType,
                                                     scalar->getResult(0));
    return success();
  }
};

Value floatConstant(PatternRewriter &rewriter, Location loc, Type type,
                    double value) {
  return arith::ConstantOp::create(rewriter, loc,
                                   rewriter.getFloatAttr(type, value));
}

Value callIntrinsic(PatternRewriter &rewriter, Location loc, Type type,
                    llvm::StringRef name, ValueRange args) {
  return LLVM::CallIntrinsicOp::create(rewriter, loc, type,
                                       rewriter.getStringAttr(name), args)
      .getResult(0);
}

/// f(x) = post * approx(pre * x) with an f32 NVVM approximation.
template <typename MathOp>
struct ScaledApproximation final : OpRewritePattern<MathOp> {
  ScaledApproximation(MLIRContext *ctx, llvm::StringRef intrinsic, double pre,
                      double post)
      : OpRewritePattern<MathOp>(ctx, kBenefit), intrinsic(intrinsic),
        pre(pre), post(post) {}

  LogicalResult matchAndRewrite(MathOp op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!type.isF32())
      return failure();
    Location loc = op.getLoc();
    Value x = op.getOperand();
    if (pre != 1)
      x = arith::MulFOp::create(rewriter, loc, x,
                                floatConstant(rewriter, loc, type, pre));
    Value y = callIntrinsic(rewriter, loc, type, intrinsic, x);
    if (post != 1)
      y = arith::MulFOp::create(rewriter, loc, y,
                                floatConstant(rewriter, loc, type, post));
    rewriter.replaceOp(op, y);
    return success();
  }

  std::string intrinsic;
  double pre, post;
};

/// A math op on f16, f32 or f64 as the LLVM intrinsic `llvm.<name>.fNN`,
/// which NVPTX implements natively.
template <typename MathOp>
struct NativeIntrinsic final : OpRewritePattern<MathOp> {
  NativeIntrinsic(MLIRContext *ctx, llvm::StringRef name)
      : OpRewritePattern<MathOp>(ctx, kBenefit), name(name) {}

  LogicalResult matchAndRewrite(MathOp op,
                                PatternRewriter &rewriter) const override {
    Type type = op->getResult(0).getType();
    if (!type.isF16() && !type.isF32() && !type.isF64())
      return failure();
    std::string intrinsic =
        "llvm." + name + ".f" + std::to_string(type.getIntOrFloatBitWidth());
    rewriter.replaceOp(op, callIntrinsic(rewriter, op.getLoc(), type,
                                         intrinsic, op->getOperands()));
    return success();
  }

  std::string name;
};

struct ConvertKeOpsMathToNVVMPass final
    : keops::impl::ConvertKeOpsMathToNVVMPassBase<ConvertKeOpsMathToNVVMPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<ScalarizeOneElementMath>(ctx);
    patterns.add<ScaledApproximation<math::ExpOp>>(
        ctx, "llvm.nvvm.ex2.approx.ftz.f", llvm::numbers::log2e, 1.0);
    patterns.add<ScaledApproximation<math::LogOp>>(
        ctx, "llvm.nvvm.lg2.approx.ftz.f", 1.0, llvm::numbers::ln2);
    patterns.add<NativeIntrinsic<math::SqrtOp>>(ctx, "sqrt");
    patterns.add<NativeIntrinsic<math::AbsFOp>>(ctx, "fabs");
    patterns.add<NativeIntrinsic<math::FloorOp>>(ctx, "floor");
    patterns.add<NativeIntrinsic<math::CeilOp>>(ctx, "ceil");
    patterns.add<NativeIntrinsic<math::RoundOp>>(ctx, "round");
    patterns.add<NativeIntrinsic<math::RoundEvenOp>>(ctx, "roundeven");
    patterns.add<NativeIntrinsic<math::TruncOp>>(ctx, "trunc");
    patterns.add<NativeIntrinsic<math::FmaOp>>(ctx, "fma");
    patterns.add<NativeIntrinsic<math::CopySignOp>>(ctx, "copysign");
    keops::populateSinCosF32Patterns(
        patterns, keops::LargeSinCosArguments::NaN, kBenefit);
    populateMathPolynomialApproximationPatterns(
        patterns, [](llvm::StringRef) { return true; });
    // float16 functions are computed in float32.
    populateMathF32ExpansionPatterns(patterns,
                                     [](llvm::StringRef) { return true; });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
