//===- KernelFormula.h - What every kernel generator shares -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the pieces that the CPU and GPU conversions share: the
// lanes of a CPU kernel, the evaluation of the formula for the current
// pairs (feature loops, output chunks), the kernel arrays, the stores of
// finalized results and the raw (unfinalized) form of accumulator states.
// What a keops.reduce implies (dimensions, chunks, state layouts) is the
// dialect's (ReduceAnalysis.h).
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_CONVERSION_KEOPSCOMMON_KERNELFORMULA_H
#define KEOPS_CONVERSION_KEOPSCOMMON_KERNELFORMULA_H

#include "keops/Conversion/KeOpsCommon/Accumulator.h"
#include "keops/Dialect/KeOps/IR/ReduceAnalysis.h"
#include "keops/Runtime/KeOpsRuntime.h"

#include "llvm/ADT/DenseMap.h"

namespace mlir::keops {

/// The lanes of a CPU kernel: `lanes`, or 0 for 64 bytes of `elementType`.
int64_t getCpuLanes(int64_t lanes, FloatType elementType);

/// The index constant `value`.
Value indexConstant(OpBuilder &b, Location loc, int64_t value);

/// Asks LLVM not to unroll `loop` (an scf.for): for loops that exist so that
/// the code does not grow with a dimension or K.
void disableUnrolling(Operation *loop);

/// The `laneType` vector of `memref` at `offset`: the lanes that `mask`
/// keeps (null: all), 0 in the others.
Value loadLanes(OpBuilder &b, Location loc, VectorType laneType, Value memref,
                Value offset, Value mask);
/// Stores the lanes of `value` that `mask` keeps (null: all) to `memref` at
/// `offset`.
void storeLanes(OpBuilder &b, Location loc, Value value, Value memref,
                Value offset, Value mask);

/// How the sums over wide feature dimensions are computed: a sum-of-
/// components op (sum, sqnorm2, scalprod, sqdist) of at least `minDim`
/// components over a tree of componentwise ops of the variables becomes a
/// loop over the components, which loads component d of input k with
/// `load(builder, k, d)`; so the code does not grow with the dimension.
struct FeatureLoops {
  int64_t minDim;
  llvm::function_ref<Value(OpBuilder &, unsigned k, Value d)> load;
  /// Feature-loop roots already computed (emitBlockFeatureLoops), by
  /// result; the others get their loop.
  const llvm::DenseMap<Value, Components> *computed = nullptr;
  /// Whether tensordots of many products are computed by loops
  /// (ContractionLoops.h, which keeps buffers on the stack).
  bool contractionLoops = false;
};

/// The squared distances that a block's feature loops expand (see
/// keops.schedule's sqdist_expansion), with the squared norms of their
/// variables: `rowNorm(b, row, k)` for row variable k (broadcast to lanes),
/// `columnNorm(b, k)` for reduced variable k at the current lanes.
struct SqDistNorms {
  llvm::ArrayRef<ExpandableSqDist> sqdists;
  llvm::function_ref<Value(OpBuilder &, int64_t row, unsigned k)> rowNorm;
  llvm::function_ref<Value(OpBuilder &, unsigned k)> columnNorm;
};

/// The feature loops of `reduce` for a block of rows, by one loop over the
/// components per dimension whose iterations compute every row's terms, so
/// that the rows share the loads of the reduced variables (`load(b, row, k,
/// d)` gives component d of variable k for that row; `rowValues[row]` the
/// dimension-1 variables). Per row, the roots' values by result, for
/// FeatureLoops::computed; roots that read values computed by the rest of
/// the formula are left out. The squared distances of `norms` loop over
/// products of components only, and a lane vector where the expansion
/// rounds badly (kSqDistExpansionGuard) runs the direct loop.
llvm::SmallVector<llvm::DenseMap<Value, Components>> emitBlockFeatureLoops(
    LaneEmitter &e, ReduceOp reduce, int64_t minDim,
    llvm::ArrayRef<llvm::DenseMap<Value, Components>> rowValues,
    llvm::function_ref<Value(OpBuilder &, int64_t row, unsigned k, Value d)>
        load,
    const SqDistNorms *norms = nullptr);

/// The sum over d < dim of the squares of `component(b, d)`, by a loop.
Value emitSumOfSquares(LaneEmitter &e, int64_t dim,
                       llvm::function_ref<Value(OpBuilder &, Value d)> component);

/// The chunk of the output that a kernel is computing: its first component.
struct ChunkPosition {
  OutputChunks chunks;
  Value first; // index
  /// Component k of the chunk: min(first + k, dim - 1).
  Value component(OpBuilder &b, Location loc, int64_t k) const;
  Value component(OpBuilder &b, Location loc, Value k) const;
  /// Where slot `slot` of chunk component `c` goes in the output: results
  /// of several slots per component are slot-major (the K best of a kmin:
  /// slot s of component c at s * dim + c).
  Value outputComponent(OpBuilder &b, Location loc, Value slot, Value c) const;
  /// The same for result component k of the chunk, slot-major: component
  /// k % size of slot k / size.
  Value outputComponent(OpBuilder &b, Location loc, int64_t k) const;
};

/// Evaluates the formula of `reduce` (and its weight, when it has one) on
/// the components in `values` (those of the region arguments, filled by the
/// caller; the op results are added), with feature loops when `loops` is
/// given and, for chunked outputs, the reduced value on the components of
/// `chunk` only (loaded with loops->load). The results are converted to
/// `accType`.
std::pair<Components, Components>
emitPairFormula(LaneEmitter &e, ReduceOp reduce,
                llvm::DenseMap<Value, Components> &values, FloatType accType,
                const FeatureLoops *loops = nullptr,
                const ChunkPosition *chunk = nullptr);

/// Evaluates `value`, a value of the body of `reduce`, as emitPairFormula
/// does the yielded ones, with only the ops it depends on; converted to
/// `accType`.
Components emitPairValue(LaneEmitter &e, ReduceOp reduce, Value value,
                         llvm::DenseMap<Value, Components> &values,
                         FloatType accType,
                         const FeatureLoops *loops = nullptr);

/// The arrays of a kernel: flat memrefs of its inputs and outputs, and
/// their row strides (index arguments): element d of row r is at
/// r * stride + d. Both kernel generators take the scalars of the kernel
/// ABI (keops_rt_kernel_arg_t), the strides of the inputs, those of the
/// outputs, the inputs and the outputs, then the buffers of their target
/// (keops_rt_kernel_buffer_t).
struct KernelArrays {
  llvm::SmallVector<Value> inputs, outputs, inputStrides, outputStrides;

  /// The arrays of a kernel's entry block.
  static KernelArrays fromArguments(Block &entry, unsigned numInputs,
                                    unsigned numOutputs);
  /// The argument types of the scalars, strides and arrays of `reduce`
  /// (inputs of the formula's element types, outputs of the results').
  static llvm::SmallVector<Type> argumentTypes(ReduceOp reduce);
  /// The position of the first buffer after the arrays of `reduce`.
  static unsigned firstBufferArgument(ReduceOp reduce);
  /// Where element `d` of row `row` of input `k` is (null row: a parameter,
  /// at d).
  Value inputOffset(OpBuilder &b, Location loc, unsigned k, Value row,
                    Value d) const;
  /// Where element `d` of row `row` of output `k` is.
  Value outputOffset(OpBuilder &b, Location loc, unsigned k, Value row,
                     Value d) const;
};

/// The components of input `k` of `reduce` at row `row` (null: a
/// parameter), each broadcast to `laneType`.
Components loadRowComponents(OpBuilder &b, Location loc, ReduceOp reduce,
                             unsigned k, const KernelArrays &arrays, Value row,
                             Type laneType);

/// Sets `values` of the region arguments of every input of `category` to
/// their components at `row` (null: parameters).
void loadRowVariables(OpBuilder &b, Location loc, ReduceOp reduce,
                      Category category, const KernelArrays &arrays, Value row,
                      Type laneType,
                      llvm::DenseMap<Value, Components> &values);

/// Finalizes a width-1 `state` and stores the results of output row `row`
/// (converted to the output element types); with `chunk`, the state of
/// that chunk into its components (see ChunkPosition::outputComponent).
void storeResults(LaneEmitter &e, ReduceOp reduce, Accumulator &acc,
                  const State &state, Value row, const KernelArrays &arrays,
                  const ChunkPosition *chunk = nullptr);

/// The raw state buffers of a kernel: the state of `row` for column split
/// `split` sits at slot split * slab + row (floats[slot * F + k],
/// ints[slot * I + k]); with chunks, that of chunk c at
/// floats[slot * F + c * Fc + k] (Fc = F / chunks, likewise for ints).
struct RawStates {
  Value floats, ints, slab;
  /// The chunk the loads and stores are for (null: no chunks), of `chunks`.
  Value chunk;
  int64_t chunks = 1;

  /// Stores a width-1 `state`.
  void store(LaneEmitter &e, const State &state, Value split, Value row) const;
  /// Loads the width-1 state of `acc`.
  State load(LaneEmitter &e, Accumulator &acc, Value split, Value row) const;
  /// The states of `row` for splits [0, splits), merged.
  State mergeSplits(LaneEmitter &e, Accumulator &acc, Value splits,
                    Value row) const;
  /// The slot of the state of `row` for `split`.
  Value slot(OpBuilder &b, Location loc, Value split, Value row) const;
  /// Where the (chunk) state of `perChunk` values at `slot` starts.
  Value start(OpBuilder &b, Location loc, Value slot, int64_t perChunk) const;

private:
  /// Value k of a (chunk) state of `perChunk` values at `slot`.
  Value element(LaneEmitter &e, Value slot, int64_t perChunk, int64_t k) const;
};

/// Emits `body` once when `position` has no chunks, else in a loop over
/// them that sets position.first and states.chunk for each.
void forEachChunk(OpBuilder &b, Location loc, ChunkPosition &position,
                  RawStates &states,
                  llvm::function_ref<void(OpBuilder &)> body);

} // namespace mlir::keops

#endif // KEOPS_CONVERSION_KEOPSCOMMON_KERNELFORMULA_H
