//===- KeOpsToCPU.cpp - Lower keops.reduce to CPU kernels -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements convert-keops-to-cpu:
//
//   func(tensors) { keops.reduce over j; keops.schedule (i-blocks of R rows,
//                   j-tiles of T columns) }
//     --> func(row/column ranges, mode, splits, memrefs) {
//           if mode == merge: scf.for rows { merge the raw states of the
//             splits; finalize; store }
//           else: scf.for rows { scratch = state_init }
//             scf.for j-tiles { stage the tile's reduced variables
//               component-major (tile buffer);
//               scf.for i-blocks { states = scratch; the for_tiles body, its
//                 accumulate_tile an scf.for over lanes { formula on
//                 vector<L x T> components; accumulate }; scratch = states } }
//             scf.for rows { merge lanes of the scratch; state_store:
//               finalize and store (or store raw) } }
//
// The schedule's loops are interchanged: each tile is staged once for all
// the i-blocks, whose states wait in a scratch buffer between tiles. The
// reduction kind only enters through its Accumulator, or, with the
// schedule's selection_in_memory, through KBestLists: the rows' K best are
// in the scratch, the loops carry their thresholds, the lanes need no
// merge; with its column_product, through ColumnProducts: an i-block
// computes its factors for a tile, then adds their product with the tile's
// rows of the weight to its sums in the scratch; with its sqdist_expansion,
// through CenteredSqDists: the expanded distances' rows are centered once
// per call, a tile's columns when staged, and the block's feature loops add
// products of components.
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/Passes.h"

#include "CenteredSqDists.h"
#include "ColumnProducts.h"

#include "keops/Conversion/KeOpsCommon/KBestLists.h"
#include "keops/Conversion/KeOpsCommon/KernelFormula.h"
#include "keops/Conversion/KeOpsCommon/TileBody.h"
#include "keops/Dialect/KeOps/Transforms/Tiling.h"
#include "keops/Runtime/KeOpsRuntime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::keops {
#define GEN_PASS_DEF_CONVERTKEOPSTOCPUPASS
#include "keops/Conversion/Passes.h.inc"
} // namespace mlir::keops

using namespace mlir;
using namespace mlir::keops;

//===----------------------------------------------------------------------===//
// Kernel emission
//===----------------------------------------------------------------------===//

namespace {

/// Emits the kernel of one keops.reduce (over j) into a new entry block.
class KernelEmitter {
public:
  KernelEmitter(ScheduleOp schedule, const ReductionTiling &tiling,
                Accumulator &acc, int64_t lanes)
      : reduce(schedule.getReduce()), schedule(schedule), acc(acc),
        lanes(lanes), tileJ(tiling.cols), rowsPerBlock(tiling.rows),
        featureLoopMinDim(tiling.featureLoopMinDim),
        selectionInMemory(tiling.selectionInMemory),
        columnProduct(tiling.columnProduct),
        sqdistExpansion(tiling.sqdistExpansion),
        blockSum(tiling.isBlockSum(schedule.getReduce())),
        accType(tiling.accType),
        elementType(getFormulaElementType(reduce)),
        laneType(VectorType::get({lanes}, elementType)),
        position{tiling.chunks, Value()} {}

  /// The kernel's argument types: 8 indices, the row strides and flat
  /// memrefs of the inputs and results (KernelArrays), then the raw state
  /// buffers (floats, indices), the scratch buffers of the lane states
  /// between tiles (floats, indices) and the staging buffer of a tile.
  llvm::SmallVector<Type> argumentTypes();
  void emit(OpBuilder &b, Block &entry);

private:
  int64_t dimOf(unsigned input) { return getInputDim(reduce, input); }
  Value index(OpBuilder &b, int64_t value) {
    return arith::ConstantIndexOp::create(b, loc(), value);
  }
  /// The end of the whole lanes of columns from `begin` to `end`: begin +
  /// (end - begin) / lanes * lanes.
  Value wholeLanesEnd(OpBuilder &b, Value begin, Value end) {
    Value count = arith::SubIOp::create(b, loc(), end, begin);
    Value whole = arith::DivUIOp::create(b, loc(), count, index(b, lanes));
    return arith::AddIOp::create(
        b, loc(), begin,
        arith::MulIOp::create(b, loc(), whole, index(b, lanes)));
  }
  Location loc() { return reduce.getLoc(); }
  /// Whether the kernel runs in mode `which` (i1).
  Value isMode(OpBuilder &b, keops_rt_mode_t which) {
    return arith::CmpIOp::create(b, loc(), arith::CmpIPredicate::eq, mode,
                                 index(b, which));
  }

  /// Loads component d of every variable of `category` at `row` (scalar
  /// loads, broadcast to lanes).
  void loadBroadcastRows(OpBuilder &b, Category category, Value row);
  /// Copies the columns [tileBegin, tileEnd) of the reduced variables (rows
  /// of their arrays, with their row strides) into the staging buffer,
  /// component-major.
  void stageTile(OpBuilder &b);
  /// Where component `d` of reduced variable `k` at column `col` of the
  /// current tile is in the staging buffer.
  Value stagedOffset(OpBuilder &b, unsigned k, Value d, Value col);
  /// Whether reduced variable `k` is staged component by component (not in
  /// a loop over its components).
  bool isNarrow(unsigned k);
  /// Stages the columns [begin, end) of the narrow (or the wide) reduced
  /// variables one by one.
  void stageColumns(OpBuilder &b, Value begin, Value end, bool narrow);
  /// Stages the columns [col, col + lanes) of the narrow reduced variables,
  /// whose rows are contiguous: one vector load each, then a shuffle per
  /// component.
  void stageContiguousLanes(OpBuilder &b, Value col);
  /// Centers the current tile's columns of the reduced variables of the
  /// expanded squared distances, and takes their squared norms.
  void centerTile(OpBuilder &b);
  /// Loads the lanes of columns [j, j + lanes) of the reduced variables,
  /// masked when `mask` is given.
  void loadColumns(OpBuilder &b, Value j, Value mask);
  /// Component `d` of reduced variable `k` at columns [j, j + lanes) of the
  /// staged tile.
  Value loadColumnComponent(OpBuilder &b, unsigned k, Value d, Value j,
                            Value mask);
  /// Component `d` of variable `k` for `row` and columns [j, j + lanes):
  /// the reduced variables' lanes, the others' value broadcast (centered
  /// rows for the expanded squared distances).
  Value loadComponent(OpBuilder &b, Value row, unsigned k, Value d, Value j,
                      Value mask);
  /// Evaluates the formula (and weight) on the current variable components
  /// of `row` and columns [j, j + lanes), with the feature loops in
  /// `computed` already done.
  std::pair<Components, Components>
  emitFormula(LaneEmitter &e, Value row, Value j, Value mask,
              const llvm::DenseMap<Value, Components> *computed);
  /// Accumulates columns [j, j + lanes) into `state`.
  State accumulateLanes(OpBuilder &b, const State &state, Value j, Value mask);
  /// Runs `step(b, j, mask, state)` over the columns [begin, end) in lanes:
  /// whole lanes (null mask), then a masked tail; the state it returns
  /// goes to the next step (empty: nothing carried).
  State forLaneSteps(
      OpBuilder &b, Value begin, Value end, const State &state,
      llvm::function_ref<State(OpBuilder &, Value j, Value mask, const State &)>
          step);
  /// Reduces a block of rows over the current tile, from their lane states
  /// in the scratch and back, as the body of keops.for_tiles says: the
  /// columns are loaded once per lane step for all of them (a block's rows
  /// past the end repeat its first row: same values, same slot; `inside`
  /// says which rows are not such repeats, null for the first).
  void emitRows(OpBuilder &b, llvm::ArrayRef<Value> rows,
                llvm::ArrayRef<Value> inside);
  /// Loads the row variables of a block of rows into rowValues (and sets
  /// blockRows, blockInside; see emitRows).
  void loadBlockRows(OpBuilder &b, llvm::ArrayRef<Value> rows,
                     llvm::ArrayRef<Value> inside);
  /// Runs `body` for each row of [row_begin, rowEnd) as a block of one row.
  void forEachRow(OpBuilder &b, Value rowEnd,
                  llvm::function_ref<void(OpBuilder &)> body);
  /// The lane states of the block's rows in the scratch, and back: row r
  /// (from row_begin) holds its float values at floats[r * F * L + f * L]
  /// and its indices at ints[r * I * L + i * L], F and I those of the
  /// (chunk) state.
  State loadScratch(OpBuilder &b);
  void storeScratch(OpBuilder &b, const State &state);
  /// The buffer and offset of the next value of `type` (counted by `floats`
  /// and `ints`) of `row`'s lane state in the scratch.
  std::pair<Value, Value> scratchSlot(OpBuilder &b, Value row, Type type,
                                      int64_t &floats, int64_t &ints);
  /// Merges the lanes of a row's state and stores its results (or, in raw
  /// mode, the state).
  void finalizeRow(OpBuilder &b, State state, Value row);
  /// finalizeRow for the column product of `row`.
  void finalizeProductRow(OpBuilder &b, Value row);
  /// The column product of the block of rows (loadBlockRows) over the
  /// current tile: the factors of its columns, then their product with the
  /// weight's rows.
  void emitProductRows(OpBuilder &b);
  /// finalizeRow for the K best of `row`.
  void finalizeKBestRow(OpBuilder &b, Value row);
  /// The K-best slot of `row` in the scratch.
  Value listSlot(OpBuilder &b, Value row) {
    return arith::SubIOp::create(b, loc(), row, rowBegin);
  }
  /// Merge mode: the rows' raw states of every split, merged and finalized.
  void emitMerge(OpBuilder &b, Value rowBegin, Value rowEnd);
  /// Emits `body` once, or in a loop over the chunks of the output.
  void forEachChunk(OpBuilder &b, llvm::function_ref<void(OpBuilder &)> body) {
    keops::forEachChunk(b, loc(), position, states, body);
  }
  /// The chunk being computed (null: no chunks).
  const ChunkPosition *chunk() const {
    return position.chunks ? &position : nullptr;
  }

  /// The initial state of every row of the block (in the scratch).
  void initScratch(LaneEmitter &e) {
    OpBuilder &b = e.getBuilder();
    if (kBest)
      return kBest->init(b, loc(), listSlot(b, blockRows.front()));
    if (products)
      return products->init(b, loc(), listSlot(b, blockRows.front()));
    storeScratch(e.getBuilder(), initBlock(e));
  }
  /// The initial state of every row of the block.
  State initBlock(LaneEmitter &e) {
    State block;
    for (size_t r = 0; r < rowValues.size(); ++r)
      block.append(acc.init(e, lanes));
    return block;
  }

  ReduceOp reduce;
  ScheduleOp schedule;
  Accumulator &acc;
  int64_t lanes, tileJ, rowsPerBlock, featureLoopMinDim;
  bool selectionInMemory;
  /// The rows' K best, with selectionInMemory.
  std::optional<KBestLists> kBest;
  /// The input of the column product (-1: none), and its sums.
  int64_t columnProduct;
  std::optional<ColumnProducts> products;
  /// Where a block's factors go: the weight's slot of the staged tile, or,
  /// when the factors read the weight (which is then staged), a buffer on
  /// the stack.
  Value factors;
  bool weightStaged = false;
  /// The squared distances computed as norms minus inner products, with
  /// sqdistExpansion.
  bool sqdistExpansion;
  std::optional<CenteredSqDists> centered;
  /// Whether each tile is summed from zero, then merged (the block sum).
  bool blockSum;
  FloatType accType, elementType;
  VectorType laneType;
  Value rowBegin, entryRowEnd, colBegin, colEnd, mode, split, splits;
  RawStates states;
  /// The staged tile: its first column, its buffer, and the first
  /// component there of each reduced variable (-1: not reduced).
  Value tileBegin, tileEnd, staged;
  llvm::SmallVector<int64_t> stagedFirst;
  Value scratchFloats, scratchInts;
  KernelArrays arrays;
  /// The components of each region argument for the current pair lanes.
  llvm::DenseMap<Value, Components> values;
  /// The components of the row variables, for each row of the current block.
  llvm::SmallVector<llvm::DenseMap<Value, Components>> rowValues;
  llvm::SmallVector<Value> blockRows, blockInside;
  ChunkPosition position;
};

} // namespace

llvm::SmallVector<Type> KernelEmitter::argumentTypes() {
  MLIRContext *ctx = reduce.getContext();
  // The scalars and arrays, then the buffers of keops_rt_kernel_buffer_t:
  // raw states and scratch (floats, indices), and the tile.
  llvm::SmallVector<Type> types = KernelArrays::argumentTypes(reduce);
  for (int scratch = 0; scratch < 2; ++scratch) {
    types.push_back(MemRefType::get({ShapedType::kDynamic}, accType));
    types.push_back(MemRefType::get({ShapedType::kDynamic},
                                    IntegerType::get(ctx, 64)));
  }
  types.push_back(MemRefType::get({ShapedType::kDynamic}, elementType));
  return types;
}

void KernelEmitter::loadBroadcastRows(OpBuilder &b, Category category,
                                      Value row) {
  loadRowVariables(b, loc(), reduce, category, arrays, row, laneType, values);
}

Value KernelEmitter::stagedOffset(OpBuilder &b, unsigned k, Value d,
                                  Value col) {
  Value component =
      arith::AddIOp::create(b, loc(), d, index(b, stagedFirst[k]));
  return arith::AddIOp::create(
      b, loc(), arith::MulIOp::create(b, loc(), component, index(b, tileJ)),
      arith::SubIOp::create(b, loc(), col, tileBegin));
}

void KernelEmitter::centerTile(OpBuilder &b) {
  forLaneSteps(b, tileBegin, tileEnd, State(),
               [&](OpBuilder &b, Value j, Value mask, const State &) {
                 centered->centerColumns(
                     b, loc(), staged,
                     [&](OpBuilder &b, unsigned k, Value d, Value col) {
                       return stagedOffset(b, k, d, col);
                     },
                     tileBegin, j, mask);
                 return State();
               });
}

Value KernelEmitter::loadColumnComponent(OpBuilder &b, unsigned k, Value d,
                                         Value j, Value mask) {
  return loadLanes(b, loc(), laneType, staged, stagedOffset(b, k, d, j),
                   mask);
}

bool KernelEmitter::isNarrow(unsigned k) {
  return featureLoopMinDim <= 0 || dimOf(k) < featureLoopMinDim;
}

void KernelEmitter::stageColumns(OpBuilder &b, Value begin, Value end,
                                 bool narrow) {
  scf::ForOp::create(
      b, loc(), begin, end, index(b, 1), ValueRange(),
      [&](OpBuilder &b, Location, Value col, ValueRange) {
        for (unsigned k = 0; k < arrays.inputs.size(); ++k) {
          if (stagedFirst[k] < 0 || isNarrow(k) != narrow ||
              (k == columnProduct && !weightStaged))
            continue;
          auto copy = [&, k = k](OpBuilder &b, Value d) {
            Value from = arrays.inputOffset(b, loc(), k, col, d);
            Value value =
                memref::LoadOp::create(b, loc(), arrays.inputs[k], from);
            memref::StoreOp::create(b, loc(), value, staged,
                                    stagedOffset(b, k, d, col));
          };
          if (narrow) {
            for (int64_t d = 0; d < dimOf(k); ++d)
              copy(b, index(b, d));
            continue;
          }
          scf::ForOp::create(b, loc(), index(b, 0), index(b, dimOf(k)),
                             index(b, 1), ValueRange(),
                             [&](OpBuilder &b, Location, Value d, ValueRange) {
                               copy(b, d);
                               scf::YieldOp::create(b, loc());
                             });
        }
        scf::YieldOp::create(b, loc());
      });
}

void KernelEmitter::stageContiguousLanes(OpBuilder &b, Value col) {
  for (unsigned k = 0; k < arrays.inputs.size(); ++k) {
    if (stagedFirst[k] < 0 || !isNarrow(k))
      continue;
    int64_t dim = dimOf(k);
    Value first = arith::MulIOp::create(b, loc(), col, index(b, dim));
    Value rows = vector::LoadOp::create(
        b, loc(), VectorType::get({dim * lanes}, elementType),
        arrays.inputs[k], first);
    for (int64_t d = 0; d < dim; ++d) {
      llvm::SmallVector<int64_t> picks;
      for (int64_t l = 0; l < lanes; ++l)
        picks.push_back(d + l * dim);
      Value component =
          dim == 1 ? rows
                   : Value(vector::ShuffleOp::create(b, loc(), rows, rows,
                                                     picks));
      vector::StoreOp::create(b, loc(), component, staged,
                              stagedOffset(b, k, index(b, d), col));
    }
  }
}

void KernelEmitter::stageTile(OpBuilder &b) {
  stageColumns(b, tileBegin, tileEnd, /*narrow=*/false);
  // Narrow variables whose rows are contiguous (row stride = dim): lanes of
  // columns at once, deinterleaved by shuffles; otherwise column by column.
  Value contiguous;
  for (unsigned k = 0; k < arrays.inputs.size(); ++k) {
    if (stagedFirst[k] < 0 || !isNarrow(k))
      continue;
    Value packed = arith::CmpIOp::create(b, loc(), arith::CmpIPredicate::eq,
                                         arrays.inputStrides[k],
                                         index(b, dimOf(k)));
    contiguous = contiguous
                     ? Value(arith::AndIOp::create(b, loc(), contiguous, packed))
                     : packed;
  }
  if (!contiguous)
    return;
  // Whole lanes of columns by vectors when contiguous, the rest one by one
  // (no branch: the vector loop is empty otherwise).
  Value full = wholeLanesEnd(b, tileBegin, tileEnd);
  Value vectorEnd =
      arith::SelectOp::create(b, loc(), contiguous, full, tileBegin);
  scf::ForOp::create(b, loc(), tileBegin, vectorEnd, index(b, lanes),
                     ValueRange(),
                     [&](OpBuilder &b, Location, Value col, ValueRange) {
                       stageContiguousLanes(b, col);
                       scf::YieldOp::create(b, loc());
                     });
  stageColumns(b, vectorEnd, tileEnd, /*narrow=*/true);
}

void KernelEmitter::loadColumns(OpBuilder &b, Value j, Value mask) {
  Block &body = reduce.getBody().front();
  for (unsigned k = 0; k < arrays.inputs.size(); ++k) {
    if (reduce.getCategory(k) != Category::j)
      continue;
    Components &components = values[body.getArgument(k)];
    components.clear();
    for (int64_t d = 0, e = dimOf(k); d < e; ++d)
      components.push_back(loadColumnComponent(b, k, index(b, d), j, mask));
  }
}

Value KernelEmitter::loadComponent(OpBuilder &b, Value row, unsigned k,
                                   Value d, Value j, Value mask) {
  if (reduce.getCategory(k) == Category::j)
    return loadColumnComponent(b, k, d, j, mask);
  if (centered && centered->isCenteredRow(k))
    return centered->rowComponent(b, loc(), k, row, d);
  Value offset = arrays.inputOffset(
      b, loc(), k, reduce.getCategory(k) == Category::i ? row : Value(), d);
  Value scalar = memref::LoadOp::create(b, loc(), arrays.inputs[k], offset);
  return vector::BroadcastOp::create(b, loc(), laneType, scalar);
}

std::pair<Components, Components>
KernelEmitter::emitFormula(LaneEmitter &e, Value row, Value j, Value mask,
                           const llvm::DenseMap<Value, Components> *computed) {
  auto load = [&](OpBuilder &b, unsigned k, Value d) {
    return loadComponent(b, row, k, d, j, mask);
  };
  FeatureLoops loops{featureLoopMinDim, load, computed,
                     /*contractionLoops=*/true};
  return emitPairFormula(e, reduce, values, accType, &loops, chunk());
}

State KernelEmitter::accumulateLanes(OpBuilder &b, const State &state, Value j,
                                     Value mask) {
  LaneEmitter e(b, loc(), laneType);
  loadColumns(b, j, mask);
  auto indexLanes = VectorType::get({lanes}, b.getI64Type());
  Value jLanes = vector::BroadcastOp::create(
      b, loc(), indexLanes,
      arith::IndexCastOp::create(b, loc(), b.getI64Type(), j));
  llvm::SmallVector<int64_t> iota(lanes);
  for (int64_t l = 0; l < lanes; ++l)
    iota[l] = l;
  jLanes = arith::AddIOp::create(
      b, loc(), jLanes,
      arith::ConstantOp::create(b, loc(),
                                DenseIntElementsAttr::get(indexLanes, iota)));
  // The columns are loaded once for all the rows of the block, and the
  // feature loops of the rows run together, sharing their column loads.
  llvm::SmallVector<State> rows = splitRowStates(state, rowValues.size());
  llvm::SmallVector<llvm::DenseMap<Value, Components>> computed;
  if (featureLoopMinDim > 0 && (rowValues.size() > 1 || sqdistExpansion)) {
    llvm::SmallVector<llvm::DenseMap<Value, Components>> leaves;
    for (auto &own : rowValues) {
      leaves.push_back(values);
      for (auto &[argument, components] : own)
        leaves.back()[argument] = components;
    }
    auto rowNorm = [&](OpBuilder &b, int64_t r, unsigned k) {
      return centered->rowNorm(b, loc(), k, blockRows[r]);
    };
    auto columnNorm = [&](OpBuilder &b, unsigned k) {
      return centered->columnNorm(b, loc(), k, tileBegin, j);
    };
    SqDistNorms norms{centered ? centered->getSqDists()
                               : llvm::ArrayRef<ExpandableSqDist>(),
                      rowNorm, columnNorm};
    computed = emitBlockFeatureLoops(
        e, reduce, featureLoopMinDim, leaves,
        [&](OpBuilder &b, int64_t r, unsigned k, Value d) {
          return loadComponent(b, blockRows[r], k, d, j, mask);
        },
        centered ? &norms : nullptr);
  }
  State next;
  for (unsigned r = 0; r < rowValues.size(); ++r) {
    for (auto &[argument, components] : rowValues[r])
      values[argument] = components;
    auto [f, g] = emitFormula(e, blockRows[r], j, mask,
                              computed.empty() ? nullptr : &computed[r]);
    const State &old = rows[r];
    if (kBest) {
      next.append(kBest->offerLanes(b, loc(), listSlot(b, blockRows[r]), old,
                                    f, j, mask, blockInside[r]));
      continue;
    }
    State row = acc.accumulate(e, old, f, g, jLanes);
    if (mask)
      for (auto [n, o] : llvm::zip_equal(row, old))
        n = arith::SelectOp::create(b, loc(), mask, n, o);
    next.append(row);
  }
  return next;
}

State KernelEmitter::forLaneSteps(
    OpBuilder &b, Value begin, Value end, const State &state,
    llvm::function_ref<State(OpBuilder &, Value, Value, const State &)> step) {
  Value fullEnd = wholeLanesEnd(b, begin, end);
  auto full = scf::ForOp::create(
      b, loc(), begin, fullEnd, index(b, lanes), state,
      [&](OpBuilder &b, Location, Value j, ValueRange iterArgs) {
        scf::YieldOp::create(b, loc(), step(b, j, Value(), State(iterArgs)));
      });
  Value hasTail = arith::CmpIOp::create(b, loc(), arith::CmpIPredicate::ult,
                                        fullEnd, end);
  auto tail = scf::IfOp::create(
      b, loc(), hasTail,
      [&](OpBuilder &b, Location) {
        Value remaining = arith::SubIOp::create(b, loc(), end, fullEnd);
        Value mask = vector::CreateMaskOp::create(
            b, loc(), VectorType::get({lanes}, b.getI1Type()), remaining);
        scf::YieldOp::create(b, loc(),
                             step(b, fullEnd, mask, State(full.getResults())));
      },
      [&](OpBuilder &b, Location) {
        scf::YieldOp::create(b, loc(), full.getResults());
      });
  return State(tail.getResults());
}

void KernelEmitter::loadBlockRows(OpBuilder &b, llvm::ArrayRef<Value> rows,
                                  llvm::ArrayRef<Value> inside) {
  Block &body = reduce.getBody().front();
  rowValues.clear();
  rowValues.resize(rows.size());
  blockRows.assign(rows.begin(), rows.end());
  blockInside.assign(inside.begin(), inside.end());
  for (auto [r, row] : llvm::enumerate(rows)) {
    loadBroadcastRows(b, Category::i, row);
    for (unsigned k = 0; k < arrays.inputs.size(); ++k)
      if (reduce.getCategory(k) == Category::i)
        rowValues[r][body.getArgument(k)] = values[body.getArgument(k)];
  }
}

void KernelEmitter::emitRows(OpBuilder &b, llvm::ArrayRef<Value> rows,
                             llvm::ArrayRef<Value> inside) {
  loadBlockRows(b, rows, inside);
  if (products)
    return emitProductRows(b);
  LaneEmitter e(b, loc(), laneType);
  State state = emitTileBody(
      e, schedule.getForTiles(), acc, rowValues.size(), loadScratch(b),
      [&] { return initBlock(e); },
      [&](const State &states) {
        return forLaneSteps(b, tileBegin, tileEnd, states,
                            [&](OpBuilder &b, Value j, Value mask,
                                const State &state) {
                              return accumulateLanes(b, state, j, mask);
                            });
      });
  storeScratch(b, state);
}

void KernelEmitter::finalizeProductRow(OpBuilder &b, Value row) {
  Value raw = isMode(b, KEOPS_RT_MODE_RAW);
  Value resume = isMode(b, KEOPS_RT_MODE_RESUME);
  products->store(b, loc(), listSlot(b, row), row,
                  arith::OrIOp::create(b, loc(), raw, resume), resume, states,
                  split);
}

void KernelEmitter::emitProductRows(OpBuilder &b) {
  Value factor = getColumnProduct(reduce, featureLoopMinDim).factor;
  // A block's rows past the end (repeats of its first row) add to a slot
  // past the rows', which nothing reads.
  llvm::SmallVector<Value> slots;
  Value spare = listSlot(b, entryRowEnd);
  for (auto [row, valid] : llvm::zip_equal(blockRows, blockInside))
    slots.push_back(valid ? Value(arith::SelectOp::create(
                                b, loc(), valid, listSlot(b, row), spare))
                          : listSlot(b, row));
  // The factors of lanes of columns [j, j + lanes), stored (masked).
  forLaneSteps(
      b, tileBegin, tileEnd, State(),
      [&](OpBuilder &b, Value j, Value mask, const State &) {
        LaneEmitter e(b, loc(), laneType);
        loadColumns(b, j, mask);
        Value t = arith::SubIOp::create(b, loc(), j, tileBegin);
        for (auto [r, row] : llvm::enumerate(blockRows)) {
          for (auto &[argument, components] : rowValues[r])
            values[argument] = components;
          auto load = [&, row = row](OpBuilder &b, unsigned k, Value d) {
            return loadComponent(b, row, k, d, j, mask);
          };
          FeatureLoops loops{featureLoopMinDim, load, nullptr,
                             /*contractionLoops=*/true};
          Value f =
              emitPairValue(e, reduce, factor, values, elementType, &loops)[0];
          storeLanes(b, loc(), f, factors, products->factorAt(b, loc(), r, t),
                     mask);
        }
        return State();
      });
  products->accumulateTile(b, loc(), slots, tileBegin, tileEnd);
}

void KernelEmitter::forEachRow(OpBuilder &b, Value rowEnd,
                               llvm::function_ref<void(OpBuilder &)> body) {
  scf::ForOp::create(b, loc(), rowBegin, rowEnd, index(b, 1), ValueRange(),
                     [&](OpBuilder &b, Location, Value row, ValueRange) {
                       rowValues.clear();
                       rowValues.resize(1);
                       blockRows.assign(1, row);
                       blockInside.assign(1, Value());
                       body(b);
                       scf::YieldOp::create(b, loc());
                     });
}

std::pair<Value, Value> KernelEmitter::scratchSlot(OpBuilder &b, Value row,
                                                  Type type, int64_t &floats,
                                                  int64_t &ints) {
  StateLayout layout = acc.getStateLayout();
  bool isFloat = llvm::isa<FloatType>(getElementTypeOrSelf(type));
  int64_t stride = (isFloat ? layout.floats : layout.ints) * lanes;
  Value slot = arith::SubIOp::create(b, loc(), row, rowBegin);
  Value at = arith::AddIOp::create(
      b, loc(), arith::MulIOp::create(b, loc(), slot, index(b, stride)),
      index(b, (isFloat ? floats++ : ints++) * lanes));
  return {isFloat ? scratchFloats : scratchInts, at};
}

State KernelEmitter::loadScratch(OpBuilder &b) {
  State state;
  for (Value row : blockRows) {
    if (kBest) {
      state.append(kBest->thresholds(b, loc(), listSlot(b, row), laneType));
      continue;
    }
    int64_t floats = 0, ints = 0;
    for (Type type : acc.stateTypes(lanes)) {
      auto [buffer, at] = scratchSlot(b, row, type, floats, ints);
      state.push_back(vector::LoadOp::create(
          b, loc(), llvm::cast<VectorType>(type), buffer, at));
    }
  }
  return state;
}

void KernelEmitter::storeScratch(OpBuilder &b, const State &state) {
  if (kBest) // the lists are updated in place
    return;
  llvm::SmallVector<State> states = splitRowStates(state, blockRows.size());
  for (auto [row, rowState] : llvm::zip_equal(blockRows, states)) {
    int64_t floats = 0, ints = 0;
    for (Value v : rowState) {
      auto [buffer, at] = scratchSlot(b, row, v.getType(), floats, ints);
      vector::StoreOp::create(b, loc(), v, buffer, at);
    }
  }
}

void KernelEmitter::finalizeRow(OpBuilder &b, State state, Value row) {
  LaneEmitter e(b, loc(), laneType);
  // Merge the lanes pairwise: L -> L/2 -> ... -> 1.
  for (int64_t width = lanes; width > 1; width /= 2) {
    auto half = [&](const State &s, int64_t offset) {
      State part;
      for (Value v : s)
        part.push_back(vector::ExtractStridedSliceOp::create(
            b, loc(), v, llvm::ArrayRef<int64_t>{offset},
            llvm::ArrayRef<int64_t>{width / 2}, llvm::ArrayRef<int64_t>{1}));
      return part;
    };
    state = acc.merge(e, half(state, 0), half(state, width / 2));
  }

  // Raw mode keeps the state for a merge across column splits; resume mode
  // first merges the state already in the slot (a later column range).
  Value raw = isMode(b, KEOPS_RT_MODE_RAW);
  Value resume = isMode(b, KEOPS_RT_MODE_RESUME);
  scf::IfOp::create(
      b, loc(), arith::OrIOp::create(b, loc(), raw, resume),
      [&](OpBuilder &b, Location) {
        LaneEmitter e(b, loc(), laneType);
        auto merged = scf::IfOp::create(
            b, loc(), resume,
            [&](OpBuilder &b, Location) {
              LaneEmitter e(b, loc(), laneType);
              State previous = states.load(e, acc, split, row);
              scf::YieldOp::create(b, loc(), acc.merge(e, previous, state));
            },
            [&](OpBuilder &b, Location) {
              scf::YieldOp::create(b, loc(), state);
            });
        states.store(e, State(merged.getResults()), split, row);
        scf::YieldOp::create(b, loc());
      },
      [&](OpBuilder &b, Location) {
        LaneEmitter e(b, loc(), laneType);
        storeResults(e, reduce, acc, state, row, arrays, chunk());
        scf::YieldOp::create(b, loc());
      });
}

void KernelEmitter::finalizeKBestRow(OpBuilder &b, Value row) {
  Value slot = listSlot(b, row);
  Value raw = isMode(b, KEOPS_RT_MODE_RAW);
  Value resume = isMode(b, KEOPS_RT_MODE_RESUME);
  scf::IfOp::create(b, loc(), resume, [&](OpBuilder &b, Location) {
    kBest->offerRaw(b, loc(), slot, states, split, row);
    scf::YieldOp::create(b, loc());
  });
  kBest->finish(b, loc(), slot, arith::OrIOp::create(b, loc(), raw, resume),
                states, split, arrays, row, chunk());
}

void KernelEmitter::emitMerge(OpBuilder &b, Value rowBegin, Value rowEnd) {
  scf::ForOp::create(
      b, loc(), rowBegin, rowEnd, index(b, 1), ValueRange(),
      [&](OpBuilder &b, Location, Value row, ValueRange) {
        if (products) {
          products->storeMerged(b, loc(), row, states, splits);
          scf::YieldOp::create(b, loc());
          return;
        }
        forEachChunk(b, [&](OpBuilder &b) {
          // One row at a time, in the first slot of the scratch.
          if (kBest)
            return kBest->storeMerged(b, loc(), index(b, 0), states, splits,
                                      arrays, row, chunk());
          LaneEmitter e(b, loc(), laneType);
          storeResults(e, reduce, acc,
                       states.mergeSplits(e, acc, splits, row), row, arrays,
                       chunk());
        });
        scf::YieldOp::create(b, loc());
      });
}

void KernelEmitter::emit(OpBuilder &b, Block &entry) {
  rowBegin = entry.getArgument(KEOPS_RT_ARG_ROW_BEGIN);
  Value rowEnd = entry.getArgument(KEOPS_RT_ARG_ROW_END);
  entryRowEnd = rowEnd;
  colBegin = entry.getArgument(KEOPS_RT_ARG_COL_BEGIN);
  colEnd = entry.getArgument(KEOPS_RT_ARG_COL_END);
  mode = entry.getArgument(KEOPS_RT_ARG_MODE);
  split = entry.getArgument(KEOPS_RT_ARG_SPLIT);
  splits = entry.getArgument(KEOPS_RT_ARG_SPLITS);
  unsigned numInputs = reduce.getInputs().size();
  unsigned numResults = reduce.getNumResults();
  arrays = KernelArrays::fromArguments(entry, numInputs, numResults);
  unsigned buffers = KernelArrays::firstBufferArgument(reduce);
  states = {entry.getArgument(buffers + KEOPS_RT_BUFFER_STATE_FLOATS),
            entry.getArgument(buffers + KEOPS_RT_BUFFER_STATE_INTS),
            entry.getArgument(KEOPS_RT_ARG_SLAB), Value(),
            position.chunks.count()};
  scratchFloats = entry.getArgument(buffers + KEOPS_RT_BUFFER_SCRATCH_FLOATS);
  scratchInts = entry.getArgument(buffers + KEOPS_RT_BUFFER_SCRATCH_INTS);

  // The staging buffer of a tile (the last argument): tileJ columns of
  // every reduced variable, component-major.
  int64_t stagedComponents = 0;
  for (unsigned k = 0; k < numInputs; ++k) {
    bool reduced = reduce.getCategory(k) == Category::j;
    stagedFirst.push_back(reduced ? stagedComponents : -1);
    stagedComponents += reduced ? dimOf(k) : 0;
  }
  if (stagedComponents)
    staged = entry.getArgument(buffers + KEOPS_RT_BUFFER_TILE);
  if (sqdistExpansion) {
    centered.emplace(reduce, featureLoopMinDim, lanes, tileJ, arrays);
    centered->allocateColumns(b, loc());
  }
  if (selectionInMemory)
    kBest.emplace(reduce, accType, lanes, scratchFloats, scratchInts,
                  position.chunks.size);
  // The factors of a block go where the weight's tile would be staged, or
  // on the stack when the factors read the weight (then staged).
  if (columnProduct >= 0) {
    weightStaged =
        !reduce.getBody().front().getArgument(columnProduct).hasOneUse();
    factors = weightStaged
                  ? Value(memref::AllocaOp::create(
                        b, loc(),
                        MemRefType::get({rowsPerBlock * tileJ + lanes},
                                        elementType)))
                  : staged;
    products.emplace(columnProduct, dimOf(columnProduct), lanes, accType,
                     blockSum, arrays, scratchFloats, factors,
                     weightStaged ? 0 : stagedFirst[columnProduct] * tileJ,
                     tileJ);
  }

  Value merge = isMode(b, KEOPS_RT_MODE_MERGE);
  auto modes = scf::IfOp::create(
      b, loc(), merge,
      [&](OpBuilder &b, Location) {
        emitMerge(b, rowBegin, rowEnd);
        scf::YieldOp::create(b, loc());
      },
      [&](OpBuilder &b, Location) { scf::YieldOp::create(b, loc()); });
  OpBuilder::InsertionGuard afterModes(b);
  b.setInsertionPointToStart(&modes.getElseRegion().front());

  loadBroadcastRows(b, Category::param, Value());
  if (centered)
    centered->prepareRows(b, loc(), rowBegin, rowEnd);
  // The rows' lane states start from state_init in the scratch, every tile
  // reduces them there (i-blocks of `rowsPerBlock` rows: one copy of the
  // loop body serves every row count), and a last pass stores them
  // (state_store). No branch depends on the tile, so LLVM has no loop to
  // unswitch.
  forEachChunk(b, [&](OpBuilder &b) {
    forEachRow(b, rowEnd, [&](OpBuilder &b) {
      LaneEmitter e(b, loc(), laneType);
      initScratch(e);
    });
    scf::ForOp::create(
        b, loc(), colBegin, colEnd, index(b, tileJ), ValueRange(),
        [&](OpBuilder &b, Location, Value t, ValueRange) {
          tileBegin = t;
          tileEnd = arith::MinUIOp::create(
              b, loc(), arith::AddIOp::create(b, loc(), t, index(b, tileJ)),
              colEnd);
          if (staged)
            stageTile(b);
          if (centered)
            centerTile(b);
          scf::ForOp::create(
              b, loc(), rowBegin, rowEnd, index(b, rowsPerBlock), ValueRange(),
              [&](OpBuilder &b, Location, Value row, ValueRange) {
                llvm::SmallVector<Value> rows{row}, insides{Value()};
                for (int64_t r = 1; r < rowsPerBlock; ++r) {
                  Value next =
                      arith::AddIOp::create(b, loc(), row, index(b, r));
                  Value inside = arith::CmpIOp::create(
                      b, loc(), arith::CmpIPredicate::ult, next, rowEnd);
                  rows.push_back(
                      arith::SelectOp::create(b, loc(), inside, next, row));
                  insides.push_back(inside);
                }
                emitRows(b, rows, insides);
                scf::YieldOp::create(b, loc());
              });
          scf::YieldOp::create(b, loc());
        });
    forEachRow(b, rowEnd, [&](OpBuilder &b) {
      if (kBest)
        return finalizeKBestRow(b, blockRows.front());
      if (products)
        return finalizeProductRow(b, blockRows.front());
      finalizeRow(b, loadScratch(b), blockRows.front());
    });
  });
  if (centered)
    centered->release(b, loc());
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

namespace {

struct ConvertKeOpsToCPUPass final
    : keops::impl::ConvertKeOpsToCPUPassBase<ConvertKeOpsToCPUPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.getOps<ReduceOp>().empty())
      return;
    FailureOr<ScheduleOp> schedule =
        getKernelSchedule(func, "convert-keops-to-cpu");
    if (failed(schedule))
      return signalPassFailure();
    Block &body = func.getBody().front();
    ReductionTiling tiling = getTiling(*schedule);
    FloatType elementType = getFormulaElementType(schedule->getReduce());
    int64_t laneCount = getCpuLanes(lanes, elementType);
    if (laneCount < 1 || !llvm::isPowerOf2_64(laneCount)) {
      func.emitOpError("lanes must be a power of 2");
      return signalPassFailure();
    }
    if (!tiling.staged) {
      schedule->emitOpError("convert-keops-to-cpu stages every j-tile (run "
                            "keops-tile-reductions with stage-always)");
      return signalPassFailure();
    }
    std::unique_ptr<Accumulator> acc =
        createAccumulator(schedule->getReduce(), tiling);
    KernelEmitter emitter(*schedule, tiling, *acc, laneCount);
    llvm::SmallVector<Type> argumentTypes = emitter.argumentTypes();
    Block *entry = new Block();
    func.getBody().push_back(entry);
    for (Type type : argumentTypes)
      entry->addArgument(type, func.getLoc());
    OpBuilder b = OpBuilder::atBlockBegin(entry);
    emitter.emit(b, *entry);
    func::ReturnOp::create(b, func.getLoc());

    body.dropAllDefinedValueUses();
    body.erase();
    func.setFunctionType(FunctionType::get(&getContext(), argumentTypes, {}));
    func.removeArgAttrsAttr();
    func.removeResAttrsAttr();
    func->setAttr("keops.kernel", UnitAttr::get(&getContext()));
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(&getContext()));
  }
};

} // namespace
