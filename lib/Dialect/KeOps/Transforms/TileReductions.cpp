//===- TileReductions.cpp - keops-tile-reductions ---------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops-tile-reductions, the target-neutral tiler: it
// picks the tiles of a kernel's reduction from the target's resources and
// writes them, with the reduction's monoid, as a keops.schedule.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/Transforms/KernelFunctions.h"
#include "keops/Dialect/KeOps/Transforms/Tiling.h"

#include "mlir/IR/Builders.h"

namespace mlir::keops {
#define GEN_PASS_DEF_KEOPSTILEREDUCTIONSPASS
#include "keops/Dialect/KeOps/Transforms/Passes.h.inc"
} // namespace mlir::keops

using namespace mlir;
using namespace mlir::keops;

namespace {

/// The category of the variables of the output rows, and that of the
/// reduced ones (the tiling of a reduction over i is that of the reduction
/// over j it is rewritten into).
Category rowCategory(ReduceOp reduce) {
  return reduce.getAxis() == Axis::j ? Category::i : Category::j;
}
Category columnCategory(ReduceOp reduce) {
  return reduce.getAxis() == Axis::j ? Category::j : Category::i;
}

/// The bytes of the reduced variables of one column.
int64_t columnBytes(ReduceOp reduce) {
  int64_t bytes = 0;
  for (auto [k, input] : llvm::enumerate(reduce.getInputs()))
    if (reduce.getCategory(k) == columnCategory(reduce))
      bytes += getInputDim(reduce, k) *
               getElementTypeOrSelf(input.getType()).getIntOrFloatBitWidth() /
               8;
  return bytes;
}

/// The registers a row of an i-block takes: the components of its
/// variables that no feature loop reloads, the partial sums of the feature
/// loops the rows run together, and its states (twice with the block sum:
/// the tile's and the total).
int64_t rowRegisters(ReduceOp reduce, const ReductionTiling &tiling,
                     int64_t minDim, int64_t registerBits) {
  int64_t elementBits = getFormulaElementType(reduce).getWidth();
  int64_t bits = registerBits ? registerBits : elementBits;
  auto registers = [&](Type type) {
    return llvm::divideCeil(getElementTypeOrSelf(type).getIntOrFloatBitWidth(),
                            bits);
  };
  int64_t perRow = 0;
  for (unsigned k = 0, e = reduce.getInputs().size(); k < e; ++k) {
    int64_t dim = getInputDim(reduce, k);
    if (reduce.getCategory(k) == rowCategory(reduce) &&
        (minDim <= 0 || dim < minDim))
      perRow += dim * registers(getFormulaElementType(reduce));
  }
  perRow += kFeatureLoopSums *
            static_cast<int64_t>(getBlockFeatureLoopRoots(reduce, minDim).size()) *
            registers(getFormulaElementType(reduce));
  StateLayout state =
      getStateLayout(reduce, tiling.scheme, tiling.chunks.size);
  // A selection in memory holds only its thresholds, one per component.
  if (tiling.selectionInMemory)
    state = {state.floats / static_cast<int64_t>(*reduce.getK()), 0};
  int64_t stateRegisters =
      state.floats * registers(tiling.accType) +
      state.ints * registers(IntegerType::get(reduce.getContext(), 64));
  return perRow + (tiling.isBlockSum(reduce) ? 2 : 1) * stateRegisters;
}

/// Whether feature loops read a reduced variable (one of at least
/// featureLoopMinDim components).
bool hasWideReducedVariable(ReduceOp reduce, const ReductionTiling &tiling) {
  if (tiling.featureLoopMinDim <= 0)
    return false;
  for (unsigned k = 0, e = reduce.getInputs().size(); k < e; ++k)
    if (reduce.getCategory(k) != Category::param &&
        reduce.getCategory(k) != rowCategory(reduce) &&
        getInputDim(reduce, k) >= tiling.featureLoopMinDim)
      return true;
  return false;
}

/// The bytes of the state of a row (for a chunk of `chunkDim` components,
/// when not 0): with a selection in memory, its K best lists.
int64_t stateBytes(ReduceOp reduce, const ReductionTiling &tiling,
                   int64_t chunkDim) {
  StateLayout state = getStateLayout(reduce, tiling.scheme, chunkDim);
  FloatType accType = tiling.accType;
  return state.floats * (accType.getWidth() / 8) + state.ints * 8;
}

/// The components of an output chunk: getOutputChunkSize, fewer while the
/// lists of a selection in memory would take more than `listBytes` (0: no
/// limit).
int64_t chunkSize(ReduceOp reduce, const ReductionTiling &tiling,
                  int64_t listBytes) {
  int64_t size = getOutputChunkSize(reduce, tiling.selectionInMemory);
  if (!tiling.selectionInMemory || !listBytes)
    return size;
  return std::clamp<int64_t>(listBytes / stateBytes(reduce, tiling, 1), 1,
                             size);
}

} // namespace

FailureOr<ReductionTiling>
keops::chooseTiling(ReduceOp reduce,
                    const KeOpsTileReductionsPassOptions &options,
                    std::string &error) {
  std::optional<SumScheme> scheme = symbolizeSumScheme(options.sumScheme);
  if (!scheme) {
    error = "unknown sum-scheme '" + options.sumScheme + "'";
    return failure();
  }
  if (options.tileRows < 0 || options.loopTileRows < 0 ||
      options.tileCols < 1 || options.colGranule < 1 ||
      options.registerBudget < 0 || options.registerBits < 0 ||
      options.stageBytes < 0 || options.loopStageBytes < 0 ||
      options.conflictStrideBytes < 0 ||
      options.featureLoopMinDim < 0 || options.selectionInMemory < 0 ||
      options.listBytes < 0) {
    error = "tile-cols and col-granule must be positive, the other sizes "
            "non-negative";
    return failure();
  }
  ReductionTiling tiling;
  tiling.scheme = *scheme;
  tiling.featureLoopMinDim = options.featureLoopMinDim;
  MLIRContext *context = reduce.getContext();
  tiling.accType = getFormulaElementType(reduce);
  if (tiling.accType.isF16())
    tiling.accType = Float32Type::get(context);
  if (options.doubleAccumulator && tiling.accType.isF32())
    tiling.accType = Float64Type::get(context);
  ColumnProduct product =
      options.columnProducts && tiling.scheme != SumScheme::KahanScheme
          ? getColumnProduct(reduce, options.featureLoopMinDim)
          : ColumnProduct();
  tiling.selectionInMemory = options.selectionInMemory > 0 &&
                             isKMinType(reduce.getKind()) &&
                             static_cast<int64_t>(*reduce.getK()) >=
                                 options.selectionInMemory;
  if (product) {
    tiling.columnProduct = product.input;
  } else {
    int64_t size = chunkSize(reduce, tiling, options.listBytes);
    tiling.chunks = planOutputChunks(reduce, options.featureLoopMinDim, size,
                                     tiling.selectionInMemory);
    // Lists in memory beyond list-bytes go in chunks, however narrow.
    if (!tiling.chunks && tiling.selectionInMemory && options.listBytes &&
        stateBytes(reduce, tiling, 0) > options.listBytes)
      tiling.chunks = getOutputChunks(reduce, size);
  }
  // (A column product computes its factors without the block's loops.)
  tiling.sqdistExpansion =
      options.sqdistExpansion && tiling.columnProduct < 0 &&
      !getExpandableSqDists(reduce, options.featureLoopMinDim).empty();

  // Columns: as many as asked while the staged tile fits stage-bytes
  // (loop-stage-bytes when feature loops read it).
  int64_t bytes = columnBytes(reduce);
  tiling.cols = options.tileCols;
  int64_t stageBytes = options.stageBytes;
  // (Output chunks read 16 components of each column a pass.)
  if (options.loopStageBytes && !tiling.chunks &&
      hasWideReducedVariable(reduce, tiling))
    stageBytes = stageBytes ? std::min(stageBytes, options.loopStageBytes)
                            : options.loopStageBytes;
  if (bytes && stageBytes) {
    int64_t granule = options.colGranule;
    int64_t fit = stageBytes / bytes / granule * granule;
    tiling.cols = std::min(tiling.cols, std::max(granule, fit));
    tiling.staged = options.stageAlways || tiling.cols * bytes <= stageBytes;
  }
  // The staged tile is component-major: rows of `cols` elements. Rows whose
  // length is a multiple of a large power of 2 map to a few cache sets
  // only, and a wide variable's rows then evict each other (D=48: 9x
  // slower at 1024 float32 columns than at 1008).
  int64_t elementBytes = getFormulaElementType(reduce).getWidth() / 8;
  while (bytes && options.conflictStrideBytes &&
         tiling.cols * elementBytes % options.conflictStrideBytes == 0 &&
         tiling.cols > options.colGranule)
    tiling.cols -= options.colGranule;

  // Rows: as many as asked while they fit the register budget.
  tiling.rows = options.tileRows ? options.tileRows : 4;
  bool loops =
      !getBlockFeatureLoopRoots(reduce, options.featureLoopMinDim).empty();
  if (options.loopTileRows && (loops || tiling.columnProduct >= 0))
    tiling.rows = options.loopTileRows;
  // A column product keeps its sums in memory between the products.
  if (tiling.columnProduct >= 0)
    return tiling;
  if (options.registerBudget) {
    int64_t perRow = rowRegisters(reduce, tiling, options.featureLoopMinDim,
                                  options.registerBits);
    while (tiling.rows > 1 && tiling.rows * perRow > options.registerBudget)
      tiling.rows /= 2;
  }
  if (tiling.selectionInMemory && options.listBytes) {
    int64_t perRow = stateBytes(reduce, tiling, tiling.chunks.size);
    while (tiling.rows > 1 && tiling.rows * perRow > options.listBytes)
      tiling.rows /= 2;
  }
  return tiling;
}

ScheduleOp keops::buildSchedule(OpBuilder &b, ReduceOp reduce,
                                const ReductionTiling &tiling) {
  OpBuilder::InsertionGuard guard(b);
  Location loc = reduce.getLoc();
  b.setInsertionPointAfter(reduce);
  auto schedule = ScheduleOp::create(
      b, loc, reduce.getResult(0), tiling.rows, tiling.cols, tiling.staged,
      tiling.accType, stringifySumScheme(tiling.scheme),
      tiling.featureLoopMinDim, tiling.selectionInMemory,
      tiling.sqdistExpansion,
      tiling.columnProduct >= 0
          ? b.getI64IntegerAttr(tiling.columnProduct)
          : IntegerAttr());
  b.setInsertionPointToStart(&schedule.getBody().emplaceBlock());
  if (tiling.chunks) {
    auto chunks = OutputChunksOp::create(b, loc, tiling.chunks.size);
    b.setInsertionPointToStart(&chunks.getBody().emplaceBlock());
  }

  // The block sum restarts each tile from the neutral state and merges it
  // into the total; otherwise the tiles accumulate into the total.
  bool blockSum = tiling.isBlockSum(reduce);
  Value init = StateInitOp::create(b, loc);
  auto tiles = ForTilesOp::create(b, loc, init);
  {
    OpBuilder::InsertionGuard inTiles(b);
    Block &body = tiles.getBody().emplaceBlock();
    Value total = body.addArgument(init.getType(), loc);
    b.setInsertionPointToStart(&body);
    Value next;
    if (blockSum) {
      Value tile =
          AccumulateTileOp::create(b, loc, StateInitOp::create(b, loc));
      next = StateMergeOp::create(b, loc, total, tile);
    } else {
      next = AccumulateTileOp::create(b, loc, total);
    }
    TileYieldOp::create(b, loc, next);
  }
  StateStoreOp::create(b, loc, tiles.getState());
  return schedule;
}


FailureOr<ScheduleOp> keops::getKernelSchedule(func::FuncOp func,
                                               llvm::StringRef passName) {
  Block &body = func.getBody().front();
  auto fail = [&] {
    return func.emitOpError()
           << passName
           << " expects a function whose body is one keops.reduce over j of "
              "its arguments, in order, and its keops.schedule (run "
              "keops-tile-reductions first)";
  };
  if (!llvm::hasSingleElement(func.getBody()) ||
      body.getOperations().size() != 3)
    return fail();
  auto reduce = llvm::dyn_cast<ReduceOp>(body.front());
  auto schedule = llvm::dyn_cast<ScheduleOp>(*std::next(body.begin()));
  if (!reduce || !schedule || schedule.getReduce() != reduce ||
      !llvm::equal(reduce.getInputs(), func.getArguments()))
    return fail();
  if (OutputChunksOp chunks = schedule.getOutputChunks())
    if (!getTiling(schedule).chunks)
      return chunks.emitOpError("the reduction's output cannot be reduced in "
                                "chunks of ")
             << chunks.getSize() << " components";
  return schedule;
}

namespace {

struct KeOpsTileReductionsPass final
    : keops::impl::KeOpsTileReductionsPassBase<KeOpsTileReductionsPass> {
  using Base::Base;

  KeOpsTileReductionsPassOptions options() const {
    KeOpsTileReductionsPassOptions options;
    options.tileRows = tileRows;
    options.loopTileRows = loopTileRows;
    options.registerBudget = registerBudget;
    options.registerBits = registerBits;
    options.tileCols = tileCols;
    options.colGranule = colGranule;
    options.stageBytes = stageBytes;
    options.loopStageBytes = loopStageBytes;
    options.stageAlways = stageAlways;
    options.conflictStrideBytes = conflictStrideBytes;
    options.sumScheme = sumScheme;
    options.doubleAccumulator = doubleAccumulator;
    options.featureLoopMinDim = featureLoopMinDim;
    options.selectionInMemory = selectionInMemory;
    options.listBytes = listBytes;
    options.columnProducts = columnProducts;
    options.sqdistExpansion = sqdistExpansion;
    return options;
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.getOps<ReduceOp>().empty() || !func.getOps<ScheduleOp>().empty())
      return;
    FailureOr<ReduceOp> reduce =
        getKernelReduce(func, "keops-tile-reductions");
    if (failed(reduce))
      return signalPassFailure();
    std::string error;
    FailureOr<ReductionTiling> tiling =
        chooseTiling(*reduce, options(), error);
    if (failed(tiling)) {
      func.emitOpError("keops-tile-reductions: ") << error;
      return signalPassFailure();
    }
    OpBuilder b(func.getContext());
    buildSchedule(b, *reduce, *tiling);
  }
};

} // namespace
