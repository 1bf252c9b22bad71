//===- ReduceAnalysis.cpp - What a keops.reduce implies ---------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements ReduceAnalysis.h.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/IR/ReduceAnalysis.h"

#include "llvm/ADT/SmallPtrSet.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::keops;

static int64_t dimOf(Value v) {
  return llvm::cast<VectorType>(v.getType()).getNumElements();
}

RankedTensorType keops::withDynamicRows(Type type) {
  auto tensor = llvm::cast<RankedTensorType>(type);
  SmallVector<int64_t> shape(tensor.getShape());
  shape.front() = ShapedType::kDynamic;
  return tensor.clone(shape);
}

FloatType keops::getFormulaElementType(ReduceOp reduce) {
  return llvm::cast<FloatType>(
      llvm::cast<VectorType>(reduce.getYield().getValues()[0].getType())
          .getElementType());
}

int64_t keops::getInputDim(ReduceOp reduce, unsigned k) {
  return llvm::cast<RankedTensorType>(reduce.getInputs()[k].getType())
      .getShape()
      .back();
}

/// collectComponentwiseTree, with tensordots as leaves when `tensorDots` is
/// set.
static bool collectTree(Value v, llvm::SmallPtrSetImpl<Operation *> &tree,
                        bool tensorDots) {
  Operation *op = v.getDefiningOp();
  if (!op || dimOf(v) == 1)
    return true;
  if (tensorDots && llvm::isa<TensorDotOp>(op)) {
    tree.insert(op);
    return true;
  }
  if (!op->hasTrait<OpTrait::keops::Componentwise>())
    return false;
  tree.insert(op);
  return llvm::all_of(op->getOperands(), [&](Value operand) {
    return collectTree(operand, tree, tensorDots);
  });
}

bool keops::collectComponentwiseTree(Value v,
                                     llvm::SmallPtrSetImpl<Operation *> &tree) {
  return collectTree(v, tree, /*tensorDots=*/false);
}

bool keops::readsReducedVariable(ReduceOp reduce, Value v) {
  Category reduced = reduce.getAxis() == Axis::j ? Category::j : Category::i;
  llvm::SmallPtrSet<Operation *, 16> visited;
  llvm::SmallVector<Value> pending{v};
  while (!pending.empty()) {
    Value next = pending.pop_back_val();
    if (auto argument = llvm::dyn_cast<BlockArgument>(next)) {
      if (reduce.getCategory(argument.getArgNumber()) == reduced)
        return true;
      continue;
    }
    Operation *op = next.getDefiningOp();
    if (visited.insert(op).second)
      llvm::append_range(pending, op->getOperands());
  }
  return false;
}

bool keops::collectChunkTree(Value v, llvm::SmallPtrSetImpl<Operation *> &tree) {
  return collectTree(v, tree, /*tensorDots=*/true);
}

bool keops::isFeatureLoopRoot(Operation *op, int64_t minDim) {
  if (minDim <= 0 || !op->hasTrait<OpTrait::keops::SumOfComponents>() ||
      llvm::none_of(op->getOperands(),
                    [&](Value v) { return dimOf(v) >= minDim; }))
    return false;
  llvm::SmallPtrSet<Operation *, 8> tree;
  return llvm::all_of(op->getOperands(), [&](Value v) {
    return collectChunkTree(v, tree);
  });
}

/// Whether the tree of the feature-loop root `root` reads variables and
/// constants only.
static bool readsVariablesOnly(Operation *root) {
  llvm::SmallPtrSet<Operation *, 8> tree;
  for (Value operand : root->getOperands())
    collectComponentwiseTree(operand, tree);
  tree.insert(root);
  for (Operation *op : tree)
    for (Value operand : op->getOperands())
      if (!llvm::isa<BlockArgument>(operand) &&
          !tree.contains(operand.getDefiningOp()))
        return false;
  return true;
}

llvm::SmallVector<Operation *> keops::getBlockFeatureLoopRoots(ReduceOp reduce,
                                                               int64_t minDim) {
  llvm::SmallVector<Operation *> roots;
  for (Operation &op : reduce.getBody().front().without_terminator())
    if (isFeatureLoopRoot(&op, minDim) && readsVariablesOnly(&op))
      roots.push_back(&op);
  return roots;
}

Value keops::getChunkableValue(ReduceOp reduce) {
  auto yielded = reduce.getYield().getValues();
  ReductionKind kind = reduce.getKind();
  if (kind == ReductionKind::logsumexp ||
      kind == ReductionKind::sumsoftmaxweight)
    return yielded.size() > 1 ? yielded[1] : Value();
  return yielded[0];
}

ColumnProduct keops::getColumnProduct(ReduceOp reduce, int64_t minDim) {
  auto yielded = reduce.getYield().getValues();
  if (minDim <= 0 || reduce.getKind() != ReductionKind::sum ||
      yielded.size() != 1)
    return {};
  Category reduced = reduce.getAxis() == Axis::j ? Category::j : Category::i;
  auto mul = yielded[0].getDefiningOp<MulOp>();
  if (!mul)
    return {};
  Block &body = reduce.getBody().front();
  for (auto [factor, weight] : {std::pair(mul.getLhs(), mul.getRhs()),
                                std::pair(mul.getRhs(), mul.getLhs())}) {
    auto argument = llvm::dyn_cast<BlockArgument>(weight);
    if (dimOf(factor) != 1 || !argument || argument.getOwner() != &body ||
        dimOf(weight) < minDim)
      continue;
    unsigned input = argument.getArgNumber();
    if (reduce.getCategory(input) == reduced)
      return {factor, input};
  }
  return {};
}

llvm::SmallVector<ExpandableSqDist>
keops::getExpandableSqDists(ReduceOp reduce, int64_t minDim) {
  Category reduced = reduce.getAxis() == Axis::j ? Category::j : Category::i;
  Category rows = reduced == Category::j ? Category::i : Category::j;
  Block &body = reduce.getBody().front();
  // The position of `v` among the inputs when it is one of `category` that
  // nothing else reads.
  auto inputOf = [&](Value v, Category category) -> std::optional<unsigned> {
    auto argument = llvm::dyn_cast<BlockArgument>(v);
    if (!argument || argument.getOwner() != &body || !argument.hasOneUse() ||
        reduce.getCategory(argument.getArgNumber()) != category)
      return std::nullopt;
    return argument.getArgNumber();
  };
  llvm::SmallVector<ExpandableSqDist> found;
  for (Operation *root : getBlockFeatureLoopRoots(reduce, minDim)) {
    auto sqdist = llvm::dyn_cast<SqDistOp>(root);
    if (!sqdist || dimOf(sqdist.getLhs()) != dimOf(sqdist.getRhs()))
      continue;
    for (auto [a, b] : {std::pair(sqdist.getLhs(), sqdist.getRhs()),
                        std::pair(sqdist.getRhs(), sqdist.getLhs())}) {
      std::optional<unsigned> row = inputOf(a, rows);
      std::optional<unsigned> column = inputOf(b, reduced);
      if (row && column) {
        found.push_back({root, *row, *column});
        break;
      }
    }
  }
  return found;
}

/// The values per component of the reduced value that the state of a row
/// keeps in registers.
static int64_t registerValuesPerComponent(ReduceOp reduce,
                                          bool selectionInMemory) {
  if (!isKMinType(reduce.getKind()) || selectionInMemory)
    return 1;
  return static_cast<int64_t>(*reduce.getK());
}

OutputChunks keops::getOutputChunks(ReduceOp reduce, int64_t size) {
  Value wide = getChunkableValue(reduce);
  llvm::SmallPtrSet<Operation *, 8> tree;
  if (size <= 0 || !wide || dimOf(wide) <= size ||
      !collectChunkTree(wide, tree))
    return {};
  return {dimOf(wide), size};
}

OutputChunks keops::planOutputChunks(ReduceOp reduce, int64_t minDim,
                                     int64_t size, bool selectionInMemory) {
  Value wide = getChunkableValue(reduce);
  if (minDim <= 0 || !wide ||
      dimOf(wide) * registerValuesPerComponent(reduce, selectionInMemory) <
          minDim)
    return {};
  return getOutputChunks(reduce, size);
}

int64_t keops::getOutputChunkSize(ReduceOp reduce, bool selectionInMemory) {
  return std::clamp<int64_t>(
      kOutputChunkSelections /
          registerValuesPerComponent(reduce, selectionInMemory),
      1, kOutputChunkSize);
}

bool keops::isSumType(ReductionKind kind) {
  return kind == ReductionKind::sum || kind == ReductionKind::logsumexp ||
         kind == ReductionKind::sumsoftmaxweight;
}

bool keops::isKMinType(ReductionKind kind) {
  return kind == ReductionKind::kmin || kind == ReductionKind::argkmin ||
         kind == ReductionKind::kmin_argkmin;
}

StateLayout keops::getStateLayout(ReduceOp reduce, SumScheme scheme,
                                  int64_t chunkDim) {
  auto yielded = reduce.getYield().getValues();
  int64_t dim = dimOf(yielded[0]);
  int64_t weightDim = yielded.size() > 1 ? dimOf(yielded[1]) : 0;
  if (chunkDim > 0)
    (weightDim ? weightDim : dim) = chunkDim;
  switch (reduce.getKind()) {
  case ReductionKind::sum:
    return {dim * (scheme == SumScheme::KahanScheme ? 2 : 1), 0};
  case ReductionKind::logsumexp: // the max, then the shifted sums
    return {1 + (weightDim ? weightDim : 1), 0};
  case ReductionKind::sumsoftmaxweight: // the max, the normalizer, the sums
    return {2 + weightDim, 0};
  case ReductionKind::min:
  case ReductionKind::argmin:
  case ReductionKind::min_argmin:
  case ReductionKind::max:
  case ReductionKind::argmax:
  case ReductionKind::max_argmax:
    return {dim, dim};
  case ReductionKind::kmin:
  case ReductionKind::argkmin:
  case ReductionKind::kmin_argkmin:
  {
    int64_t k = static_cast<int64_t>(*reduce.getK());
    return {k * dim, k * dim};
  }
  }
  llvm_unreachable("unknown reduction kind");
}

StateLayout ReductionTiling::getRowState(ReduceOp reduce) const {
  StateLayout chunk = getStateLayout(reduce, scheme, chunks.size);
  return {chunk.floats * chunks.count(), chunk.ints * chunks.count()};
}

bool ReductionTiling::isBlockSum(ReduceOp reduce) const {
  return scheme == SumScheme::BlockSum && isSumType(reduce.getKind());
}

ReductionTiling keops::getTiling(ScheduleOp schedule) {
  ReductionTiling tiling;
  tiling.rows = schedule.getTileRows();
  tiling.cols = schedule.getTileCols();
  tiling.staged = schedule.getStaged();
  tiling.accType = llvm::cast<FloatType>(schedule.getAccType());
  tiling.scheme = *symbolizeSumScheme(schedule.getSumScheme());
  tiling.featureLoopMinDim = schedule.getFeatureLoopMinDim();
  tiling.selectionInMemory = schedule.getSelectionInMemory();
  tiling.sqdistExpansion = schedule.getSqdistExpansion();
  if (std::optional<int64_t> input = schedule.getColumnProduct())
    tiling.columnProduct = *input;
  if (OutputChunksOp chunks = schedule.getOutputChunks())
    tiling.chunks = getOutputChunks(schedule.getReduce(), chunks.getSize());
  return tiling;
}
