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
// Selections by a scalar condition (IfElse(c, a, b), Relu(f), Abs(f),
// Clamp(v, lo, hi) of dimension 1) differentiate first and select after, as
// KeOps does for IfElse: their contribution to the variable's adjoint is
// IfElse(c, Grad(a, v, u), Grad(b, v, u)) (new keops.grad ops, expanded
// next), so that a NaN or infinite derivative of the branch not taken (Sqrt
// of a negative number there) never meets the zero adjoint that routing it
// through the branch would give it (0 x NaN). Abs at 0 contributes nothing.
// Piecewise-constant ops (Step, Sign, Floor, Round, the floor of Mod) pass
// no adjoint at all (Gradients.cpp).
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
  int64_t dim = FormulaBuilder::dimOf(variable);
  Value zero = g.splat(variable, dim, 0.0);
  // Grad(branch, variable, along), or 0 where the branch does not depend on
  // the variable.
  auto gradient = [&](Value branch, Value along) -> Value {
    if (!dependent.contains(branch))
      return zero;
    return GradOp::create(b, op->getLoc(), branch, variable,
                          unbroadcast(g, along, branch));
  };
  auto scalar = [](Value v) { return FormulaBuilder::dimOf(v) == 1; };
  auto x = [&](unsigned k) { return op->getOperand(k); };
  if (llvm::isa<IfElseOp>(op) && scalar(x(0)))
    return g.ifElse(x(0), gradient(x(1), u), gradient(x(2), u));
  if (llvm::isa<ReluOp>(op) && scalar(x(0)))
    return g.ifElse(x(0), gradient(x(0), u), zero);
  // |f|: u where f > 0, -u where f < 0, nothing at 0.
  if (llvm::isa<AbsOp>(op) && scalar(x(0)))
    return g.ifElse(x(0), g.ifElse(g.neg(x(0)), zero, gradient(x(0), u)),
                    gradient(x(0), g.neg(u)));
  // min(max(v, lo), hi): v where lo <= v <= hi, hi where it is exceeded,
  // lo where v < lo <= hi (the rule of Gradients.cpp, selected after).
  if (llvm::isa<ClampOp>(op) && llvm::all_of(op->getOperands(), scalar)) {
    Value v = x(0), lo = x(1), hi = x(2);
    return g.ifElse(g.sub(v, lo),
                    g.ifElse(g.sub(hi, v), gradient(v, u), gradient(hi, u)),
                    g.ifElse(g.sub(hi, lo), gradient(lo, u), gradient(hi, u)));
  }
  return std::nullopt;
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
