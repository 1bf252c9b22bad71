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
// Selections (IfElse(c, a, b), Relu(f), Abs(f), Clamp(v, lo, hi))
// differentiate first and select after, as KeOps does for IfElse: their
// contribution to the variable's adjoint is IfElse(c, Grad(a, v, u), Grad(b,
// v, u)) (new keops.grad ops, expanded next), so that a NaN or infinite
// derivative of the branch not taken (Sqrt of a negative number there) never
// meets the zero adjoint that routing it through the branch would give it
// (0 x NaN). Abs at 0 contributes nothing. A vector condition (up to 16
// components) selects component by component: the sum over k of the rule
// on component k of the operands and of the adjoint.
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

/// Selections by a vector condition of at most this many components are
/// selected after differentiating component by component (the code grows
/// with the components).
static constexpr int64_t kMaxSelectedComponents = 16;

/// Component k of `v` as a formula of its own: a componentwise op is
/// rebuilt on component k of its operands (so that its derivative involves
/// component k alone, not the others' NaN or infinite derivatives times a
/// zero adjoint), anything else is Elem(v, k); `built` keeps what is done.
static Value componentOf(FormulaBuilder &g, OpBuilder &b, Value v, int64_t k,
                         llvm::DenseMap<Value, Value> &built) {
  if (FormulaBuilder::dimOf(v) == 1)
    return v;
  if (Value known = built.lookup(v))
    return known;
  Operation *op = v.getDefiningOp();
  Value component;
  if (!op || !op->hasTrait<OpTrait::keops::Componentwise>()) {
    component = g.elem(v, k);
  } else {
    OperationState state(op->getLoc(), op->getName());
    for (Value operand : op->getOperands())
      state.addOperands(componentOf(g, b, operand, k, built));
    state.addAttributes(op->getAttrs());
    state.addTypes(VectorType::get({1}, getElementTypeOrSelf(v.getType())));
    component = b.create(state)->getResult(0);
  }
  built[v] = component;
  return component;
}

/// The contribution to the adjoint of `variable` of a selection `op`
/// (IfElse, Relu, Abs, Clamp, Min and Max over components) whose result has
/// the adjoint `u`, selected after the branches are differentiated (see the
/// file comment): at once for a scalar condition, component by component
/// for a vector one of at most kMaxSelectedComponents; none for other ops.
static std::optional<Value>
selectAfterDifferentiating(Operation *op, FormulaBuilder &g, OpBuilder &b,
                           Value u, Value variable,
                           const llvm::DenseSet<Value> &dependent) {
  if (!llvm::isa<IfElseOp, ReluOp, AbsOp, ClampOp, MinOp, MaxOp>(op))
    return std::nullopt;
  int64_t dim = FormulaBuilder::dimOf(variable);
  Value zero = g.splat(variable, dim, 0.0);
  auto x = [&](unsigned k) { return op->getOperand(k); };
  bool overComponents = llvm::isa<MinOp, MaxOp>(op);
  // Grad(branch, variable, along) for `branch`, a component of `operand`
  // (or operand itself), or 0 where the operand does not depend on the
  // variable.
  auto gradient = [&](Value operand, Value branch, Value along) -> Value {
    if (!dependent.contains(operand))
      return zero;
    return GradOp::create(b, op->getLoc(), branch, variable,
                          unbroadcast(g, along, branch));
  };
  // The rule with the operands' values `v` (of op's operands) and adjoint
  // `w`, all scalars but the branches of IfElse.
  auto select = [&](llvm::ArrayRef<Value> v, Value w) -> Value {
    if (llvm::isa<IfElseOp>(op))
      return g.ifElse(v[0], gradient(x(1), v[1], w), gradient(x(2), v[2], w));
    if (llvm::isa<ReluOp>(op))
      return g.ifElse(v[0], gradient(x(0), v[0], w), zero);
    // |f|: w where f > 0, -w where f < 0, nothing at 0.
    if (llvm::isa<AbsOp>(op))
      return g.ifElse(v[0],
                      g.ifElse(g.neg(v[0]), zero, gradient(x(0), v[0], w)),
                      gradient(x(0), v[0], g.neg(w)));
    // Min (Max) over components: w where the component is <= (>=) the
    // result, that is equal to it.
    if (overComponents) {
      Value result = op->getResult(0);
      return g.ifElse(llvm::isa<MinOp>(op) ? g.sub(result, v[0])
                                           : g.sub(v[0], result),
                      gradient(x(0), v[0], w), zero);
    }
    // min(max(f, lo), hi): f where lo <= f <= hi, hi where it is exceeded,
    // lo where f < lo <= hi (the rule of Gradients.cpp, selected after).
    Value f = v[0], lo = v[1], hi = v[2];
    return g.ifElse(
        g.sub(f, lo),
        g.ifElse(g.sub(hi, f), gradient(x(0), f, w), gradient(x(2), hi, w)),
        g.ifElse(g.sub(hi, lo), gradient(x(1), lo, w), gradient(x(2), hi, w)));
  };
  // The condition's components (IfElse's branches may be wider).
  int64_t components = FormulaBuilder::dimOf(x(0));
  if (!llvm::isa<IfElseOp>(op))
    for (Value operand : op->getOperands())
      components = std::max(components, FormulaBuilder::dimOf(operand));
  llvm::SmallVector<Value, 3> operands(op->getOperands());
  if (components == 1)
    return select(operands, u);
  if (components > kMaxSelectedComponents ||
      (llvm::isa<IfElseOp>(op) &&
       (FormulaBuilder::dimOf(x(1)) != components ||
        FormulaBuilder::dimOf(x(2)) != components)))
    return std::nullopt;
  // Component by component: component k of each operand (an operand of
  // dimension 1 broadcasts), adjoint k (Min and Max: their scalar adjoint).
  Value total;
  for (int64_t k = 0; k < components; ++k) {
    llvm::DenseMap<Value, Value> built;
    llvm::SmallVector<Value, 3> parts;
    for (Value operand : operands)
      parts.push_back(componentOf(g, b, operand, k, built));
    Value contribution = select(parts, overComponents ? u : g.elem(u, k));
    total = total ? g.add(total, contribution) : contribution;
  }
  return total;
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
