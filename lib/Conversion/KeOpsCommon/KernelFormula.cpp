//===- KernelFormula.cpp - What every kernel generator shares ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/KeOpsCommon/KernelFormula.h"

#include "keops/Conversion/KeOpsCommon/ContractionLoops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <functional>
#include <map>

using namespace mlir;
using namespace mlir::keops;

int64_t keops::getCpuLanes(int64_t lanes, FloatType elementType) {
  return lanes ? lanes : 512 / elementType.getWidth();
}

Value keops::indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

void keops::disableUnrolling(Operation *loop) {
  MLIRContext *context = loop->getContext();
  // scf-to-cf carries the LLVM dialect's attributes to the loop's latch
  // branch, where llvm.br takes this one as its `loop_annotation`.
  loop->setAttr(
      "loop_annotation",
      LLVM::LoopAnnotationAttr::get(
          context, {}, {}, {},
          LLVM::LoopUnrollAttr::get(context, BoolAttr::get(context, true), {},
                                    {}, {}, {}, {}, {}),
          {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}));
}

Value keops::loadLanes(OpBuilder &b, Location loc, VectorType laneType,
                       Value memref, Value offset, Value mask) {
  if (!mask)
    return vector::LoadOp::create(b, loc, laneType, memref, offset);
  return vector::MaskedLoadOp::create(
      b, loc, laneType, memref, offset, mask,
      LaneEmitter(b, loc, laneType).constant(0.0));
}

void keops::storeLanes(OpBuilder &b, Location loc, Value value, Value memref,
                       Value offset, Value mask) {
  if (mask)
    vector::MaskedStoreOp::create(b, loc, memref, offset, mask, value);
  else
    vector::StoreOp::create(b, loc, value, memref, offset);
}

namespace {

int64_t dimOf(Value v) {
  return llvm::cast<VectorType>(v.getType()).getNumElements();
}

/// The ops of `reduce` that loops compute: the roots of feature loops (sums
/// of components over wide operands), the tensordots computed by loops
/// (with `contractions`), and the componentwise ops below them, which the
/// loops evaluate one component at a time.
struct FeatureLoopPlan {
  llvm::SmallPtrSet<Operation *, 8> roots, contractions, trees;
  /// Tree ops whose value is also used outside the loops.
  llvm::SmallPtrSet<Operation *, 8> sharedTrees;
};

FeatureLoopPlan planFeatureLoops(ReduceOp reduce, int64_t minDim,
                                 bool contractions) {
  FeatureLoopPlan plan;
  Block &body = reduce.getBody().front();
  for (Operation &op : body.without_terminator()) {
    auto dot = llvm::dyn_cast<TensorDotOp>(&op);
    // (A tensordot of the row's values alone stays unrolled: the compiler
    // hoists it out of the column loop, which loops over memory prevent.)
    if (contractions && dot && isContractionLoop(dot) &&
        readsReducedVariable(reduce, dot)) {
      plan.contractions.insert(&op);
      for (Value operand : op.getOperands()) {
        llvm::SmallPtrSet<Operation *, 8> tree;
        if (collectComponentwiseTree(operand, tree))
          plan.trees.insert(tree.begin(), tree.end());
      }
      continue;
    }
    if (!isFeatureLoopRoot(&op, minDim))
      continue;
    llvm::SmallPtrSet<Operation *, 8> tree;
    for (Value operand : op.getOperands())
      collectChunkTree(operand, tree);
    plan.roots.insert(&op);
    plan.trees.insert(tree.begin(), tree.end());
  }
  for (Operation *op : plan.trees)
    for (Operation *user : op->getUsers())
      if (!plan.trees.contains(user) && !plan.roots.contains(user) &&
          !plan.contractions.contains(user))
        plan.sharedTrees.insert(op);
  return plan;
}

/// The components of `root`, a tree of componentwise ops over variables
/// (whose components `load` gives), dimension-1 values (in `values`) and,
/// in chunks, tensordots (whose components `tensorDot` gives).
Components
emitComponentwise(LaneEmitter &e, Value root,
                  const llvm::DenseMap<Value, Components> &values,
                  llvm::function_ref<Components(unsigned argument)> load,
                  llvm::function_ref<Components(TensorDotOp)> tensorDot =
                      nullptr) {
  llvm::DenseMap<Value, Components> computed;
  std::function<const Components &(Value)> valueOf =
      [&](Value v) -> const Components & {
    auto it = computed.find(v);
    if (it != computed.end())
      return it->second;
    Components result;
    if (dimOf(v) == 1) {
      result = values.at(v);
    } else if (auto arg = llvm::dyn_cast<BlockArgument>(v)) {
      result = load(arg.getArgNumber());
    } else if (auto dot = v.getDefiningOp<TensorDotOp>(); dot && tensorDot) {
      result = tensorDot(dot);
    } else {
      llvm::SmallVector<Components> operands;
      for (Value operand : v.getDefiningOp()->getOperands())
        operands.push_back(valueOf(operand));
      emitFormulaOp(e, v.getDefiningOp(), operands, result);
    }
    return computed[v] = std::move(result);
  };
  return valueOf(root);
}

/// The operands of `dot` for ContractionLoops: the values computed already
/// from their components in `values`; variables, and the componentwise
/// trees of variables that the loops compute (FeatureLoopPlan), one
/// component at a time from the variables' components that `load` reads.
std::array<ContractionOperand, 2>
contractionOperands(LaneEmitter &e, TensorDotOp dot,
                    const llvm::DenseMap<Value, Components> &values,
                    llvm::function_ref<Value(OpBuilder &, unsigned, Value)> load) {
  std::array<ContractionOperand, 2> operands;
  for (unsigned n = 0; n < 2; ++n) {
    Value operand = dot->getOperand(n);
    auto known = values.find(operand);
    if (!llvm::isa<BlockArgument>(operand) && known != values.end()) {
      operands[n].components = &known->second;
      continue;
    }
    Type laneType = e.getLaneType();
    operands[n].load = [&values, load, operand, laneType](OpBuilder &b,
                                                          Value d) {
      LaneEmitter inner(b, operand.getLoc(), laneType);
      return emitComponentwise(inner, operand, values, [&](unsigned k) {
        return Components{load(b, k, d)};
      })[0];
    };
  }
  return operands;
}

/// The components of the chunk of the componentwise tree `root`.
Components emitChunk(LaneEmitter &e, Value root,
                     const llvm::DenseMap<Value, Components> &values,
                     const FeatureLoops &loops, const ChunkPosition &chunk) {
  OpBuilder &b = e.getBuilder();
  auto perComponent = [&](llvm::function_ref<Value(Value)> component) {
    Components components;
    for (int64_t k = 0; k < chunk.chunks.size; ++k)
      components.push_back(component(chunk.component(b, e.getLoc(), k)));
    return components;
  };
  return emitComponentwise(
      e, root, values,
      [&](unsigned argument) {
        return perComponent(
            [&](Value d) { return loops.load(b, argument, d); });
      },
      [&](TensorDotOp dot) {
        auto operands = contractionOperands(e, dot, values, loops.load);
        Components outputs = perComponent([](Value o) { return o; });
        return emitContractionComponents(e, dot, outputs, operands[0],
                                         operands[1]);
      });
}

/// For each n < count, the sum over d < dim of term(b, n, d), by one loop
/// that adds kFeatureLoopSums components an iteration into as many partial
/// sums per n (independent chains of adds, which one accumulator would
/// serialize on the latency of its fused multiply-add); the last
/// dim % kFeatureLoopSums components follow the loop.
llvm::SmallVector<Value>
emitSumLoop(LaneEmitter &e, int64_t dim, int64_t count,
            llvm::function_ref<Value(OpBuilder &, int64_t n, Value d)> term) {
  OpBuilder &b = e.getBuilder();
  Location loc = e.getLoc();
  int64_t sums = dim >= 2 * kFeatureLoopSums ? kFeatureLoopSums : 1;
  int64_t looped = dim / sums * sums;
  llvm::SmallVector<Value> zeros(count * sums, e.constant(0.0));
  auto loop = scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, looped),
      indexConstant(b, loc, sums), zeros,
      [&](OpBuilder &b, Location, Value d, ValueRange partial) {
        LaneEmitter inner(b, loc, e.getLaneType());
        llvm::SmallVector<Value> next(partial);
        for (int64_t u = 0; u < sums; ++u) {
          Value component =
              arith::AddIOp::create(b, loc, d, indexConstant(b, loc, u));
          for (int64_t n = 0; n < count; ++n)
            next[n * sums + u] =
                inner.add(partial[n * sums + u], term(b, n, component));
        }
        scf::YieldOp::create(b, loc, next);
      });
  llvm::SmallVector<Value> totals;
  for (int64_t n = 0; n < count; ++n) {
    llvm::SmallVector<Value> partial(
        loop.getResults().slice(n * sums, sums));
    while (partial.size() > 1) {
      for (size_t u = 0; u + 1 < partial.size(); u += 2)
        partial[u / 2] = e.add(partial[u], partial[u + 1]);
      partial.resize(partial.size() / 2);
    }
    Value total = partial[0];
    for (int64_t d = looped; d < dim; ++d)
      total = e.add(total, term(b, n, indexConstant(b, loc, d)));
    totals.push_back(total);
  }
  return totals;
}

/// The dimension a feature loop of `root` runs over.
int64_t loopDimOf(Operation *root) {
  int64_t dim = 1;
  for (Value v : root->getOperands())
    dim = std::max(dim, dimOf(v));
  return dim;
}

/// The term of component d of `root`: the root op on component d of its
/// componentwise operands (`load` gives the variables' components,
/// `values` the dimension-1 values; a tensordot leaf's component d comes
/// from its operands, as in an output chunk).
Value emitFeatureTerm(OpBuilder &b, Location loc, Type laneType,
                      Operation *root,
                      const llvm::DenseMap<Value, Components> &values,
                      llvm::function_ref<Value(OpBuilder &, unsigned, Value)> load,
                      Value d) {
  LaneEmitter inner(b, loc, laneType);
  llvm::SmallVector<Components> operands;
  for (Value operand : root->getOperands())
    operands.push_back(emitComponentwise(
        inner, operand, values,
        [&](unsigned argument) { return Components{load(b, argument, d)}; },
        [&](TensorDotOp dot) {
          auto dotOperands = contractionOperands(inner, dot, values, load);
          return emitContractionComponents(inner, dot, {d}, dotOperands[0],
                                           dotOperands[1]);
        }));
  Components result;
  emitFormulaOp(inner, root, operands, result);
  return result[0];
}

/// sum over d of `root` on component d of its operands, as a loop.
Components emitFeatureLoop(LaneEmitter &e, Operation *root,
                           const llvm::DenseMap<Value, Components> &values,
                           const FeatureLoops &loops) {
  return {emitSumLoop(e, loopDimOf(root), 1,
                      [&](OpBuilder &b, int64_t, Value d) {
                        return emitFeatureTerm(b, e.getLoc(), e.getLaneType(),
                                               root, values, loops.load, d);
                      })[0]};
}

} // namespace

/// `sqdist` of `row` from its inner product `dot`: |a|^2 + |b|^2 - 2 dot,
/// or the direct loop (`direct`) where that rounds badly in some lane.
static Value emitExpandedSqDist(LaneEmitter &e, const SqDistNorms &norms,
                                const ExpandableSqDist &sqdist, int64_t row,
                                Value dot,
                                llvm::function_ref<Value(LaneEmitter &)> direct) {
  OpBuilder &b = e.getBuilder();
  Location loc = e.getLoc();
  Value sum = e.add(norms.rowNorm(b, row, sqdist.rowInput),
                    norms.columnNorm(b, sqdist.columnInput));
  Value expanded = e.sub(sum, e.add(dot, dot));
  // Not (expanded >= guard * sum): too close for the expansion, or NaN.
  Value fine = arith::CmpFOp::create(
      b, loc, arith::CmpFPredicate::OGE, expanded,
      e.mul(e.constant(kSqDistExpansionGuard), sum));
  Value allFine = vector::ReductionOp::create(
      b, loc, vector::CombiningKind::AND, fine);
  auto choice = scf::IfOp::create(
      b, loc, allFine,
      [&](OpBuilder &b, Location) { scf::YieldOp::create(b, loc, expanded); },
      [&](OpBuilder &b, Location) {
        LaneEmitter inner(b, loc, e.getLaneType());
        scf::YieldOp::create(b, loc, direct(inner));
      });
  return choice.getResult(0);
}

llvm::SmallVector<llvm::DenseMap<Value, Components>>
keops::emitBlockFeatureLoops(
    LaneEmitter &e, ReduceOp reduce, int64_t minDim,
    llvm::ArrayRef<llvm::DenseMap<Value, Components>> rowValues,
    llvm::function_ref<Value(OpBuilder &, int64_t row, unsigned k, Value d)>
        load,
    const SqDistNorms *norms) {
  int64_t rows = static_cast<int64_t>(rowValues.size());
  llvm::SmallVector<llvm::DenseMap<Value, Components>> computed(rows);
  llvm::DenseMap<Operation *, const ExpandableSqDist *> expanded;
  if (norms)
    for (const ExpandableSqDist &sqdist : norms->sqdists)
      expanded[sqdist.op] = &sqdist;
  // The term of component d of `root` for `row`, in its direct form.
  auto directTerm = [&](OpBuilder &b, Operation *root, int64_t row, Value d) {
    return emitFeatureTerm(
        b, e.getLoc(), e.getLaneType(), root, rowValues[row],
        [&](OpBuilder &b, unsigned k, Value d) { return load(b, row, k, d); },
        d);
  };
  // By dimension: one loop each.
  std::map<int64_t, llvm::SmallVector<Operation *>> byDim;
  for (Operation *root : getBlockFeatureLoopRoots(reduce, minDim))
    byDim[loopDimOf(root)].push_back(root);
  for (auto &byDimEntry : byDim) {
    int64_t dim = byDimEntry.first;
    llvm::ArrayRef<Operation *> roots = byDimEntry.second;
    int64_t count = static_cast<int64_t>(roots.size());
    llvm::SmallVector<Value> totals = emitSumLoop(
        e, dim, rows * count, [&](OpBuilder &b, int64_t n, Value d) {
          int64_t row = n / count;
          Operation *root = roots[n % count];
          if (const ExpandableSqDist *sqdist = expanded.lookup(root))
            return LaneEmitter(b, e.getLoc(), e.getLaneType())
                .mul(load(b, row, sqdist->rowInput, d),
                     load(b, row, sqdist->columnInput, d));
          return directTerm(b, root, row, d);
        });
    for (int64_t n = 0; n < rows * count; ++n) {
      int64_t row = n / count;
      Operation *root = roots[n % count];
      if (const ExpandableSqDist *sqdist = expanded.lookup(root))
        totals[n] = emitExpandedSqDist(
            e, *norms, *sqdist, row, totals[n], [&](LaneEmitter &inner) {
              return emitSumLoop(inner, dim, 1,
                                 [&](OpBuilder &b, int64_t, Value d) {
                                   return directTerm(b, root, row, d);
                                 })[0];
            });
      computed[row][root->getResult(0)] = {totals[n]};
    }
  }
  return computed;
}

Value keops::emitSumOfSquares(
    LaneEmitter &e, int64_t dim,
    llvm::function_ref<Value(OpBuilder &, Value d)> component) {
  return emitSumLoop(e, dim, 1, [&](OpBuilder &b, int64_t, Value d) {
    Value c = component(b, d);
    return LaneEmitter(b, e.getLoc(), e.getLaneType()).mul(c, c);
  })[0];
}

Value ChunkPosition::component(OpBuilder &b, Location loc, int64_t k) const {
  return component(b, loc, indexConstant(b, loc, k));
}

Value ChunkPosition::component(OpBuilder &b, Location loc, Value k) const {
  return arith::MinUIOp::create(b, loc, arith::AddIOp::create(b, loc, first, k),
                                indexConstant(b, loc, chunks.dim - 1));
}

Value ChunkPosition::outputComponent(OpBuilder &b, Location loc, Value slot,
                                     Value c) const {
  return arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, slot, indexConstant(b, loc, chunks.dim)),
      component(b, loc, c));
}

Value ChunkPosition::outputComponent(OpBuilder &b, Location loc,
                                     int64_t k) const {
  return outputComponent(b, loc, indexConstant(b, loc, k / chunks.size),
                         indexConstant(b, loc, k % chunks.size));
}

/// Emits the ops of the body of `reduce` into `values`, those of `skipped`
/// aside, with the feature loops of `loops` (when given).
static void emitBodyOps(LaneEmitter &e, ReduceOp reduce,
                        llvm::DenseMap<Value, Components> &values,
                        const FeatureLoops *loops,
                        llvm::function_ref<bool(Operation *)> skipped) {
  FeatureLoopPlan plan;
  if (loops && loops->minDim > 0)
    plan = planFeatureLoops(reduce, loops->minDim, loops->contractionLoops);
  Block &body = reduce.getBody().front();
  for (Operation &op : body.without_terminator()) {
    if (skipped(&op))
      continue;
    if (plan.roots.contains(&op)) {
      Value result = op.getResult(0);
      const Components *known = nullptr;
      if (loops->computed) {
        auto it = loops->computed->find(result);
        if (it != loops->computed->end())
          known = &it->second;
      }
      values[result] = known ? *known : emitFeatureLoop(e, &op, values, *loops);
      continue;
    }
    if (plan.trees.contains(&op) && !plan.sharedTrees.contains(&op))
      continue; // computed inside the loops only
    if (auto dot = llvm::dyn_cast<TensorDotOp>(&op);
        dot && plan.contractions.contains(dot)) {
      // Variables are read from memory, other operands from the stack.
      auto operands = contractionOperands(e, dot, values, loops->load);
      values[dot.getResult()] =
          emitContractionLoops(e, dot, operands[0], operands[1]);
      continue;
    }
    llvm::SmallVector<Components> operands;
    for (Value operand : op.getOperands())
      operands.push_back(values.at(operand));
    Components result;
    emitFormulaOp(e, &op, operands, result);
    values[op.getResult(0)] = std::move(result);
  }
}

/// `components` converted to `accType`.
static Components toAccType(LaneEmitter &e, Components components,
                            FloatType accType) {
  for (Value &c : components) {
    auto type = llvm::dyn_cast<VectorType>(c.getType());
    Type target = type ? Type(VectorType::get(type.getShape(), accType))
                       : Type(accType);
    if (c.getType() != target)
      c = arith::ExtFOp::create(e.getBuilder(), e.getLoc(), target, c);
  }
  return components;
}

std::pair<Components, Components>
keops::emitPairFormula(LaneEmitter &e, ReduceOp reduce,
                       llvm::DenseMap<Value, Components> &values,
                       FloatType accType, const FeatureLoops *loops,
                       const ChunkPosition *chunk) {
  // The ops of the chunked value that nothing else uses.
  llvm::SmallPtrSet<Operation *, 8> chunkOnly;
  Value wide = chunk ? getChunkableValue(reduce) : Value();
  if (wide) {
    assert(loops && "chunks load their variables with loops->load");
    collectChunkTree(wide, chunkOnly);
    bool changed = true;
    while (changed) {
      changed = false;
      for (Operation *op : llvm::to_vector(chunkOnly))
        if (llvm::any_of(op->getUsers(), [&](Operation *user) {
              return !chunkOnly.contains(user) &&
                     !user->hasTrait<OpTrait::IsTerminator>();
            }))
          changed = chunkOnly.erase(op);
    }
  }
  emitBodyOps(e, reduce, values, loops,
              [&](Operation *op) { return chunkOnly.contains(op); });
  auto yielded = reduce.getYield().getValues();
  Components chunkComponents;
  if (wide)
    chunkComponents = emitChunk(e, wide, values, *loops, *chunk);
  auto convert = [&](Value v) {
    return toAccType(e, v == wide ? chunkComponents : values.at(v), accType);
  };
  return {convert(yielded[0]),
          yielded.size() > 1 ? convert(yielded[1]) : Components()};
}

Components keops::emitPairValue(LaneEmitter &e, ReduceOp reduce, Value value,
                                llvm::DenseMap<Value, Components> &values,
                                FloatType accType, const FeatureLoops *loops) {
  // The ops that `value` depends on.
  llvm::SmallPtrSet<Operation *, 8> needed;
  llvm::SmallVector<Value> pending{value};
  while (!pending.empty()) {
    Operation *op = pending.pop_back_val().getDefiningOp();
    if (op && needed.insert(op).second)
      llvm::append_range(pending, op->getOperands());
  }
  emitBodyOps(e, reduce, values, loops,
              [&](Operation *op) { return !needed.contains(op); });
  return toAccType(e, values.at(value), accType);
}


KernelArrays KernelArrays::fromArguments(Block &entry, unsigned numInputs,
                                         unsigned numOutputs) {
  KernelArrays arrays;
  unsigned next = KEOPS_RT_NUM_SCALAR_ARGS;
  for (unsigned k = 0; k < numInputs; ++k)
    arrays.inputStrides.push_back(entry.getArgument(next++));
  for (unsigned k = 0; k < numOutputs; ++k)
    arrays.outputStrides.push_back(entry.getArgument(next++));
  for (unsigned k = 0; k < numInputs; ++k)
    arrays.inputs.push_back(entry.getArgument(next++));
  for (unsigned k = 0; k < numOutputs; ++k)
    arrays.outputs.push_back(entry.getArgument(next++));
  return arrays;
}

unsigned KernelArrays::firstBufferArgument(ReduceOp reduce) {
  return KEOPS_RT_NUM_SCALAR_ARGS +
         2 * (reduce.getInputs().size() + reduce.getNumResults());
}

llvm::SmallVector<Type> KernelArrays::argumentTypes(ReduceOp reduce) {
  MLIRContext *ctx = reduce.getContext();
  llvm::SmallVector<Type> types(KEOPS_RT_NUM_SCALAR_ARGS +
                                    reduce.getInputs().size() +
                                    reduce.getNumResults(),
                                IndexType::get(ctx));
  auto flat = [](Type tensor) {
    Type element = llvm::cast<RankedTensorType>(tensor).getElementType();
    return MemRefType::get({ShapedType::kDynamic}, element);
  };
  for (Value input : reduce.getInputs())
    types.push_back(flat(input.getType()));
  for (Type result : reduce.getResultTypes())
    types.push_back(flat(result));
  return types;
}

/// row * stride + d (null row: d).
static Value rowOffset(OpBuilder &b, Location loc, Value stride, Value row,
                       Value d) {
  if (!row)
    return d;
  return arith::AddIOp::create(b, loc,
                               arith::MulIOp::create(b, loc, row, stride), d);
}

Value KernelArrays::inputOffset(OpBuilder &b, Location loc, unsigned k,
                                Value row, Value d) const {
  return rowOffset(b, loc, inputStrides[k], row, d);
}

Value KernelArrays::outputOffset(OpBuilder &b, Location loc, unsigned k,
                                 Value row, Value d) const {
  return rowOffset(b, loc, outputStrides[k], row, d);
}

Components keops::loadRowComponents(OpBuilder &b, Location loc,
                                    ReduceOp reduce, unsigned k,
                                    const KernelArrays &arrays, Value row,
                                    Type laneType) {
  Components components;
  for (int64_t d = 0, e = getInputDim(reduce, k); d < e; ++d) {
    Value offset =
        arrays.inputOffset(b, loc, k, row, indexConstant(b, loc, d));
    Value scalar = memref::LoadOp::create(b, loc, arrays.inputs[k], offset);
    components.push_back(vector::BroadcastOp::create(b, loc, laneType, scalar));
  }
  return components;
}

void keops::loadRowVariables(OpBuilder &b, Location loc, ReduceOp reduce,
                             Category category, const KernelArrays &arrays,
                             Value row, Type laneType,
                             llvm::DenseMap<Value, Components> &values) {
  Block &body = reduce.getBody().front();
  for (unsigned k = 0; k < arrays.inputs.size(); ++k)
    if (reduce.getCategory(k) == category)
      values[body.getArgument(k)] =
          loadRowComponents(b, loc, reduce, k, arrays, row, laneType);
}

void keops::storeResults(LaneEmitter &e, ReduceOp reduce, Accumulator &acc,
                         const State &state, Value row,
                         const KernelArrays &arrays,
                         const ChunkPosition *chunk) {
  OpBuilder &b = e.getBuilder();
  Location loc = e.getLoc();
  for (auto [result, components] :
       llvm::zip_equal(reduce.getResults(), acc.finalize(e, state))) {
    Type outElement =
        llvm::cast<RankedTensorType>(result.getType()).getElementType();
    unsigned n = result.getResultNumber();
    for (auto [k, component] : llvm::enumerate(components)) {
      Value scalar = vector::ExtractOp::create(b, loc, component,
                                               llvm::ArrayRef<int64_t>{0});
      if (scalar.getType() != outElement)
        scalar = arith::TruncFOp::create(b, loc, outElement, scalar);
      Value d = chunk ? chunk->outputComponent(b, loc, k)
                      : indexConstant(b, loc, static_cast<int64_t>(k));
      memref::StoreOp::create(b, loc, scalar, arrays.outputs[n],
                              arrays.outputOffset(b, loc, n, row, d));
    }
  }
}


Value RawStates::slot(OpBuilder &b, Location loc, Value split,
                      Value row) const {
  return arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, split, slab),
                               row);
}

Value RawStates::start(OpBuilder &b, Location loc, Value slot,
                       int64_t perChunk) const {
  Value at = arith::MulIOp::create(b, loc, slot,
                                   indexConstant(b, loc, perChunk * chunks));
  if (!chunk)
    return at;
  return arith::AddIOp::create(
      b, loc, at,
      arith::MulIOp::create(b, loc, chunk, indexConstant(b, loc, perChunk)));
}

Value RawStates::element(LaneEmitter &e, Value slot, int64_t perChunk,
                         int64_t k) const {
  OpBuilder &b = e.getBuilder();
  Location loc = e.getLoc();
  return arith::AddIOp::create(b, loc, start(b, loc, slot, perChunk),
                               indexConstant(b, loc, k));
}

void RawStates::store(LaneEmitter &e, const State &state, Value split,
                      Value row) const {
  OpBuilder &b = e.getBuilder();
  Location loc = e.getLoc();
  Value at = slot(e.getBuilder(), e.getLoc(), split, row);
  int64_t numFloats = 0, numInts = 0;
  for (Value v : state)
    ++(llvm::isa<FloatType>(getElementTypeOrSelf(v.getType())) ? numFloats
                                                               : numInts);
  int64_t f = 0, i = 0;
  for (Value v : state) {
    Value scalar =
        vector::ExtractOp::create(b, loc, v, llvm::ArrayRef<int64_t>{0});
    bool isFloat = llvm::isa<FloatType>(scalar.getType());
    memref::StoreOp::create(b, loc, scalar, isFloat ? floats : ints,
                            isFloat ? element(e, at, numFloats, f++)
                                    : element(e, at, numInts, i++));
  }
}

State RawStates::load(LaneEmitter &e, Accumulator &acc, Value split,
                      Value row) const {
  OpBuilder &b = e.getBuilder();
  Location loc = e.getLoc();
  Value at = slot(e.getBuilder(), e.getLoc(), split, row);
  StateLayout layout = acc.getStateLayout();
  State state;
  int64_t f = 0, i = 0;
  for (Type type : acc.stateTypes(1)) {
    bool isFloat = llvm::isa<FloatType>(getElementTypeOrSelf(type));
    Value scalar = memref::LoadOp::create(
        b, loc, isFloat ? floats : ints,
        isFloat ? element(e, at, layout.floats, f++)
                : element(e, at, layout.ints, i++));
    state.push_back(vector::BroadcastOp::create(b, loc, type, scalar));
  }
  return state;
}

State RawStates::mergeSplits(LaneEmitter &e, Accumulator &acc, Value splits,
                             Value row) const {
  OpBuilder &b = e.getBuilder();
  Location loc = e.getLoc();
  Value one = indexConstant(b, loc, 1);
  auto loop = scf::ForOp::create(
      b, loc, one, splits, one,
      load(e, acc, indexConstant(b, loc, 0), row),
      [&](OpBuilder &b, Location, Value split, ValueRange merged) {
        LaneEmitter inner(b, loc, e.getLaneType());
        scf::YieldOp::create(
            b, loc,
            acc.merge(inner, State(merged), load(inner, acc, split, row)));
      });
  return State(loop.getResults());
}

void keops::forEachChunk(OpBuilder &b, Location loc, ChunkPosition &position,
                         RawStates &states,
                         llvm::function_ref<void(OpBuilder &)> body) {
  if (!position.chunks) {
    body(b);
    return;
  }
  scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0),
      indexConstant(b, loc, position.chunks.count()), indexConstant(b, loc, 1),
      ValueRange(), [&](OpBuilder &b, Location, Value c, ValueRange) {
        position.first = arith::MulIOp::create(
            b, loc, c, indexConstant(b, loc, position.chunks.size));
        states.chunk = c;
        body(b);
        scf::YieldOp::create(b, loc);
      });
}
