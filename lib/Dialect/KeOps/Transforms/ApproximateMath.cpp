//===- ApproximateMath.cpp - Polynomial f32 math functions ------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops-approximate-math: MLIR's polynomial
// approximations of math functions (f32), so that CPU loops vectorize
// instead of calling libm once per lane.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/Transforms/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::keops {
#define GEN_PASS_DEF_KEOPSAPPROXIMATEMATHPASS
#include "keops/Dialect/KeOps/Transforms/Passes.h.inc"
} // namespace mlir::keops

using namespace mlir;

namespace {

struct KeOpsApproximateMathPass final
    : keops::impl::KeOpsApproximateMathPassBase<KeOpsApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
