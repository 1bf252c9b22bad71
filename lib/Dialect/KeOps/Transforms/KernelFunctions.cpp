//===- KernelFunctions.cpp - Functions the kernel pipelines take -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements KernelFunctions.h.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/Transforms/KernelFunctions.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;
using namespace mlir::keops;

namespace {

/// keops.reduce over i == keops.reduce over j with i and j swapped.
struct ReduceOverJ final : OpRewritePattern<ReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getAxis() == Axis::j)
      return rewriter.notifyMatchFailure(op, "already reduces over j");
    MLIRContext *ctx = op.getContext();
    llvm::SmallVector<Attribute> swapped;
    for (unsigned k = 0, e = op.getInputs().size(); k < e; ++k) {
      Category c = op.getCategory(k);
      swapped.push_back(CategoryAttr::get(
          ctx, c == Category::i   ? Category::j
               : c == Category::j ? Category::i
                                  : c));
    }
    rewriter.modifyOpInPlace(op, [&] {
      op.setAxis(Axis::j);
      op.setCategoriesAttr(ArrayAttr::get(ctx, swapped));
    });
    return success();
  }
};

} // namespace

void keops::populateKeOpsReduceOverJPatterns(RewritePatternSet &patterns) {
  patterns.add<ReduceOverJ>(patterns.getContext());
}

bool keops::isKernelFunction(func::FuncOp func) {
  if (func.isExternal() || !llvm::hasSingleElement(func.getBody()))
    return false;
  Block &body = func.getBody().front();
  auto reduce = llvm::dyn_cast<ReduceOp>(body.front());
  return reduce && body.getOperations().size() == 2 &&
         llvm::equal(reduce.getInputs(), func.getArguments());
}

FailureOr<ReduceOp> keops::getKernelReduce(func::FuncOp func,
                                           llvm::StringRef passName) {
  if (!isKernelFunction(func))
    return func.emitOpError()
           << passName
           << " expects a function whose body is one keops.reduce of its "
              "arguments, in order";
  ReduceOp reduce = llvm::cast<ReduceOp>(func.getBody().front().front());
  RewritePatternSet patterns(func.getContext());
  populateKeOpsReduceOverJPatterns(patterns);
  if (failed(applyOpPatternsGreedily({reduce.getOperation()},
                                     std::move(patterns))))
    return failure();
  return reduce;
}

