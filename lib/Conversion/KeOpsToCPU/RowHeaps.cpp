//===- RowHeaps.cpp - The K best of each row, as heaps in memory -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements RowHeaps.h:
//
//   offerLanes:  beats = f < threshold (a vector compare, a mask of lanes);
//                if any: for each set lane (count trailing zeros), if the
//                value is still below the root, replace the root and sift
//                down; the new threshold is the root
//   sort:        heapsort (swap the root with the last, sift down), which
//                leaves the K best ascending
//
//===----------------------------------------------------------------------===//

#include "RowHeaps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::keops;

static Value constantIndex(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

RowHeaps::RowHeaps(ReduceOp reduce, FloatType accType, Value floats,
                   Value ints)
    : reduce(reduce), k(static_cast<int64_t>(*reduce.getK())),
      accType(accType), floats(floats), ints(ints) {
  dim = getStateLayout(reduce, SumScheme::DirectSum).floats / k;
}

Value RowHeaps::at(OpBuilder &b, Location loc, Value slot, Value p,
                   int64_t c) {
  Value position = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, slot, constantIndex(b, loc, k)), p);
  return arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, position, constantIndex(b, loc, dim)),
      constantIndex(b, loc, c));
}

Value RowHeaps::greater(OpBuilder &b, Location loc, Value a, Value ia,
                        Value bValue, Value ib) {
  Value above =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, a, bValue);
  Value tie = arith::AndIOp::create(
      b, loc,
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, a, bValue),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, ia, ib));
  return arith::OrIOp::create(b, loc, above, tie);
}

void RowHeaps::forEachElement(
    OpBuilder &b, Location loc,
    llvm::function_ref<void(OpBuilder &, Value)> body) {
  scf::ForOp::create(b, loc, constantIndex(b, loc, 0),
                     constantIndex(b, loc, k * dim), constantIndex(b, loc, 1),
                     ValueRange(),
                     [&](OpBuilder &b, Location, Value e, ValueRange) {
                       body(b, e);
                       scf::YieldOp::create(b, loc);
                     });
}

void RowHeaps::init(OpBuilder &b, Location loc, Value slot) {
  Value inf = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(accType, std::numeric_limits<double>::infinity()));
  Value zero = arith::ConstantIntOp::create(b, loc, 0, 64);
  forEachElement(b, loc, [&](OpBuilder &b, Value e) {
    Value where = at(b, loc, slot, constantIndex(b, loc, 0), 0);
    where = arith::AddIOp::create(b, loc, where, e);
    memref::StoreOp::create(b, loc, inf, floats, where);
    memref::StoreOp::create(b, loc, zero, ints, where);
  });
}

State RowHeaps::thresholds(OpBuilder &b, Location loc, Value slot,
                           VectorType laneType) {
  State state;
  for (int64_t c = 0; c < dim; ++c) {
    Value root = memref::LoadOp::create(
        b, loc, floats, at(b, loc, slot, constantIndex(b, loc, 0), c));
    state.push_back(vector::BroadcastOp::create(b, loc, laneType, root));
  }
  return state;
}

void RowHeaps::replaceRoot(OpBuilder &b, Location loc, Value slot, int64_t c,
                           Value size, Value value, Value column) {
  Type indexType = b.getIndexType();
  Type columnType = column.getType();
  // Carried: the free position, and the larger child there with its pair.
  auto sift = scf::WhileOp::create(
      b, loc, TypeRange{indexType, indexType, accType, columnType},
      ValueRange{constantIndex(b, loc, 0)},
      [&](OpBuilder &b, Location, ValueRange args) {
        Value free = args[0];
        Value one = constantIndex(b, loc, 1);
        Value left = arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, free, constantIndex(b, loc, 2)),
            one);
        Value right = arith::AddIOp::create(b, loc, left, one);
        // Children past the end are read at position 0, then ignored.
        auto child = [&](Value p) -> std::tuple<Value, Value, Value> {
          Value inside = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::ult, p, size);
          Value where = at(b, loc, slot,
                           arith::SelectOp::create(b, loc, inside, p,
                                                   constantIndex(b, loc, 0)),
                           c);
          return {inside, memref::LoadOp::create(b, loc, floats, where),
                  memref::LoadOp::create(b, loc, ints, where)};
        };
        auto [hasLeft, leftValue, leftColumn] = child(left);
        auto [hasRight, rightValue, rightColumn] = child(right);
        Value pickRight = arith::AndIOp::create(
            b, loc, hasRight,
            greater(b, loc, rightValue, rightColumn, leftValue, leftColumn));
        Value larger = arith::SelectOp::create(b, loc, pickRight, right, left);
        Value largerValue =
            arith::SelectOp::create(b, loc, pickRight, rightValue, leftValue);
        Value largerColumn =
            arith::SelectOp::create(b, loc, pickRight, rightColumn, leftColumn);
        Value down = arith::AndIOp::create(
            b, loc, hasLeft,
            greater(b, loc, largerValue, largerColumn, value, column));
        scf::ConditionOp::create(
            b, loc, down,
            ValueRange{free, larger, largerValue, largerColumn});
      },
      [&](OpBuilder &b, Location, ValueRange args) {
        Value where = at(b, loc, slot, args[0], c);
        memref::StoreOp::create(b, loc, args[2], floats, where);
        memref::StoreOp::create(b, loc, args[3], ints, where);
        scf::YieldOp::create(b, loc, args[1]);
      });
  Value where = at(b, loc, slot, sift.getResult(0), c);
  memref::StoreOp::create(b, loc, value, floats, where);
  memref::StoreOp::create(b, loc, column, ints, where);
}

State RowHeaps::offerLanes(OpBuilder &b, Location loc, Value slot,
                           const State &thresholds, const Components &f,
                           Value j, Value live, Value valid) {
  Value size = constantIndex(b, loc, k);
  Value zeroIndex = constantIndex(b, loc, 0);
  State next;
  for (int64_t c = 0; c < dim; ++c) {
    auto laneType = llvm::cast<VectorType>(f[c].getType());
    int64_t lanes = laneType.getNumElements();
    Value beats = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                        f[c], thresholds[c]);
    if (live)
      beats = arith::AndIOp::create(b, loc, beats, live);
    if (valid)
      beats = arith::AndIOp::create(
          b, loc, beats,
          vector::BroadcastOp::create(b, loc, beats.getType(), valid));
    // The mask as an integer of `lanes` bits.
    auto bitsType = b.getIntegerType(lanes);
    Value bits = vector::ExtractOp::create(
        b, loc,
        vector::BitCastOp::create(b, loc, VectorType::get({1}, bitsType),
                                  beats),
        int64_t{0});
    Value zeroBits = arith::ConstantIntOp::create(b, loc, bitsType, 0);
    Value any =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, bits, zeroBits);
    auto offered = scf::IfOp::create(
        b, loc, any,
        [&](OpBuilder &b, Location) {
          scf::WhileOp::create(
              b, loc, TypeRange{bitsType}, ValueRange{bits},
              [&](OpBuilder &b, Location, ValueRange args) {
                Value more = arith::CmpIOp::create(
                    b, loc, arith::CmpIPredicate::ne, args[0], zeroBits);
                scf::ConditionOp::create(b, loc, more, args);
              },
              [&](OpBuilder &b, Location, ValueRange args) {
                Value rest = args[0];
                Value lane = arith::IndexCastUIOp::create(
                    b, loc, b.getIndexType(),
                    math::CountTrailingZerosOp::create(b, loc, rest));
                Value value = vector::ExtractOp::create(b, loc, f[c],
                                                        OpFoldResult(lane));
                Value root = memref::LoadOp::create(
                    b, loc, floats, at(b, loc, slot, zeroIndex, c));
                Value enters = arith::CmpFOp::create(
                    b, loc, arith::CmpFPredicate::OLT, value, root);
                scf::IfOp::create(b, loc, enters, [&](OpBuilder &b, Location) {
                  Value column = arith::IndexCastOp::create(
                      b, loc, b.getI64Type(),
                      arith::AddIOp::create(b, loc, j, lane));
                  replaceRoot(b, loc, slot, c, size, value, column);
                  scf::YieldOp::create(b, loc);
                });
                // Clear the lowest set bit.
                Value cleared = arith::AndIOp::create(
                    b, loc, rest,
                    arith::SubIOp::create(
                        b, loc, rest,
                        arith::ConstantIntOp::create(b, loc, bitsType, 1)));
                scf::YieldOp::create(b, loc, cleared);
              });
          Value root = memref::LoadOp::create(
              b, loc, floats, at(b, loc, slot, zeroIndex, c));
          scf::YieldOp::create(
              b, loc,
              ValueRange{vector::BroadcastOp::create(
                  b, loc, thresholds[c].getType(), root)});
        },
        [&](OpBuilder &b, Location) {
          scf::YieldOp::create(b, loc, thresholds[c]);
        });
    next.push_back(offered.getResult(0));
  }
  return next;
}

void RowHeaps::offerRaw(OpBuilder &b, Location loc, Value slot,
                        const RawStates &raw, Value split, Value row) {
  Value first = arith::MulIOp::create(b, loc, raw.slot(b, loc, split, row),
                                      constantIndex(b, loc, k * dim));
  Value size = constantIndex(b, loc, k);
  Value zeroIndex = constantIndex(b, loc, 0);
  for (int64_t c = 0; c < dim; ++c) {
    scf::ForOp::create(
        b, loc, zeroIndex, size, constantIndex(b, loc, 1), ValueRange(),
        [&](OpBuilder &b, Location, Value p, ValueRange) {
          Value from = arith::AddIOp::create(
              b, loc, first,
              arith::AddIOp::create(
                  b, loc,
                  arith::MulIOp::create(b, loc, p, constantIndex(b, loc, dim)),
                  constantIndex(b, loc, c)));
          Value value = memref::LoadOp::create(b, loc, raw.floats, from);
          Value column = memref::LoadOp::create(b, loc, raw.ints, from);
          Value where = at(b, loc, slot, zeroIndex, c);
          Value rootValue = memref::LoadOp::create(b, loc, floats, where);
          Value rootColumn = memref::LoadOp::create(b, loc, ints, where);
          Value enters = greater(b, loc, rootValue, rootColumn, value, column);
          scf::IfOp::create(b, loc, enters, [&](OpBuilder &b, Location) {
            replaceRoot(b, loc, slot, c, size, value, column);
            scf::YieldOp::create(b, loc);
          });
          scf::YieldOp::create(b, loc);
        });
  }
}

void RowHeaps::sort(OpBuilder &b, Location loc, Value slot) {
  Value zeroIndex = constantIndex(b, loc, 0);
  for (int64_t c = 0; c < dim; ++c) {
    // For last = K-1 down to 1: the root (the largest) goes to `last`, and
    // the pair there replaces the root of the heap [0, last).
    scf::ForOp::create(
        b, loc, constantIndex(b, loc, 1), constantIndex(b, loc, k),
        constantIndex(b, loc, 1), ValueRange(),
        [&](OpBuilder &b, Location, Value step, ValueRange) {
          Value last =
              arith::SubIOp::create(b, loc, constantIndex(b, loc, k), step);
          Value root = at(b, loc, slot, zeroIndex, c);
          Value end = at(b, loc, slot, last, c);
          Value rootValue = memref::LoadOp::create(b, loc, floats, root);
          Value rootColumn = memref::LoadOp::create(b, loc, ints, root);
          Value value = memref::LoadOp::create(b, loc, floats, end);
          Value column = memref::LoadOp::create(b, loc, ints, end);
          memref::StoreOp::create(b, loc, rootValue, floats, end);
          memref::StoreOp::create(b, loc, rootColumn, ints, end);
          replaceRoot(b, loc, slot, c, last, value, column);
          scf::YieldOp::create(b, loc);
        });
  }
}

void RowHeaps::storeRaw(OpBuilder &b, Location loc, Value slot,
                        const RawStates &raw, Value split, Value row) {
  Value first = arith::MulIOp::create(b, loc, raw.slot(b, loc, split, row),
                                      constantIndex(b, loc, k * dim));
  Value heap = at(b, loc, slot, constantIndex(b, loc, 0), 0);
  forEachElement(b, loc, [&](OpBuilder &b, Value e) {
    Value from = arith::AddIOp::create(b, loc, heap, e);
    Value to = arith::AddIOp::create(b, loc, first, e);
    memref::StoreOp::create(b, loc,
                            memref::LoadOp::create(b, loc, floats, from),
                            raw.floats, to);
    memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, ints, from),
                            raw.ints, to);
  });
}

void RowHeaps::storeResults(OpBuilder &b, Location loc, Value slot,
                            const KernelArrays &arrays, Value row) {
  Value heap = at(b, loc, slot, constantIndex(b, loc, 0), 0);
  for (OpResult result : reduce.getResults()) {
    Type outElement =
        llvm::cast<RankedTensorType>(result.getType()).getElementType();
    unsigned n = result.getResultNumber();
    bool isColumn = llvm::isa<IntegerType>(outElement);
    forEachElement(b, loc, [&](OpBuilder &b, Value e) {
      Value from = arith::AddIOp::create(b, loc, heap, e);
      Value element =
          memref::LoadOp::create(b, loc, isColumn ? ints : floats, from);
      if (element.getType() != outElement)
        element = arith::TruncFOp::create(b, loc, outElement, element);
      memref::StoreOp::create(b, loc, element, arrays.outputs[n],
                              arrays.outputOffset(b, loc, n, row, e));
    });
  }
}
