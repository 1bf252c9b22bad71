//===- ContractionLoops.cpp - keops.tensordot as loops ----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements ContractionLoops.h. The loops run over the output
// axes but the last, then the contracted axes, then the last output axis
// innermost: consecutive iterations add into different output components,
// so the multiply-adds do not wait on each other.
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/KeOpsCommon/ContractionLoops.h"

#include "keops/Conversion/KeOpsCommon/KernelFormula.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <functional>

using namespace mlir;
using namespace mlir::keops;

bool keops::isContractionLoop(TensorDotOp op) {
  TensorDotMap map = op.getMap();
  return map.outDim() * map.contractedDim() >= kContractionLoopMinProducts;
}

namespace {

/// One loop of the nest: its size and the strides of its index in a, in b
/// and in the output.
struct LoopAxis {
  int64_t size;
  std::array<int64_t, 3> strides;
};

/// The loops of `map`, outermost first.
llvm::SmallVector<LoopAxis> loopAxesOf(const TensorDotMap &map) {
  llvm::SmallVector<int64_t> outStrides = rowMajorStrides(map.outShape);
  auto outAxis = [&](size_t p) {
    return LoopAxis{map.outShape[p],
                    {map.outStrides[0][p], map.outStrides[1][p], outStrides[p]}};
  };
  llvm::SmallVector<LoopAxis> axes;
  for (size_t p = 0; p + 1 < map.outShape.size(); ++p)
    axes.push_back(outAxis(p));
  for (size_t t = 0; t < map.contractedShape.size(); ++t)
    axes.push_back({map.contractedShape[t],
                    {map.contractedStrides[0][t], map.contractedStrides[1][t],
                     0}});
  if (!map.outShape.empty())
    axes.push_back(outAxis(map.outShape.size() - 1));
  return axes;
}

/// offset + index * stride.
Value advance(OpBuilder &b, Location loc, Value offset, Value index,
              int64_t stride) {
  if (stride == 0)
    return offset;
  return arith::AddIOp::create(
      b, loc, offset,
      arith::MulIOp::create(b, loc, index, indexConstant(b, loc, stride)));
}

/// A stack buffer of `size` values of `type`.
Value stackBuffer(OpBuilder &b, Location loc, int64_t size, Type type) {
  return memref::AllocaOp::create(b, loc, MemRefType::get({size}, type),
                                  b.getI64IntegerAttr(64));
}

/// The components of the contraction of `map`, whose operand n
/// `read(b, n, index)` reads, by the loop nest of loopAxesOf into a stack
/// buffer.
Components emitLoopNest(
    LaneEmitter &e, const TensorDotMap &map,
    llvm::function_ref<Value(OpBuilder &, unsigned n, Value index)> read) {
  OpBuilder &builder = e.getBuilder();
  Location loc = e.getLoc();
  Type laneType = e.getLaneType();
  int64_t outDim = map.outDim();
  Value out = stackBuffer(builder, loc, outDim, laneType);
  Value zero = LaneEmitter(builder, loc, laneType).constant(0.0);
  for (int64_t o = 0; o < outDim; ++o)
    memref::StoreOp::create(builder, loc, zero, out,
                            indexConstant(builder, loc, o));
  // The nest, built from the outermost loop in; offsets[k]: the index in a,
  // b and the output of the loops entered so far.
  llvm::SmallVector<LoopAxis> axes = loopAxesOf(map);
  std::function<void(OpBuilder &, size_t, std::array<Value, 3>)> nest =
      [&](OpBuilder &b, size_t depth, std::array<Value, 3> offsets) {
        if (depth == axes.size()) {
          LaneEmitter inner(b, loc, laneType);
          Value sum = inner.add(
              memref::LoadOp::create(b, loc, out, offsets[2]),
              inner.mul(read(b, 0, offsets[0]), read(b, 1, offsets[1])));
          memref::StoreOp::create(b, loc, sum, out, offsets[2]);
          return;
        }
        const LoopAxis &axis = axes[depth];
        scf::ForOp::create(
            b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, axis.size),
            indexConstant(b, loc, 1), ValueRange(),
            [&](OpBuilder &b, Location, Value index, ValueRange) {
              std::array<Value, 3> next;
              for (unsigned k = 0; k < 3; ++k)
                next[k] = advance(b, loc, offsets[k], index, axis.strides[k]);
              nest(b, depth + 1, next);
              scf::YieldOp::create(b, loc);
            });
      };
  Value start = indexConstant(builder, loc, 0);
  nest(builder, 0, {start, start, start});
  Components results;
  for (int64_t o = 0; o < outDim; ++o)
    results.push_back(memref::LoadOp::create(builder, loc, out,
                                             indexConstant(builder, loc, o)));
  return results;
}

/// Component `o` (an index) of the contraction of `map`, whose operand n
/// `read(b, n, index)` reads, by loops over the contracted axes.
Value emitComponent(
    LaneEmitter &e, const TensorDotMap &map, Value o,
    llvm::function_ref<Value(OpBuilder &, unsigned n, Value index)> read) {
  OpBuilder &builder = e.getBuilder();
  Location loc = e.getLoc();
  // The offsets of output component o in a and b: its multi-index (the
  // last axis fastest) times their strides.
  Value zero = indexConstant(builder, loc, 0);
  std::array<Value, 2> offsets{zero, zero};
  Value rest = o;
  for (size_t p = map.outShape.size(); p-- > 0;) {
    Value size = indexConstant(builder, loc, map.outShape[p]);
    Value index = arith::RemUIOp::create(builder, loc, rest, size);
    rest = arith::DivUIOp::create(builder, loc, rest, size);
    for (unsigned n = 0; n < 2; ++n)
      offsets[n] =
          advance(builder, loc, offsets[n], index, map.outStrides[n][p]);
  }
  // The sum over the contracted axes, one loop each.
  std::function<Value(OpBuilder &, size_t, std::array<Value, 2>, Value)> sum =
      [&](OpBuilder &b, size_t t, std::array<Value, 2> at, Value total) {
        LaneEmitter inner(b, loc, e.getLaneType());
        if (t == map.contractedShape.size()) {
          Value product = inner.mul(read(b, 0, at[0]), read(b, 1, at[1]));
          return total ? inner.add(total, product) : product;
        }
        Value initial = total ? total : inner.constant(0.0);
        auto loop = scf::ForOp::create(
            b, loc, indexConstant(b, loc, 0),
            indexConstant(b, loc, map.contractedShape[t]),
            indexConstant(b, loc, 1), ValueRange{initial},
            [&](OpBuilder &b, Location, Value index, ValueRange partial) {
              std::array<Value, 2> next;
              for (unsigned n = 0; n < 2; ++n)
                next[n] = advance(b, loc, at[n], index,
                                  map.contractedStrides[n][t]);
              scf::YieldOp::create(b, loc, sum(b, t + 1, next, partial[0]));
            });
        return loop.getResult(0);
      };
  return sum(builder, 0, offsets, Value());
}

/// Runs `body` with a reader of the operands: those without a `load` are
/// stored to stack buffers first, which (with those of `body`, when
/// `bodyBuffers`) live until the stack is restored after `body`.
Components withOperandsInMemory(
    LaneEmitter &e, const ContractionOperand &a, const ContractionOperand &b,
    bool bodyBuffers,
    llvm::function_ref<Components(
        llvm::function_ref<Value(OpBuilder &, unsigned n, Value index)>)>
        body) {
  OpBuilder &builder = e.getBuilder();
  Location loc = e.getLoc();
  const ContractionOperand *operands[] = {&a, &b};
  Value stack;
  if (bodyBuffers || !a.load || !b.load)
    stack = LLVM::StackSaveOp::create(
        builder, loc, LLVM::LLVMPointerType::get(builder.getContext()));
  Value spilled[2];
  for (unsigned n = 0; n < 2; ++n) {
    if (operands[n]->load)
      continue;
    const Components &components = *operands[n]->components;
    spilled[n] =
        stackBuffer(builder, loc, components.size(), e.getLaneType());
    for (auto [k, component] : llvm::enumerate(components))
      memref::StoreOp::create(builder, loc, component, spilled[n],
                              indexConstant(builder, loc, k));
  }
  Components result = body([&](OpBuilder &b, unsigned n, Value index) {
    if (operands[n]->load)
      return operands[n]->load(b, index);
    return Value(memref::LoadOp::create(b, loc, spilled[n], index));
  });
  if (stack)
    LLVM::StackRestoreOp::create(builder, loc, stack);
  return result;
}

} // namespace

Components keops::emitContractionLoops(LaneEmitter &e, TensorDotOp op,
                                       const ContractionOperand &a,
                                       const ContractionOperand &b) {
  return withOperandsInMemory(e, a, b, /*bodyBuffers=*/true, [&](auto read) {
    return emitLoopNest(e, op.getMap(), read);
  });
}

Components keops::emitContractionComponents(LaneEmitter &e, TensorDotOp op,
                                            llvm::ArrayRef<Value> outputs,
                                            const ContractionOperand &a,
                                            const ContractionOperand &b) {
  TensorDotMap map = op.getMap();
  return withOperandsInMemory(e, a, b, /*bodyBuffers=*/false, [&](auto read) {
    Components result;
    for (Value o : outputs)
      result.push_back(emitComponent(e, map, o, read));
    return result;
  });
}
