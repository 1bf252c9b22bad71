//===- KeOpsToGPU.cpp - Lower keops.reduce to GPU kernels -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements convert-keops-to-gpu:
//
//   func @f(tensors) { keops.reduce over j }
//     --> gpu.module @keops_kernels { gpu.func @f(ranges, memrefs)
//           workgroup(tile) kernel {
//           row = row_begin + block_id * B + thread_id
//           for j-tiles of B columns {
//             tile[d * B + t] = y[(j0 + t) * D + d]; barrier
//             for each column of the tile: accumulate(F(x_row, tile[.., c]))
//             barrier }
//           if row < row_end: store finalize(state) } }
//
// Formula components are vector<1xT> values, so the ops' emitLanes and the
// Accumulator of the kind are the same code as on the CPU.
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/Passes.h"

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Dialect/KeOps/Transforms/KernelFormula.h"
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

/// The launch geometry of one kernel.
struct GpuTiling {
  int64_t blockSize;
  /// Whether the j-tile goes through workgroup memory.
  bool staged;
};

/// Emits the body of the GPU kernel of one keops.reduce (over j).
class GpuKernelEmitter {
public:
  GpuKernelEmitter(ReduceOp reduce, Accumulator &acc, GpuTiling tiling,
                   bool blockSum, FloatType accType, int64_t featureLoopMinDim,
                   OutputChunks chunks)
      : reduce(reduce), acc(acc), tiling(tiling), blockSum(blockSum),
        featureLoopMinDim(featureLoopMinDim), accType(accType),
        elementType(getFormulaElementType(reduce)),
        laneType(VectorType::get({1}, elementType)),
        position{chunks, Value()} {
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
  /// Components of every variable of `category` at `row` (row-major).
  void loadRows(OpBuilder &b, Category category, Value row);
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
  /// Accumulates the columns [begin, end) (tile slots from 0) into `state`.
  State scanTile(OpBuilder &b, Value begin, Value end, const State &state);
  /// Accumulates the columns [begin, end) in j-tiles (staged, between
  /// barriers) into `state`.
  State scanColumns(OpBuilder &b, Value begin, Value end, const State &state,
                    Value thread,
                    const llvm::DenseMap<Value, Components> &rowValues);

  ReduceOp reduce;
  Accumulator &acc;
  GpuTiling tiling;
  bool blockSum;
  int64_t featureLoopMinDim;
  FloatType accType, elementType;
  VectorType laneType;
  /// (input, first component in the tile) of each reduced variable.
  llvm::SmallVector<std::pair<unsigned, int64_t>> tileFirst;
  Value tile, loadRow;
  KernelArrays arrays;
  llvm::DenseMap<Value, Components> values;
  /// The chunk of the output being computed.
  ChunkPosition position;
  const ChunkPosition *chunk() const {
    return position.chunks ? &position : nullptr;
  }
};

} // namespace

llvm::SmallVector<Type> GpuKernelEmitter::argumentTypes() {
  MLIRContext *ctx = reduce.getContext();
  llvm::SmallVector<Type> types(8, IndexType::get(ctx));
  types.append(KernelArrays::argumentTypes(reduce));
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

void GpuKernelEmitter::loadRows(OpBuilder &b, Category category, Value row) {
  loadRowVariables(b, loc(), reduce, category, arrays, row, laneType, values);
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
    loadRows(b, Category::j, col);
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

State GpuKernelEmitter::scanTile(OpBuilder &b, Value begin, Value end,
                                 const State &state) {
  auto loop = scf::ForOp::create(
      b, loc(), begin, end, index(b, 1), state,
      [&](OpBuilder &b, Location, Value col, ValueRange iterArgs) {
        LaneEmitter e(b, loc(), laneType);
        Value slot = arith::SubIOp::create(b, loc(), col, begin);
        loadColumn(b, col, slot);
        Value j = vector::BroadcastOp::create(
            b, loc(), VectorType::get({1}, b.getI64Type()),
            arith::IndexCastOp::create(b, loc(), b.getI64Type(), col));
        auto load = [&](OpBuilder &b, unsigned k, Value d) -> Value {
          Category category = reduce.getCategory(k);
          Value scalar =
              category == Category::j && tile
                  ? Value(memref::LoadOp::create(b, loc(), tile,
                                                 tileOffset(b, k, d, slot)))
                  : rowComponent(b, k,
                                 category == Category::i   ? loadRow
                                 : category == Category::j ? col
                                                           : Value(),
                                 d);
          return vector::BroadcastOp::create(b, loc(), laneType, scalar);
        };
        FeatureLoops loops{featureLoopMinDim, load};
        // The row variables keep their components across columns.
        auto [f, g] =
            emitPairFormula(e, reduce, values, accType, &loops, chunk());
        scf::YieldOp::create(b, loc(),
                             acc.accumulate(e, State(iterArgs), f, g, j));
      });
  return State(loop.getResults());
}

State GpuKernelEmitter::scanColumns(
    OpBuilder &b, Value begin, Value end, const State &state, Value thread,
    const llvm::DenseMap<Value, Components> &rowValues) {
  Value blockSize = index(b, tiling.blockSize);
  auto tiles = scf::ForOp::create(
      b, loc(), begin, end, blockSize, state,
      [&](OpBuilder &b, Location, Value tileBegin, ValueRange running) {
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
        values = rowValues;
        State start = blockSum ? acc.init(e, 1) : State(running);
        State scanned = scanTile(b, tileBegin, tileEnd, start);
        State next = blockSum ? acc.merge(e, State(running), scanned)
                              : scanned;
        if (tile)
          gpu::BarrierOp::create(b, loc());
        scf::YieldOp::create(b, loc(), next);
      });
  return State(tiles.getResults());
}

void GpuKernelEmitter::emit(OpBuilder &b, gpu::GPUFuncOp kernel) {
  Block &entry = kernel.getBody().front();
  Value rowBegin = entry.getArgument(0), rowEnd = entry.getArgument(1);
  Value colBegin = entry.getArgument(2);
  Value colEnd = entry.getArgument(3);
  Value mode = entry.getArgument(4), splits = entry.getArgument(5);
  Value splitColumns = entry.getArgument(6);
  unsigned numInputs = reduce.getInputs().size();
  unsigned numResults = reduce.getNumResults();
  arrays = KernelArrays::fromArguments(entry, 8, numInputs, numResults);
  unsigned buffers = 8 + 2 * (numInputs + numResults);
  RawStates states{entry.getArgument(buffers), entry.getArgument(buffers + 1),
                   entry.getArgument(7), Value(), position.chunks.count()};
  if (!kernel.getWorkgroupAttributions().empty())
    tile = kernel.getWorkgroupAttributions().front();

  Value blockTable = entry.getArgument(buffers + 2);
  Value colRanges = entry.getArgument(buffers + 3);
  Value blockSize = index(b, tiling.blockSize);
  Value thread = gpu::ThreadIdOp::create(b, loc(), gpu::Dimension::x);
  Value block = gpu::BlockIdOp::create(b, loc(), gpu::Dimension::x);
  auto isMode = [&](int64_t value) {
    return arith::CmpIOp::create(b, loc(), arith::CmpIPredicate::eq, mode,
                                 index(b, value));
  };
  Value ranges = isMode(KEOPS_RT_MODE_RANGES);
  // The block's rows and column ranges: from the block table when
  // block-sparse, else rows [row_begin + block * B, ...) over one range.
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
        arith::MulIOp::create(b, loc(), block, blockSize));
    scf::YieldOp::create(b, loc(), ValueRange{firstRow, rowEnd, index(b, 0),
                                              index(b, 1)});
  }
  Value blockFirstRow = bounds.getResult(0);
  Value row = arith::AddIOp::create(b, loc(), blockFirstRow, thread);
  // Rows past the end read the block's first row and store nothing: every
  // thread of the block must reach the barriers.
  Value active = arith::CmpIOp::create(b, loc(), arith::CmpIPredicate::ult,
                                       row, bounds.getResult(1));
  Value merge = isMode(KEOPS_RT_MODE_MERGE), raw = isMode(KEOPS_RT_MODE_RAW);

  // Merge mode: each thread merges its row's states of every split.
  auto modes = scf::IfOp::create(
      b, loc(), merge,
      [&](OpBuilder &b, Location) {
        scf::IfOp::create(b, loc(), active, [&](OpBuilder &b, Location) {
          forEachChunk(b, loc(), position, states, [&](OpBuilder &b) {
            LaneEmitter e(b, loc(), laneType);
            storeResults(e, reduce, acc,
                         states.mergeSplits(e, acc, splits, row), row, arrays,
                         chunk());
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

  loadRow = arith::SelectOp::create(b, loc(), active, row, blockFirstRow);
  loadRows(b, Category::param, Value());
  loadRows(b, Category::i, loadRow);
  // The j-loop reloads the reduced variables, the rest stays.
  llvm::DenseMap<Value, Components> rowValues = values;

  // Every thread runs the same chunks: the barriers stay uniform.
  forEachChunk(b, loc(), position, states, [&](OpBuilder &b) {
    LaneEmitter e(b, loc(), laneType);
    auto columnRanges = scf::ForOp::create(
        b, loc(), bounds.getResult(2), bounds.getResult(3), index(b, 1),
        acc.init(e, 1),
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
              scanColumns(b, span.getResult(0), span.getResult(1),
                          State(running), thread, rowValues));
        });
    scf::IfOp::create(b, loc(), active, [&](OpBuilder &b, Location) {
      State result(columnRanges.getResults());
      scf::IfOp::create(
          b, loc(), raw,
          [&](OpBuilder &b, Location) {
            LaneEmitter e(b, loc(), laneType);
            states.store(e, result, split, row);
            scf::YieldOp::create(b, loc());
          },
          [&](OpBuilder &b, Location) {
            LaneEmitter e(b, loc(), laneType);
            storeResults(e, reduce, acc, result, row, arrays, chunk());
            scf::YieldOp::create(b, loc());
          });
      scf::YieldOp::create(b, loc());
    });
  });
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

namespace {

struct ConvertKeOpsToGPUPass final
    : keops::impl::ConvertKeOpsToGPUPassBase<ConvertKeOpsToGPUPass> {
  using Base::Base;

  /// The block size for `reduce`: shrunk by warps until its j-tile fits in
  /// the workgroup memory budget, else unstaged.
  GpuTiling tilingFor(ReduceOp reduce) const {
    int64_t bytesPerColumn =
        reducedDims(reduce) * getFormulaElementType(reduce).getWidth() / 8;
    int64_t size = blockSize;
    while (size > 32 && size * bytesPerColumn > maxWorkgroupBytes)
      size -= 32;
    return {size, size * bytesPerColumn <= maxWorkgroupBytes};
  }

  LogicalResult convert(func::FuncOp func, SumScheme scheme,
                        gpu::GPUModuleOp gpuModule) {
    FailureOr<ReduceOp> reduce = getKernelReduce(func, "convert-keops-to-gpu");
    if (failed(reduce))
      return failure();
    // float16 formulas accumulate in float32.
    FloatType accType = getFormulaElementType(*reduce);
    if (accType.isF16())
      accType = Float32Type::get(&getContext());
    if (doubleAccumulator && accType.isF32())
      accType = Float64Type::get(&getContext());
    OutputChunks chunks =
        planOutputChunks(*reduce, featureLoopMinDim, kOutputChunkSize);
    std::unique_ptr<Accumulator> acc =
        Accumulator::create(*reduce, accType, scheme, chunks.size);
    GpuTiling tiling = tilingFor(*reduce);
    GpuKernelEmitter emitter(*reduce, *acc, tiling,
                             scheme == SumScheme::BlockSum && acc->isSumType(),
                             accType, featureLoopMinDim, chunks);

    OpBuilder b = OpBuilder::atBlockEnd(gpuModule.getBody());
    auto kernel = gpu::GPUFuncOp::create(
        b, func.getLoc(), func.getSymName(),
        FunctionType::get(&getContext(), emitter.argumentTypes(), {}),
        emitter.workgroupTypes());
    kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
    kernel.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr(
        {static_cast<int32_t>(tiling.blockSize), 1, 1}));
    kernel->setAttr("keops.kernel", b.getUnitAttr());
    OpBuilder body = OpBuilder::atBlockBegin(&kernel.getBody().front());
    emitter.emit(body, kernel);
    gpu::ReturnOp::create(body, func.getLoc());
    func.erase();
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<SumScheme> scheme = parseSumScheme(sumScheme);
    if (!scheme) {
      module.emitOpError("unknown sum-scheme '") << sumScheme << "'";
      return signalPassFailure();
    }
    if (blockSize < 32 || blockSize % 32 || blockSize > 1024) {
      module.emitOpError("block-size must be a multiple of 32 in [32, 1024]");
      return signalPassFailure();
    }
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
      if (failed(convert(func, *scheme, gpuModule)))
        return signalPassFailure();
  }
};

} // namespace
