//===- KeOpsToCPU.cpp - Lower keops.reduce to CPU kernels -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements convert-keops-to-cpu:
//
//   func(tensors) { keops.reduce over i|j }
//     --reduce over j--> func(tensors) { keops.reduce over j }
//     --tile--> func(row/column ranges, mode, splits, memrefs) {
//                 if mode == merge: scf.for rows { merge the raw states of
//                   the splits; finalize; store }
//                 else: scf.for rows { scf.for j-tiles { scf.for lanes {
//                   formula on vector<L x T> components; accumulate } } ;
//                   merge lanes; finalize and store (or store raw) } }
//
// The reduction kind only enters through its Accumulator.
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/Passes.h"

#include "keops/Dialect/KeOps/Transforms/Accumulator.h"
#include "keops/Dialect/KeOps/Transforms/KernelFormula.h"
#include "keops/Runtime/KeOpsRuntime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
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
  KernelEmitter(ReduceOp reduce, Accumulator &acc, int64_t lanes,
                int64_t tileJ, int64_t rowsPerBlock, bool blockSum,
                FloatType accType, int64_t featureLoopMinDim,
                OutputChunks chunks)
      : reduce(reduce), acc(acc), lanes(lanes), tileJ(tileJ),
        rowsPerBlock(rowsPerBlock), featureLoopMinDim(featureLoopMinDim),
        blockSum(blockSum), accType(accType),
        elementType(getFormulaElementType(reduce)),
        laneType(VectorType::get({lanes}, elementType)),
        position{chunks, Value()} {}

  /// The kernel's argument types: 9 indices, then one flat memref per input
  /// and per result, then the raw state buffers (floats, indices).
  llvm::SmallVector<Type> argumentTypes();
  void emit(OpBuilder &b, Block &entry);

private:
  int64_t dimOf(unsigned input) { return getInputDim(reduce, input); }
  Value index(OpBuilder &b, int64_t value) {
    return arith::ConstantIndexOp::create(b, loc(), value);
  }
  Location loc() { return reduce.getLoc(); }

  /// Loads component d of every variable of `category` at `row` (scalar
  /// loads, broadcast to lanes).
  void loadBroadcastRows(OpBuilder &b, Category category, Value row);
  /// Loads the lanes of columns [j, j + lanes) of the reduced variables,
  /// masked when `mask` is given.
  void loadColumns(OpBuilder &b, Value j, Value mask);
  /// Component `d` of reduced variable `k` at columns [j, j + lanes).
  Value loadColumnComponent(OpBuilder &b, unsigned k, Value d, Value j,
                            Value mask);
  /// Evaluates the formula (and weight) on the current variable components
  /// of `row` and columns [j, j + lanes).
  std::pair<Components, Components> emitFormula(LaneEmitter &e, Value row,
                                                Value j, Value mask);
  /// Accumulates columns [j, j + lanes) into `state`.
  State accumulateLanes(OpBuilder &b, const State &state, Value j, Value mask);
  /// Accumulates the columns [begin, end) into `state`: full lanes, then a
  /// masked tail.
  State scanColumns(OpBuilder &b, Value begin, Value end, const State &state);
  /// Computes a block of rows: the columns are loaded once per lane step
  /// for all of them; rows whose `inside` flag is false (null: true) are
  /// computed but not stored.
  void emitRows(OpBuilder &b, llvm::ArrayRef<Value> rows,
                llvm::ArrayRef<Value> inside);
  /// The reduction of a block of rows whose variables are loaded: init,
  /// scan the columns, finalize (of the current chunk).
  void reduceBlock(OpBuilder &b, llvm::ArrayRef<Value> rows,
                   llvm::ArrayRef<Value> inside);
  /// Merges the lanes of a row's state and stores its results (or, in raw
  /// mode, the state).
  void finalizeRow(OpBuilder &b, State state, Value row);
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

  /// Slices row `r` of the states of a block of rows.
  State rowState(const State &block, unsigned r) {
    unsigned size = block.size() / rowValues.size();
    return State(block.begin() + r * size, block.begin() + (r + 1) * size);
  }
  /// The initial state of every row of the block.
  State initBlock(LaneEmitter &e) {
    State block;
    for (size_t r = 0; r < rowValues.size(); ++r)
      block.append(acc.init(e, lanes));
    return block;
  }

  ReduceOp reduce;
  Accumulator &acc;
  int64_t lanes, tileJ, rowsPerBlock, featureLoopMinDim;
  bool blockSum;
  FloatType accType, elementType;
  VectorType laneType;
  Value colBegin, colEnd, ld, mode, split, splits;
  RawStates states;
  llvm::SmallVector<Value> inputs, outputs;
  /// The components of each region argument for the current pair lanes.
  llvm::DenseMap<Value, Components> values;
  /// The components of the row variables, for each row of the current block.
  llvm::SmallVector<llvm::DenseMap<Value, Components>> rowValues;
  llvm::SmallVector<Value> blockRows;
  ChunkPosition position;
};

} // namespace

llvm::SmallVector<Type> KernelEmitter::argumentTypes() {
  MLIRContext *ctx = reduce.getContext();
  llvm::SmallVector<Type> types(9, IndexType::get(ctx));
  for (Value input : reduce.getInputs())
    types.push_back(MemRefType::get(
        {ShapedType::kDynamic},
        llvm::cast<RankedTensorType>(input.getType()).getElementType()));
  for (Type result : reduce.getResultTypes())
    types.push_back(MemRefType::get(
        {ShapedType::kDynamic},
        llvm::cast<RankedTensorType>(result).getElementType()));
  types.push_back(MemRefType::get({ShapedType::kDynamic}, accType));
  types.push_back(MemRefType::get({ShapedType::kDynamic},
                                  IntegerType::get(ctx, 64)));
  return types;
}

void KernelEmitter::loadBroadcastRows(OpBuilder &b, Category category,
                                      Value row) {
  loadRowVariables(b, loc(), reduce, category, inputs, row, laneType, values);
}

Value KernelEmitter::loadColumnComponent(OpBuilder &b, unsigned k, Value d,
                                         Value j, Value mask) {
  Value offset = arith::AddIOp::create(
      b, loc(), arith::MulIOp::create(b, loc(), d, ld), j);
  if (!mask)
    return vector::LoadOp::create(b, loc(), laneType, inputs[k], offset);
  Value zeros = arith::ConstantOp::create(
      b, loc(),
      DenseElementsAttr::get(laneType, b.getFloatAttr(elementType, 0)));
  return vector::MaskedLoadOp::create(b, loc(), laneType, inputs[k], offset,
                                      mask, zeros);
}

void KernelEmitter::loadColumns(OpBuilder &b, Value j, Value mask) {
  Block &body = reduce.getBody().front();
  for (unsigned k = 0; k < inputs.size(); ++k) {
    if (reduce.getCategory(k) != Category::j)
      continue;
    Components &components = values[body.getArgument(k)];
    components.clear();
    for (int64_t d = 0, e = dimOf(k); d < e; ++d)
      components.push_back(loadColumnComponent(b, k, index(b, d), j, mask));
  }
}

std::pair<Components, Components>
KernelEmitter::emitFormula(LaneEmitter &e, Value row, Value j, Value mask) {
  auto load = [&](OpBuilder &b, unsigned k, Value d) -> Value {
    if (reduce.getCategory(k) == Category::j)
      return loadColumnComponent(b, k, d, j, mask);
    Value offset = d;
    if (reduce.getCategory(k) == Category::i)
      offset = arith::AddIOp::create(
          b, loc(), arith::MulIOp::create(b, loc(), row, index(b, dimOf(k))),
          d);
    Value scalar = memref::LoadOp::create(b, loc(), inputs[k], offset);
    return vector::BroadcastOp::create(b, loc(), laneType, scalar);
  };
  FeatureLoops loops{featureLoopMinDim, load};
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
  // The columns are loaded once for all the rows of the block.
  State next;
  for (unsigned r = 0; r < rowValues.size(); ++r) {
    for (auto &[argument, components] : rowValues[r])
      values[argument] = components;
    auto [f, g] = emitFormula(e, blockRows[r], j, mask);
    State old = rowState(state, r);
    State row = acc.accumulate(e, old, f, g, jLanes);
    if (mask)
      for (auto [n, o] : llvm::zip_equal(row, old))
        n = arith::SelectOp::create(b, loc(), mask, n, o);
    next.append(row);
  }
  return next;
}

State KernelEmitter::scanColumns(OpBuilder &b, Value begin, Value end,
                                 const State &state) {
  Value step = index(b, lanes);
  Value count = arith::SubIOp::create(b, loc(), end, begin);
  Value fullEnd = arith::AddIOp::create(
      b, loc(), begin,
      arith::MulIOp::create(
          b, loc(), arith::DivUIOp::create(b, loc(), count, step), step));
  auto full = scf::ForOp::create(
      b, loc(), begin, fullEnd, step, state,
      [&](OpBuilder &b, Location, Value j, ValueRange iterArgs) {
        State next = accumulateLanes(b, State(iterArgs), j, Value());
        scf::YieldOp::create(b, loc(), next);
      });
  Value hasTail = arith::CmpIOp::create(b, loc(), arith::CmpIPredicate::ult,
                                        fullEnd, end);
  auto tail = scf::IfOp::create(
      b, loc(), hasTail,
      [&](OpBuilder &b, Location) {
        Value remaining = arith::SubIOp::create(b, loc(), end, fullEnd);
        Value mask = vector::CreateMaskOp::create(
            b, loc(), VectorType::get({lanes}, b.getI1Type()), remaining);
        State next =
            accumulateLanes(b, State(full.getResults()), fullEnd, mask);
        scf::YieldOp::create(b, loc(), next);
      },
      [&](OpBuilder &b, Location) {
        scf::YieldOp::create(b, loc(), full.getResults());
      });
  return State(tail.getResults());
}

void KernelEmitter::emitRows(OpBuilder &b, llvm::ArrayRef<Value> rows,
                             llvm::ArrayRef<Value> inside) {
  LaneEmitter e(b, loc(), laneType);
  Block &body = reduce.getBody().front();
  rowValues.clear();
  rowValues.resize(rows.size());
  blockRows.assign(rows.begin(), rows.end());
  for (auto [r, row] : llvm::enumerate(rows)) {
    loadBroadcastRows(b, Category::i, row);
    for (unsigned k = 0; k < inputs.size(); ++k)
      if (reduce.getCategory(k) == Category::i)
        rowValues[r][body.getArgument(k)] = values[body.getArgument(k)];
  }
  forEachChunk(b, [&](OpBuilder &b) { reduceBlock(b, rows, inside); });
}

void KernelEmitter::reduceBlock(OpBuilder &b, llvm::ArrayRef<Value> rows,
                                llvm::ArrayRef<Value> inside) {
  LaneEmitter e(b, loc(), laneType);
  State state = initBlock(e);
  if (blockSum && acc.isSumType()) {
    // Block sum: each j-tile sums from zero, then merges into the total.
    auto tiles = scf::ForOp::create(
        b, loc(), colBegin, colEnd, index(b, tileJ), state,
        [&](OpBuilder &b, Location, Value t, ValueRange running) {
          LaneEmitter e(b, loc(), laneType);
          Value tileEnd = arith::MinUIOp::create(
              b, loc(), arith::AddIOp::create(b, loc(), t, index(b, tileJ)),
              colEnd);
          State tile = scanColumns(b, t, tileEnd, initBlock(e));
          State merged;
          for (unsigned r = 0; r < rowValues.size(); ++r)
            merged.append(acc.merge(e, rowState(State(running), r),
                                    rowState(tile, r)));
          scf::YieldOp::create(b, loc(), merged);
        });
    state = State(tiles.getResults());
  } else {
    state = scanColumns(b, colBegin, colEnd, state);
  }

  for (auto [r, row] : llvm::enumerate(rows)) {
    if (!inside[r]) {
      finalizeRow(b, rowState(state, r), row);
      continue;
    }
    scf::IfOp::create(b, loc(), inside[r], [&, r = r, row = row](OpBuilder &b,
                                                                  Location) {
      finalizeRow(b, rowState(state, r), row);
      scf::YieldOp::create(b, loc());
    });
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
  Value raw = arith::CmpIOp::create(b, loc(), arith::CmpIPredicate::eq, mode,
                                    index(b, KEOPS_RT_MODE_RAW));
  Value resume = arith::CmpIOp::create(b, loc(), arith::CmpIPredicate::eq,
                                       mode, index(b, KEOPS_RT_MODE_RESUME));
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
        storeResults(e, reduce, acc, state, row, outputs, chunk());
        scf::YieldOp::create(b, loc());
      });
}

void KernelEmitter::emitMerge(OpBuilder &b, Value rowBegin, Value rowEnd) {
  scf::ForOp::create(
      b, loc(), rowBegin, rowEnd, index(b, 1), ValueRange(),
      [&](OpBuilder &b, Location, Value row, ValueRange) {
        forEachChunk(b, [&](OpBuilder &b) {
          LaneEmitter e(b, loc(), laneType);
          storeResults(e, reduce, acc,
                       states.mergeSplits(e, acc, splits, row), row, outputs,
                       chunk());
        });
        scf::YieldOp::create(b, loc());
      });
}

void KernelEmitter::emit(OpBuilder &b, Block &entry) {
  Value rowBegin = entry.getArgument(0), rowEnd = entry.getArgument(1);
  colBegin = entry.getArgument(2);
  colEnd = entry.getArgument(3);
  ld = entry.getArgument(4);
  mode = entry.getArgument(5);
  split = entry.getArgument(6);
  splits = entry.getArgument(7);
  unsigned numInputs = reduce.getInputs().size();
  for (unsigned k = 0; k < numInputs; ++k)
    inputs.push_back(entry.getArgument(9 + k));
  unsigned numResults = reduce.getNumResults();
  for (unsigned k = 0; k < numResults; ++k)
    outputs.push_back(entry.getArgument(9 + numInputs + k));
  states = {entry.getArgument(9 + numInputs + numResults),
            entry.getArgument(10 + numInputs + numResults), entry.getArgument(8),
            Value(), position.chunks.count()};

  Value merge = arith::CmpIOp::create(b, loc(), arith::CmpIPredicate::eq, mode,
                                      index(b, KEOPS_RT_MODE_MERGE));
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
  // Blocks of `rowsPerBlock` rows; past the end, a block's rows repeat its
  // first row and store nothing (one copy of the loop body serves every
  // row count).
  scf::ForOp::create(
      b, loc(), rowBegin, rowEnd, index(b, rowsPerBlock), ValueRange(),
      [&](OpBuilder &b, Location, Value row, ValueRange) {
        llvm::SmallVector<Value> rows{row}, inside{Value()};
        for (int64_t r = 1; r < rowsPerBlock; ++r) {
          Value next = arith::AddIOp::create(b, loc(), row, index(b, r));
          inside.push_back(arith::CmpIOp::create(
              b, loc(), arith::CmpIPredicate::ult, next, rowEnd));
          rows.push_back(
              arith::SelectOp::create(b, loc(), inside.back(), next, row));
        }
        emitRows(b, rows, inside);
        scf::YieldOp::create(b, loc());
      });
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

// Rows share the column loads only while their variables and accumulator
// states stay in vector registers (32 with 64-byte vectors, 16 otherwise);
// beyond that, one row at a time: the block would spill anyway, and register
// allocation of wide blocks is what makes compilation slow (argKmin with
// K=10: 250 ms instead of 360 ms to compile, and no slower).
int64_t mlir::keops::getCpuRowsPerBlock(ReduceOp reduce, Accumulator &acc,
                                        int64_t requested,
                                        int64_t vectorBytes) {
  int64_t registers = vectorBytes >= 64 ? 32 : 16;
  Category rowCategory =
      reduce.getAxis() == Axis::j ? Category::i : Category::j;
  int64_t perRow = static_cast<int64_t>(acc.stateTypes(1).size());
  for (auto [k, input] : llvm::enumerate(reduce.getInputs()))
    if (reduce.getCategory(k) == rowCategory)
      perRow += getInputDim(reduce, k);
  return perRow * requested > registers ? 1 : requested;
}

namespace {

struct ConvertKeOpsToCPUPass final
    : keops::impl::ConvertKeOpsToCPUPassBase<ConvertKeOpsToCPUPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.getOps<ReduceOp>().empty())
      return;
    FailureOr<ReduceOp> kernelReduce =
        getKernelReduce(func, "convert-keops-to-cpu");
    if (failed(kernelReduce))
      return signalPassFailure();
    ReduceOp reduce = *kernelReduce;
    Block &body = func.getBody().front();

    std::optional<SumScheme> scheme = parseSumScheme(sumScheme);
    if (!scheme) {
      func.emitOpError("unknown sum-scheme '") << sumScheme << "'";
      return signalPassFailure();
    }
    FloatType elementType = getFormulaElementType(reduce);
    int64_t laneCount = lanes ? lanes : 512 / elementType.getWidth();
    if (laneCount < 1 || !llvm::isPowerOf2_64(laneCount) || tileJ < 1 ||
        rowsPerBlock < 1) {
      func.emitOpError("lanes must be a power of 2, tile-j and rows-per-block "
                       "positive");
      return signalPassFailure();
    }
    FloatType accType = elementType;
    if (doubleAccumulator && elementType.isF32())
      accType = Float64Type::get(&getContext());

    OutputChunks chunks =
        planOutputChunks(reduce, featureLoopMinDim, kOutputChunkSize);
    std::unique_ptr<Accumulator> acc =
        Accumulator::create(reduce, accType, *scheme, chunks.size);
    KernelEmitter emitter(reduce, *acc, laneCount, tileJ,
                          getCpuRowsPerBlock(reduce, *acc, rowsPerBlock,
                                             laneCount *
                                                 elementType.getWidth() / 8),
                          *scheme == SumScheme::BlockSum, accType,
                          featureLoopMinDim, chunks);
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
