//===- CenteredSqDists.cpp - Squared distances as inner products ---------===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//

#include "CenteredSqDists.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::keops;

CenteredSqDists::CenteredSqDists(ReduceOp reduce, int64_t minDim,
                                 int64_t lanes, int64_t tileCols,
                                 const KernelArrays &arrays)
    : sqdists(getExpandableSqDists(reduce, minDim)), lanes(lanes),
      normStride(llvm::divideCeil(tileCols, lanes) * lanes), arrays(arrays),
      laneType(VectorType::get({lanes}, getFormulaElementType(reduce))) {
  for (const ExpandableSqDist &sqdist : sqdists) {
    rows[sqdist.rowInput].dim = getInputDim(reduce, sqdist.rowInput);
    rowOfColumn[sqdist.columnInput] = sqdist.rowInput;
  }
}

void CenteredSqDists::allocateColumns(OpBuilder &b, Location loc) {
  Type element = laneType.getElementType();
  columnNorms = memref::AllocaOp::create(
      b, loc,
      MemRefType::get({static_cast<int64_t>(rowOfColumn.size()) * normStride},
                      element));
  for (auto &[k, buffers] : rows)
    buffers.center = memref::AllocaOp::create(
        b, loc, MemRefType::get({buffers.dim}, element));
}

Value CenteredSqDists::forComponentLanes(
    OpBuilder &b, Location loc, int64_t dim, Value init,
    llvm::function_ref<Value(OpBuilder &, Value, Value, Value)> body) {
  int64_t whole = dim / lanes * lanes;
  Value carried = init;
  if (whole) {
    auto loop = scf::ForOp::create(
        b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, whole),
        indexConstant(b, loc, lanes),
        init ? ValueRange{init} : ValueRange(),
        [&](OpBuilder &b, Location, Value d, ValueRange iterArgs) {
          Value next =
              body(b, d, Value(), init ? iterArgs.front() : Value());
          scf::YieldOp::create(b, loc,
                               init ? ValueRange{next} : ValueRange());
        });
    if (init)
      carried = loop.getResult(0);
  }
  if (dim > whole)
    carried = body(b, indexConstant(b, loc, whole),
                   vector::CreateMaskOp::create(
                       b, loc, VectorType::get({lanes}, b.getI1Type()),
                       ValueRange{indexConstant(b, loc, dim - whole)}),
                   carried);
  return carried;
}

Value CenteredSqDists::centeredAt(OpBuilder &b, Location loc, unsigned k,
                                  Value row, Value d) {
  Value slot = arith::SubIOp::create(b, loc, row, rowBegin);
  return arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, slot, indexConstant(b, loc, rows[k].dim)),
      d);
}

void CenteredSqDists::prepareRows(OpBuilder &b, Location loc, Value begin,
                                  Value end) {
  rowBegin = begin;
  LaneEmitter e(b, loc, laneType);
  Value count = arith::SubIOp::create(b, loc, end, begin);
  Value one = indexConstant(b, loc, 1);
  auto forEachRow = [&](llvm::function_ref<void(OpBuilder &, Value)> body) {
    scf::ForOp::create(b, loc, begin, end, one, ValueRange(),
                       [&](OpBuilder &b, Location, Value row, ValueRange) {
                         body(b, row);
                         scf::YieldOp::create(b, loc);
                       });
  };
  for (auto &[k, buffers] : rows) {
    unsigned input = k;
    Rows &r = buffers;
    Type element = laneType.getElementType();
    r.centered = memref::AllocOp::create(
        b, loc, MemRefType::get({ShapedType::kDynamic}, element),
        ValueRange{arith::MulIOp::create(b, loc, count,
                                         indexConstant(b, loc, r.dim))});
    r.norms = memref::AllocOp::create(
        b, loc, MemRefType::get({ShapedType::kDynamic}, element),
        ValueRange{count});
    // The center: the mean of the rows, 0 where it is not finite (an
    // infinite or NaN component would spread to every row).
    forComponentLanes(b, loc, r.dim, Value(),
                      [&](OpBuilder &b, Value d, Value mask, Value) {
                        storeLanes(b, loc, e.constant(0.0), r.center, d,
                                   mask);
                        return Value();
                      });
    forEachRow([&](OpBuilder &b, Value row) {
      forComponentLanes(
          b, loc, r.dim, Value(),
          [&](OpBuilder &b, Value d, Value mask, Value) {
            LaneEmitter e(b, loc, laneType);
            storeLanes(b, loc,
                       e.add(loadLanes(b, loc, laneType, r.center, d, mask),
                             loadRow(b, loc, input, row, d, mask)),
                       r.center, d, mask);
            return Value();
          });
    });
    Value scale = vector::BroadcastOp::create(
        b, loc, laneType,
        arith::DivFOp::create(
            b, loc,
            arith::ConstantOp::create(b, loc, b.getFloatAttr(element, 1.0)),
            arith::UIToFPOp::create(
                b, loc, element,
                arith::IndexCastOp::create(b, loc, b.getI64Type(), count))));
    forComponentLanes(
        b, loc, r.dim, Value(), [&](OpBuilder &b, Value d, Value mask, Value) {
          LaneEmitter e(b, loc, laneType);
          Value mean =
              e.mul(loadLanes(b, loc, laneType, r.center, d, mask), scale);
          Value finite = arith::CmpFOp::create(
              b, loc, arith::CmpFPredicate::OLT, e.abs(mean),
              e.constant(std::numeric_limits<double>::infinity()));
          storeLanes(b, loc,
                     arith::SelectOp::create(b, loc, finite, mean,
                                             e.constant(0.0)),
                     r.center, d, mask);
          return Value();
        });
    // The centered rows and their squared norms.
    forEachRow([&](OpBuilder &b, Value row) {
      LaneEmitter e(b, loc, laneType);
      Value squares = forComponentLanes(
          b, loc, r.dim, e.constant(0.0),
          [&](OpBuilder &b, Value d, Value mask, Value total) {
            LaneEmitter e(b, loc, laneType);
            Value center = loadLanes(b, loc, laneType, r.center, d, mask);
            Value centered =
                e.sub(loadRow(b, loc, input, row, d, mask), center);
            storeLanes(b, loc, centered, r.centered,
                       centeredAt(b, loc, input, row, d), mask);
            return e.add(total, e.mul(centered, centered));
          });
      memref::StoreOp::create(
          b, loc,
          vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                      squares),
          r.norms, ValueRange{arith::SubIOp::create(b, loc, row, begin)});
    });
  }
}

Value CenteredSqDists::loadRow(OpBuilder &b, Location loc, unsigned k,
                               Value row, Value d, Value mask) {
  return loadLanes(b, loc, laneType, arrays.inputs[k],
                   arrays.inputOffset(b, loc, k, row, d), mask);
}

void CenteredSqDists::release(OpBuilder &b, Location loc) {
  for (auto &[k, buffers] : rows) {
    memref::DeallocOp::create(b, loc, buffers.centered);
    memref::DeallocOp::create(b, loc, buffers.norms);
  }
}

void CenteredSqDists::centerColumns(
    OpBuilder &b, Location loc, Value staged,
    llvm::function_ref<Value(OpBuilder &, unsigned, Value, Value)> stagedOffset,
    Value tileBegin, Value j, Value mask) {
  LaneEmitter e(b, loc, laneType);
  for (auto [k, rowInput] : rowOfColumn) {
    unsigned input = k;
    Rows &r = rows[rowInput];
    Value norm = emitSumOfSquares(e, r.dim, [&](OpBuilder &b, Value d) {
      LaneEmitter e(b, loc, laneType);
      Value offset = stagedOffset(b, input, d, j);
      Value center = vector::BroadcastOp::create(
          b, loc, laneType, memref::LoadOp::create(b, loc, r.center, d));
      Value centered =
          e.sub(loadLanes(b, loc, laneType, staged, offset, mask), center);
      storeLanes(b, loc, centered, staged, offset, mask);
      return centered;
    });
    vector::StoreOp::create(b, loc, norm, columnNorms,
                            columnNormAt(b, loc, input, tileBegin, j));
  }
}

Value CenteredSqDists::columnNormAt(OpBuilder &b, Location loc, unsigned k,
                                    Value tileBegin, Value j) {
  int64_t slot = rowOfColumn.find(k) - rowOfColumn.begin();
  return arith::AddIOp::create(b, loc, indexConstant(b, loc, slot * normStride),
                               arith::SubIOp::create(b, loc, j, tileBegin));
}

Value CenteredSqDists::columnNorm(OpBuilder &b, Location loc, unsigned k,
                                  Value tileBegin, Value j) {
  return vector::LoadOp::create(b, loc, laneType, columnNorms,
                                columnNormAt(b, loc, k, tileBegin, j));
}

Value CenteredSqDists::rowComponent(OpBuilder &b, Location loc, unsigned k,
                                    Value row, Value d) {
  return vector::BroadcastOp::create(
      b, loc, laneType,
      memref::LoadOp::create(b, loc, rows[k].centered,
                             ValueRange{centeredAt(b, loc, k, row, d)}));
}

Value CenteredSqDists::rowNorm(OpBuilder &b, Location loc, unsigned k,
                               Value row) {
  return vector::BroadcastOp::create(
      b, loc, laneType,
      memref::LoadOp::create(
          b, loc, rows[k].norms,
          ValueRange{arith::SubIOp::create(b, loc, row, rowBegin)}));
}
