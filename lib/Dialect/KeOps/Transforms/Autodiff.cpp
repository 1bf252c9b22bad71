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
// Selections by a scalar condition (IfElse(c, a, b), Relu(f)) differentiate
// first and select after, as KeOps does: their contribution to the
// variable's adjoint is IfElse(c, Grad(a, v, u), Grad(b, v, u)) (new
// keops.grad ops, expanded next), so that a NaN or infinite derivative of
// the branch not taken (Sqrt of a negative number there) never meets the
// zero adjoint that routing it through the branch would give it (0 x NaN).
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

/// The contribution to the adjoint of `variable` of a selection `op` by a
/// scalar condition whose result has the adjoint `u`, selected after the
/// branches are differentiated (see the file comment); none for other ops.
static std::optional<Value>
selectAfterDifferentiating(Operation *op, FormulaBuilder &g, OpBuilder &b,
                           Value u, Value variable,
                           const llvm::DenseSet<Value> &dependent) {
  Value condition, taken, notTaken;
  if (auto ifElse = llvm::dyn_cast<IfElseOp>(op)) {
    condition = ifElse->getOperand(0);
    taken = ifElse->getOperand(1);
    notTaken = ifElse->getOperand(2);
  } else if (auto relu = llvm::dyn_cast<ReluOp>(op)) {
    condition = taken = relu->getOperand(0);
  } else {
    return std::nullopt;
  }
  if (FormulaBuilder::dimOf(condition) != 1)
    return std::nullopt;
  int64_t dim = FormulaBuilder::dimOf(variable);
  auto branchGradient = [&](Value branch) -> Value {
    if (!branch || !dependent.contains(branch))
      return g.splat(variable, dim, 0.0);
    Value along = unbroadcast(g, u, branch);
    return GradOp::create(b, op->getLoc(), branch, variable, along);
  };
  return g.ifElse(condition, branchGradient(taken), branchGradient(notTaken));
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
    if (std::optional<Value> selected = selectAfterDifferentiating(
            op, g, builder, adjoint, variable, dependent)) {
      Value &total = adjoints[variable];
      total = total ? g.add(total, *selected) : *selected;
      continue;
    }
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
