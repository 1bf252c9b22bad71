//===- KeOpsToGPU.cpp - Lower keops.reduce to GPU kernels -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements convert-keops-to-gpu:
//
//   func @f(tensors) { keops.reduce over j; keops.schedule (i-blocks of R
//                      rows, j-tiles of B columns) }
//     --> gpu.module @keops_kernels { gpu.func @f(ranges, memrefs)
//           workgroup(tile) kernel {
//           rows r < R: row_r = row_begin + block_id * B * R + r * B + thread_id
//           states = state_init
//           for j-tiles of B columns {
//             tile[d * B + t] = y[(j0 + t) * D + d]; barrier
//             the for_tiles body, its accumulate_tile: for each column of
//               the tile, for each r:
//               state_r = accumulate(state_r, F(x_row_r, tile[.., c]))
//             barrier }
//           state_store: for each r: if row_r < row_end:
//             store finalize(state_r) } }
//
// A thread block of B threads computes B i-blocks: each thread keeps the R
// rows of its i-block in registers ("register blocking"), so each column
// it reads from the tile serves R pairs.
//
// Formula components are vector<1xT> values, so the ops' emitLanes and the
// Accumulator of the kind are the same code as on the CPU. With the
// schedule's selection_in_memory (large K), the kmin family's K best lists
// are in the thread's local memory (KBestLists, as the CPU's scratch), and
// the states in registers are their thresholds.
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/Passes.h"

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Conversion/KeOpsCommon/KBestLists.h"
#include "keops/Conversion/KeOpsCommon/KernelFormula.h"
#include "keops/Conversion/KeOpsCommon/TileBody.h"
#include "keops/Dialect/KeOps/Transforms/Tiling.h"
#include "keops/Runtime/KeOpsRuntime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::keops {
#define GEN_PASS_DEF_CONVERTKEOPSTOGPUPASS
#include "keops/Conversion/Passes.h.inc"
} // namespace mlir::keops

using namespace mlir;
using namespace mlir::keops;

namespace {

/// The total dimension of the reduced variables of `reduce` (over j).
int64_t reducedDims(ReduceOp reduce) {
  int64_t dims = 0;
  for (unsigned k = 0, e = reduce.getInputs().size(); k < e; ++k)
    if (reduce.getCategory(k) == Category::j)
      dims += getInputDim(reduce, k);
  return dims;
}

/// The launch geometry of one kernel, from its schedule.
struct GpuTiling {
  /// Threads of a block (B): the columns of a j-tile.
  int64_t blockSize;
  /// Rows each thread computes (R, the rows of an i-block): a block covers
  /// B * R rows.
  int64_t rowsPerThread;
  /// Whether the j-tile goes through workgroup memory.
  bool staged;
};

/// The values of a state per row, one after the other, as one list (what
/// the loops carry; splitRowStates is the way back).
State flatten(llvm::ArrayRef<State> rows) {
  State all;
  for (const State &row : rows)
    all.append(row.begin(), row.end());
  return all;
}

/// Emits the body of the GPU kernel of one keops.reduce (over j).
class GpuKernelEmitter {
public:
  GpuKernelEmitter(ScheduleOp schedule, const ReductionTiling &reduction,
                   Accumulator &acc)
      : reduce(schedule.getReduce()), schedule(schedule), acc(acc),
        tiling{reduction.cols, reduction.rows, reduction.staged},
        featureLoopMinDim(reduction.featureLoopMinDim),
        selectionInMemory(reduction.selectionInMemory),
        accType(reduction.accType),
        elementType(getFormulaElementType(reduce)),
        laneType(VectorType::get({1}, elementType)),
        position{reduction.chunks, Value()} {
    int64_t first = 0;
    for (unsigned k = 0, e = reduce.getInputs().size(); k < e; ++k)
      if (reduce.getCategory(k) == Category::j) {
        tileFirst.push_back({k, first});
        first += getInputDim(reduce, k);
      }
  }

  /// Argument types: 8 indices, the row strides and flat memrefs of the
  /// inputs and results (KernelArrays), then the raw state buffers (floats,
  /// indices) and the block-sparse tables (blocks, column ranges).
  llvm::SmallVector<Type> argumentTypes();
  /// The workgroup buffer of the j-tile (none when not staged).
  llvm::SmallVector<Type> workgroupTypes();
  void emit(OpBuilder &b, gpu::GPUFuncOp kernel);

private:
  Location loc() { return reduce.getLoc(); }
  Value index(OpBuilder &b, int64_t value) {
    return arith::ConstantIndexOp::create(b, loc(), value);
  }
  /// Component `d` of input `k` at `row` of its row-major buffer (null
  /// `row`: a parameter).
  Value rowComponent(OpBuilder &b, unsigned k, Value row, Value d);
  /// Where component `d` of reduced variable `k` is in the tile, at `slot`.
  Value tileOffset(OpBuilder &b, unsigned k, Value d, Value slot);
  /// Stores column `col` of the reduced variables into the tile at `slot`.
  void stageColumn(OpBuilder &b, Value col, Value slot);
  /// Components of the reduced variables at column `col` (tile slot
  /// `slot` when staged).
  void loadColumn(OpBuilder &b, Value col, Value slot);
  /// Accumulates the columns [begin, end) (tile slots from 0) into the
  /// states of the thread's rows.
  llvm::SmallVector<State> scanTile(OpBuilder &b, Value begin, Value end,
                                    llvm::ArrayRef<State> states);
  /// Accumulates the columns [begin, end) in j-tiles (staged, between
  /// barriers) into the states of the thread's rows, as the body of
  /// keops.for_tiles says.
  llvm::SmallVector<State> scanColumns(OpBuilder &b, Value begin, Value end,
                                       llvm::ArrayRef<State> states,
                                       Value thread);
  /// The neutral state of each of the thread's rows (with K best lists:
  /// emptied lists, and their thresholds).
  llvm::SmallVector<State> initRows(LaneEmitter &e);
  /// Allocates the K best lists of the thread's rows in its local memory.
  void allocateLists(OpBuilder &b);
  /// Stores the results, or the raw state, of row `r` of the thread from
  /// its `state` (in registers, or its K best lists).
  void storeRow(OpBuilder &b, int64_t r, const State &state, Value raw,
                const RawStates &states, Value split, Value row);
  /// Merge mode: the raw states of every split of `row` (row `r` of the
  /// thread), merged and finalized.
  void mergeRow(OpBuilder &b, Value r, const RawStates &states, Value splits,
                Value row);

  ReduceOp reduce;
  ScheduleOp schedule;
  Accumulator &acc;
  GpuTiling tiling;
  int64_t featureLoopMinDim;
  bool selectionInMemory;
  FloatType accType, elementType;
  VectorType laneType;
  /// (input, first component in the tile) of each reduced variable.
  llvm::SmallVector<std::pair<unsigned, int64_t>> tileFirst;
  Value tile;
  /// Per row of the thread: the row its variables are read from (the
  /// block's first row when past the end), and the components of the
  /// parameters and of its variables.
  llvm::SmallVector<Value> loadRows;
  llvm::SmallVector<llvm::DenseMap<Value, Components>> rowValues;
  KernelArrays arrays;
  /// The components of the reduced variables at the current column.
  llvm::DenseMap<Value, Components> values;
  /// The chunk of the output being computed.
  ChunkPosition position;
  const ChunkPosition *chunk() const {
    return position.chunks ? &position : nullptr;
  }
  /// The K best lists of the thread's rows, slot r for row r, with
  /// selectionInMemory; the loops carry their thresholds.
  std::optional<KBestLists> kBest;
};

} // namespace

llvm::SmallVector<Type> GpuKernelEmitter::argumentTypes() {
  MLIRContext *ctx = reduce.getContext();
  // The scalars and arrays, then the buffers of keops_rt_kernel_buffer_t:
  // raw states (floats, indices) and the block-sparse tables.
  llvm::SmallVector<Type> types = KernelArrays::argumentTypes(reduce);
  auto indices = MemRefType::get({ShapedType::kDynamic},
                                 IntegerType::get(ctx, 64));
  types.push_back(MemRefType::get({ShapedType::kDynamic}, accType));
  types.push_back(indices);
  // Block-sparse tables: (rows, ranges) per block, column ranges.
  types.push_back(indices);
  types.push_back(indices);
  return types;
}

llvm::SmallVector<Type> GpuKernelEmitter::workgroupTypes() {
  int64_t dims = reducedDims(reduce);
  if (!tiling.staged || dims == 0)
    return {};
  auto workgroup = gpu::AddressSpaceAttr::get(
      reduce.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  return {MemRefType::get({tiling.blockSize * dims}, elementType,
                          MemRefLayoutAttrInterface(), workgroup)};
}

Value GpuKernelEmitter::rowComponent(OpBuilder &b, unsigned k, Value row,
                                     Value d) {
  return memref::LoadOp::create(b, loc(), arrays.inputs[k],
                                arrays.inputOffset(b, loc(), k, row, d));
}

Value GpuKernelEmitter::tileOffset(OpBuilder &b, unsigned k, Value d,
                                   Value slot) {
  auto entry = llvm::find_if(tileFirst, [&](auto &e) { return e.first == k; });
  Value component = arith::AddIOp::create(b, loc(), index(b, entry->second), d);
  return arith::AddIOp::create(
      b, loc(),
      arith::MulIOp::create(b, loc(), component, index(b, tiling.blockSize)),
      slot);
}

void GpuKernelEmitter::stageColumn(OpBuilder &b, Value col, Value slot) {
  for (auto [k, first] : tileFirst) {
    auto stage = [&, k = k](OpBuilder &b, Value d) {
      memref::StoreOp::create(b, loc(), rowComponent(b, k, col, d), tile,
                              tileOffset(b, k, d, slot));
    };
    int64_t dim = getInputDim(reduce, k);
    if (featureLoopMinDim <= 0 || dim < featureLoopMinDim) {
      for (int64_t d = 0; d < dim; ++d)
        stage(b, index(b, d));
      continue;
    }
    scf::ForOp::create(b, loc(), index(b, 0), index(b, dim), index(b, 1),
                       ValueRange(),
                       [&](OpBuilder &b, Location, Value d, ValueRange) {
                         stage(b, d);
                         scf::YieldOp::create(b, loc());
                       });
  }
}

void GpuKernelEmitter::loadColumn(OpBuilder &b, Value col, Value slot) {
  if (!tile) {
    loadRowVariables(b, loc(), reduce, Category::j, arrays, col, laneType,
                     values);
    return;
  }
  Block &body = reduce.getBody().front();
  for (auto [k, first] : tileFirst) {
    Components &components = values[body.getArgument(k)];
    components.clear();
    for (int64_t d = 0, e = getInputDim(reduce, k); d < e; ++d) {
      Value scalar = memref::LoadOp::create(b, loc(), tile,
                                            tileOffset(b, k, index(b, d), slot));
      components.push_back(
          vector::BroadcastOp::create(b, loc(), laneType, scalar));
    }
  }
}

llvm::SmallVector<State>
GpuKernelEmitter::scanTile(OpBuilder &b, Value begin, Value end,
                           llvm::ArrayRef<State> states) {
  auto loop = scf::ForOp::create(
      b, loc(), begin, end, index(b, 1), flatten(states),
      [&](OpBuilder &b, Location, Value col, ValueRange iterArgs) {
        LaneEmitter e(b, loc(), laneType);
        Value slot = arith::SubIOp::create(b, loc(), col, begin);
        loadColumn(b, col, slot);
        Value j = vector::BroadcastOp::create(
            b, loc(), VectorType::get({1}, b.getI64Type()),
            arith::IndexCastOp::create(b, loc(), b.getI64Type(), col));
        llvm::SmallVector<State> running =
            splitRowStates(iterArgs, tiling.rowsPerThread);
        Block &body = reduce.getBody().front();
        State next;
        for (int64_t r = 0; r < tiling.rowsPerThread; ++r) {
          auto load = [&](OpBuilder &b, unsigned k, Value d) -> Value {
            Category category = reduce.getCategory(k);
            Value scalar =
                category == Category::j && tile
                    ? Value(memref::LoadOp::create(b, loc(), tile,
                                                   tileOffset(b, k, d, slot)))
                    : rowComponent(b, k,
                                   category == Category::i   ? loadRows[r]
                                   : category == Category::j ? col
                                                             : Value(),
                                   d);
            return vector::BroadcastOp::create(b, loc(), laneType, scalar);
          };
          FeatureLoops loops{featureLoopMinDim, load};
          // The row's variables keep their components across columns; the
          // column's are shared by the rows (CSE merges what only they
          // feed).
          llvm::DenseMap<Value, Components> pair = rowValues[r];
          for (auto [k, first] : tileFirst)
            pair[body.getArgument(k)] = values[body.getArgument(k)];
          auto [f, g] =
              emitPairFormula(e, reduce, pair, accType, &loops, chunk());
          State accumulated =
              kBest ? kBest->offerLanes(b, loc(), index(b, r), running[r], f,
                                        col, Value(), Value())
                    : acc.accumulate(e, running[r], f, g, j);
          next.append(accumulated.begin(), accumulated.end());
        }
        scf::YieldOp::create(b, loc(), next);
      });
  return splitRowStates(loop.getResults(), tiling.rowsPerThread);
}

llvm::SmallVector<State>
GpuKernelEmitter::scanColumns(OpBuilder &b, Value begin, Value end,
                              llvm::ArrayRef<State> states, Value thread) {
  Value blockSize = index(b, tiling.blockSize);
  auto tiles = scf::ForOp::create(
      b, loc(), begin, end, blockSize, flatten(states),
      [&](OpBuilder &b, Location, Value tileBegin, ValueRange iterArgs) {
        LaneEmitter e(b, loc(), laneType);
        Value tileEnd = arith::MinUIOp::create(
            b, loc(), arith::AddIOp::create(b, loc(), tileBegin, blockSize),
            end);
        if (tile) {
          Value col = arith::AddIOp::create(b, loc(), tileBegin, thread);
          Value inside = arith::CmpIOp::create(
              b, loc(), arith::CmpIPredicate::ult, col, tileEnd);
          scf::IfOp::create(b, loc(), inside, [&](OpBuilder &b, Location) {
            stageColumn(b, col, thread);
            scf::YieldOp::create(b, loc());
          });
          gpu::BarrierOp::create(b, loc());
        }
        State scanned = emitTileBody(
            e, schedule.getForTiles(), acc, tiling.rowsPerThread,
            State(iterArgs), [&] { return flatten(initRows(e)); },
            [&](const State &states) {
              return flatten(
                  scanTile(b, tileBegin, tileEnd,
                           splitRowStates(states, tiling.rowsPerThread)));
            });
        if (tile)
          gpu::BarrierOp::create(b, loc());
        scf::YieldOp::create(b, loc(), scanned);
      });
  return splitRowStates(tiles.getResults(), tiling.rowsPerThread);
}

void GpuKernelEmitter::emit(OpBuilder &b, gpu::GPUFuncOp kernel) {
  Block &entry = kernel.getBody().front();
  Value rowBegin = entry.getArgument(KEOPS_RT_ARG_ROW_BEGIN);
  Value rowEnd = entry.getArgument(KEOPS_RT_ARG_ROW_END);
  Value colBegin = entry.getArgument(KEOPS_RT_ARG_COL_BEGIN);
  Value colEnd = entry.getArgument(KEOPS_RT_ARG_COL_END);
  Value mode = entry.getArgument(KEOPS_RT_ARG_MODE);
  Value splits = entry.getArgument(KEOPS_RT_ARG_SPLITS);
  Value splitColumns = entry.getArgument(KEOPS_RT_ARG_SPLIT_COLUMNS);
  unsigned numInputs = reduce.getInputs().size();
  unsigned numResults = reduce.getNumResults();
  arrays = KernelArrays::fromArguments(entry, numInputs, numResults);
  unsigned buffers = KernelArrays::firstBufferArgument(reduce);
  RawStates states{entry.getArgument(buffers + KEOPS_RT_BUFFER_STATE_FLOATS),
                   entry.getArgument(buffers + KEOPS_RT_BUFFER_STATE_INTS),
                   entry.getArgument(KEOPS_RT_ARG_SLAB), Value(),
                   position.chunks.count()};
  if (!kernel.getWorkgroupAttributions().empty())
    tile = kernel.getWorkgroupAttributions().front();
  if (selectionInMemory)
    allocateLists(b);

  Value blockTable = entry.getArgument(buffers + KEOPS_RT_BUFFER_BLOCKS);
  Value colRanges = entry.getArgument(buffers + KEOPS_RT_BUFFER_COL_RANGES);
  int64_t rowsPerThread = tiling.rowsPerThread;
  Value blockSize = index(b, tiling.blockSize);
  Value thread = gpu::ThreadIdOp::create(b, loc(), gpu::Dimension::x);
  Value block = gpu::BlockIdOp::create(b, loc(), gpu::Dimension::x);
  auto isMode = [&](int64_t value) {
    return arith::CmpIOp::create(b, loc(), arith::CmpIPredicate::eq, mode,
                                 index(b, value));
  };
  Value ranges = isMode(KEOPS_RT_MODE_RANGES);
  // The block's rows and column ranges: from the block table when
  // block-sparse, else rows [row_begin + block * B * R, ...) over one range.
  Type indexType = b.getIndexType();
  auto loadIndex = [&](OpBuilder &b, Value table, Value base, int64_t k) {
    Value offset = arith::AddIOp::create(b, loc(), base, index(b, k));
    return arith::IndexCastOp::create(
        b, loc(), indexType, memref::LoadOp::create(b, loc(), table, offset));
  };
  auto bounds = scf::IfOp::create(
      b, loc(), TypeRange{indexType, indexType, indexType, indexType}, ranges,
      /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&bounds.getThenRegion().front());
    Value base = arith::MulIOp::create(b, loc(), block, index(b, 4));
    scf::YieldOp::create(b, loc(),
                         ValueRange{loadIndex(b, blockTable, base, 0),
                                    loadIndex(b, blockTable, base, 1),
                                    loadIndex(b, blockTable, base, 2),
                                    loadIndex(b, blockTable, base, 3)});
    b.setInsertionPointToStart(&bounds.getElseRegion().front());
    Value firstRow = arith::AddIOp::create(
        b, loc(), rowBegin,
        arith::MulIOp::create(
            b, loc(), block, index(b, tiling.blockSize * rowsPerThread)));
    scf::YieldOp::create(b, loc(), ValueRange{firstRow, rowEnd, index(b, 0),
                                              index(b, 1)});
  }
  Value blockFirstRow = bounds.getResult(0), blockRowEnd = bounds.getResult(1);
  // Row r of the thread: the block's first row + r * B + thread, so that
  // the threads of a warp read consecutive rows.
  auto rowOf = [&](OpBuilder &b, Value r) {
    return arith::AddIOp::create(
        b, loc(), blockFirstRow,
        arith::AddIOp::create(b, loc(),
                              arith::MulIOp::create(b, loc(), r, blockSize),
                              thread));
  };
  auto isActive = [&](OpBuilder &b, Value row) {
    return arith::CmpIOp::create(b, loc(), arith::CmpIPredicate::ult, row,
                                 blockRowEnd);
  };
  Value merge = isMode(KEOPS_RT_MODE_MERGE), raw = isMode(KEOPS_RT_MODE_RAW);

  // Merge mode: each thread merges the states of every split of its rows.
  auto modes = scf::IfOp::create(
      b, loc(), merge,
      [&](OpBuilder &b, Location) {
        scf::ForOp::create(
            b, loc(), index(b, 0), index(b, rowsPerThread), index(b, 1),
            ValueRange(), [&](OpBuilder &b, Location, Value r, ValueRange) {
              Value row = rowOf(b, r);
              scf::IfOp::create(
                  b, loc(), isActive(b, row), [&](OpBuilder &b, Location) {
                    forEachChunk(b, loc(), position, states, [&](OpBuilder &b) {
                      mergeRow(b, r, states, splits, row);
                    });
                    scf::YieldOp::create(b, loc());
                  });
              scf::YieldOp::create(b, loc());
            });
        scf::YieldOp::create(b, loc());
      },
      [&](OpBuilder &b, Location) { scf::YieldOp::create(b, loc()); });
  OpBuilder::InsertionGuard afterModes(b);
  b.setInsertionPointToStart(&modes.getElseRegion().front());

  // Raw mode: block (x, y) reduces its rows over split y of the columns.
  Value split = gpu::BlockIdOp::create(b, loc(), gpu::Dimension::y);
  Value splitBegin = arith::MinUIOp::create(
      b, loc(),
      arith::AddIOp::create(
          b, loc(), colBegin,
          arith::MulIOp::create(b, loc(), split, splitColumns)),
      colEnd);
  Value first = arith::SelectOp::create(b, loc(), raw, splitBegin, colBegin);
  colEnd = arith::SelectOp::create(
      b, loc(), raw,
      arith::MinUIOp::create(
          b, loc(), arith::AddIOp::create(b, loc(), splitBegin, splitColumns),
          colEnd),
      colEnd);

  // Rows past the end read the block's first row and store nothing: every
  // thread of the block must reach the barriers.
  llvm::SmallVector<Value> rows, active;
  llvm::DenseMap<Value, Components> parameters;
  loadRowVariables(b, loc(), reduce, Category::param, arrays, Value(),
                   laneType, parameters);
  for (int64_t r = 0; r < rowsPerThread; ++r) {
    rows.push_back(rowOf(b, index(b, r)));
    active.push_back(isActive(b, rows.back()));
    loadRows.push_back(arith::SelectOp::create(b, loc(), active.back(),
                                               rows.back(), blockFirstRow));
    rowValues.push_back(parameters);
    loadRowVariables(b, loc(), reduce, Category::i, arrays, loadRows.back(),
                     laneType, rowValues.back());
  }

  // Every thread runs the same chunks: the barriers stay uniform.
  forEachChunk(b, loc(), position, states, [&](OpBuilder &b) {
    LaneEmitter e(b, loc(), laneType);
    auto columnRanges = scf::ForOp::create(
        b, loc(), bounds.getResult(2), bounds.getResult(3), index(b, 1),
        flatten(initRows(e)),
        [&](OpBuilder &b, Location, Value r, ValueRange running) {
          auto span =
              scf::IfOp::create(b, loc(), TypeRange{indexType, indexType},
                                ranges, /*withElseRegion=*/true);
          {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(&span.getThenRegion().front());
            Value base = arith::MulIOp::create(b, loc(), r, index(b, 2));
            scf::YieldOp::create(b, loc(),
                                 ValueRange{loadIndex(b, colRanges, base, 0),
                                            loadIndex(b, colRanges, base, 1)});
            b.setInsertionPointToStart(&span.getElseRegion().front());
            scf::YieldOp::create(b, loc(), ValueRange{first, colEnd});
          }
          scf::YieldOp::create(
              b, loc(),
              flatten(scanColumns(b, span.getResult(0), span.getResult(1),
                                  splitRowStates(running, rowsPerThread),
                                  thread)));
        });
    llvm::SmallVector<State> results =
        splitRowStates(columnRanges.getResults(), rowsPerThread);
    for (int64_t r = 0; r < rowsPerThread; ++r)
      scf::IfOp::create(b, loc(), active[r], [&](OpBuilder &b, Location) {
        storeRow(b, r, results[r], raw, states, split, rows[r]);
        scf::YieldOp::create(b, loc());
      });
  });
}

llvm::SmallVector<State> GpuKernelEmitter::initRows(LaneEmitter &e) {
  if (!kBest)
    return llvm::SmallVector<State>(tiling.rowsPerThread, acc.init(e, 1));
  OpBuilder &b = e.getBuilder();
  llvm::SmallVector<State> rows;
  for (int64_t r = 0; r < tiling.rowsPerThread; ++r) {
    kBest->init(b, loc(), index(b, r));
    rows.push_back(kBest->thresholds(b, loc(), index(b, r),
                                     VectorType::get({1}, accType)));
  }
  return rows;
}

void GpuKernelEmitter::allocateLists(OpBuilder &b) {
  int64_t size = tiling.rowsPerThread *
                 KBestLists::slotSize(reduce, /*lanes=*/1, position.chunks.size);
  Value floats =
      memref::AllocaOp::create(b, loc(), MemRefType::get({size}, accType));
  Value ints = memref::AllocaOp::create(
      b, loc(), MemRefType::get({size}, b.getI64Type()));
  kBest.emplace(reduce, accType, /*lanes=*/1, floats, ints,
                position.chunks.size);
}

void GpuKernelEmitter::storeRow(OpBuilder &b, int64_t r, const State &state,
                                Value raw, const RawStates &states,
                                Value split, Value row) {
  if (kBest)
    return kBest->finish(b, loc(), index(b, r), raw, states, split, arrays,
                         row, chunk());
  scf::IfOp::create(
      b, loc(), raw,
      [&](OpBuilder &b, Location) {
        LaneEmitter e(b, loc(), laneType);
        states.store(e, state, split, row);
        scf::YieldOp::create(b, loc());
      },
      [&](OpBuilder &b, Location) {
        LaneEmitter e(b, loc(), laneType);
        storeResults(e, reduce, acc, state, row, arrays, chunk());
        scf::YieldOp::create(b, loc());
      });
}

void GpuKernelEmitter::mergeRow(OpBuilder &b, Value r, const RawStates &states,
                                Value splits, Value row) {
  if (kBest)
    return kBest->storeMerged(b, loc(), r, states, splits, arrays, row,
                              chunk());
  LaneEmitter e(b, loc(), laneType);
  storeResults(e, reduce, acc, states.mergeSplits(e, acc, splits, row), row,
               arrays, chunk());
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

namespace {

struct ConvertKeOpsToGPUPass final
    : keops::impl::ConvertKeOpsToGPUPassBase<ConvertKeOpsToGPUPass> {
  using Base::Base;

  LogicalResult convert(func::FuncOp func, gpu::GPUModuleOp gpuModule) {
    FailureOr<ScheduleOp> schedule =
        getKernelSchedule(func, "convert-keops-to-gpu");
    if (failed(schedule))
      return failure();
    ReductionTiling reduction = getTiling(*schedule);
    if (reduction.cols % 32 || reduction.cols > 1024 || reduction.rows > 16)
      return schedule->emitOpError(
          "convert-keops-to-gpu runs tile_cols threads a block (a multiple "
          "of 32 up to 1024), each with tile_rows rows (up to 16)");
    if (reduction.accType.isF16())
      return schedule->emitOpError(
          "convert-keops-to-gpu needs a float32 or float64 acc_type");
    if (reduction.columnProduct >= 0 || reduction.sqdistExpansion)
      return schedule->emitOpError(
          "convert-keops-to-gpu keeps sums in registers and computes squared "
          "distances directly (run keops-tile-reductions without "
          "column-products and sqdist-expansion)");
    std::unique_ptr<Accumulator> acc =
        createAccumulator(schedule->getReduce(), reduction);
    GpuKernelEmitter emitter(*schedule, reduction, *acc);

    OpBuilder b = OpBuilder::atBlockEnd(gpuModule.getBody());
    auto kernel = gpu::GPUFuncOp::create(
        b, func.getLoc(), func.getSymName(),
        FunctionType::get(&getContext(), emitter.argumentTypes(), {}),
        emitter.workgroupTypes());
    kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
    kernel.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr(
        {static_cast<int32_t>(reduction.cols), 1, 1}));
    kernel->setAttr("keops.kernel", b.getUnitAttr());
    kernel->setAttr(kRowsPerThreadAttr,
                    b.getI32IntegerAttr(reduction.rows));
    OpBuilder body = OpBuilder::atBlockBegin(&kernel.getBody().front());
    emitter.emit(body, kernel);
    gpu::ReturnOp::create(body, func.getLoc());
    func.erase();
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::SmallVector<func::FuncOp> functions;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.getOps<ReduceOp>().empty())
        functions.push_back(func);
    if (functions.empty())
      return;
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(b, module.getLoc(), "keops_kernels");
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    b.getUnitAttr());
    for (func::FuncOp func : functions)
      if (failed(convert(func, gpuModule)))
        return signalPassFailure();
  }
};

} // namespace
