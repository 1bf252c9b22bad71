//===- Autodiff.cpp - Expand keops.grad by reverse mode ---------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops-autodiff:
//
//   keops.grad %f wrt %v along %e
//     --> adjoints from %f back to %v over the ops that depend on %v
//         (derivative rules of Gradients.cpp), summed where values fan out
//
//===----------------------------------------------------------------------===//

#include "Gradients.h"

#include "keops/Dialect/KeOps/Transforms/Passes.h"

#include "llvm/ADT/DenseSet.h"

namespace mlir::keops {
#define GEN_PASS_DEF_KEOPSAUTODIFFPASS
#include "keops/Dialect/KeOps/Transforms/Passes.h.inc"
} // namespace mlir::keops

using namespace mlir;
using namespace mlir::keops;

/// Sums the components of an adjoint that was broadcast from `operand`.
static Value unbroadcast(FormulaBuilder &g, Value adjoint, Value operand) {
  if (FormulaBuilder::dimOf(adjoint) != FormulaBuilder::dimOf(operand))
    return g.sum(adjoint);
  return adjoint;
}

/// Replaces `grad` by the expansion of its gradient.
static LogicalResult expandGrad(GradOp grad) {
  Value formula = grad.getFormula(), variable = grad.getVariable();
  Block *block = grad->getBlock();

  // The ops before the grad whose value depends on the variable.
  llvm::DenseSet<Value> dependent{variable};
  llvm::SmallVector<Operation *> ops;
  for (Operation &op : *block) {
    if (&op == grad.getOperation())
      break;
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return dependent.contains(v); })) {
      ops.push_back(&op);
      dependent.insert(op.getResult(0));
    }
  }

  OpBuilder builder(grad);
  FormulaBuilder g(builder, grad.getLoc());
  llvm::DenseMap<Value, Value> adjoints;
  if (dependent.contains(formula))
    adjoints[formula] = grad.getGradient();
  for (Operation *op : llvm::reverse(ops)) {
    Value adjoint = adjoints.lookup(op->getResult(0));
    if (!adjoint)
      continue;
    llvm::SmallVector<Value, 3> operandAdjoints;
    if (failed(emitGradient(op, g, adjoint, operandAdjoints)))
      return op->emitOpError("has no derivative rule");
    for (auto [operand, operandAdjoint] :
         llvm::zip_equal(op->getOperands(), operandAdjoints)) {
      if (!operandAdjoint || !dependent.contains(operand))
        continue;
      Value contribution = unbroadcast(g, operandAdjoint, operand);
      Value &total = adjoints[operand];
      total = total ? g.add(total, contribution) : contribution;
    }
  }
  Value result = adjoints.lookup(variable);
  if (!result)
    result = g.splat(variable, FormulaBuilder::dimOf(variable), 0.0);
  grad.replaceAllUsesWith(result);
  grad.erase();
  return success();
}

namespace {

struct KeOpsAutodiffPass final
    : keops::impl::KeOpsAutodiffPassBase<KeOpsAutodiffPass> {
  void runOnOperation() override {
    // Program order: an inner grad is expanded before the grads that use it.
    while (true) {
      GradOp first;
      getOperation().walk([&](GradOp grad) {
        first = grad;
        return WalkResult::interrupt();
      });
      if (!first)
        return;
      if (failed(expandGrad(first)))
        return signalPassFailure();
    }
  }
};

} // namespace
