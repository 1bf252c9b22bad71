//===- KBestLists.cpp - The K best of each row, in memory -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements KBestLists.h:
//
//   offerLanes:  beats = f < threshold (a vector compare, a mask of lanes
//                per component); if any lane of any component beats: the
//                candidates go to the stack, and in a loop over the
//                components, for each set lane (count trailing zeros), if
//                the value still beats the threshold, insert it; one
//                lane (a GPU thread): per component, if it beats, insert
//   insert:      sorted vector: after = list > pair; the list moves up one
//                place where `after` was already set one place before, the
//                pair goes where it starts; heap: the pair replaces the
//                root and sifts down
//   sort:        heapsort (swap the root with the last, sift down), which
//                leaves the K best ascending
//
// With several lanes, everything but the comparisons with the thresholds
// loops over the components, so the code does not grow with the dimension
// (of an output chunk). With one lane, the code of an insertion (a loop)
// is repeated per component of the chunk.
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/KeOpsCommon/KBestLists.h"

#include "keops/Runtime/KeOpsRuntime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::keops;

/// A loop over [begin, end) that LLVM leaves rolled: `body(b, i)`.
static void emitLoop(OpBuilder &b, Location loc, int64_t begin, int64_t end,
                     llvm::function_ref<void(OpBuilder &, Value)> body) {
  auto loop = scf::ForOp::create(
      b, loc, indexConstant(b, loc, begin), indexConstant(b, loc, end),
      indexConstant(b, loc, 1), ValueRange(),
      [&](OpBuilder &b, Location, Value i, ValueRange) {
        body(b, i);
        scf::YieldOp::create(b, loc);
      });
  disableUnrolling(loop);
}

/// The components of the lists of `reduce`: those of its output chunk.
static int64_t listComponents(ReduceOp reduce, int64_t chunkDim) {
  return getStateLayout(reduce, SumScheme::DirectSum, chunkDim).floats /
         static_cast<int64_t>(*reduce.getK());
}

KBestLists::KBestLists(ReduceOp reduce, FloatType accType, int64_t lanes,
                       Value floats, Value ints, int64_t chunkDim)
    : reduce(reduce), dim(listComponents(reduce, chunkDim)),
      k(static_cast<int64_t>(*reduce.getK())), lanes(lanes),
      sortedVectors(vectorsPerList(k, lanes)), accType(accType),
      floats(floats), ints(ints) {}

int64_t KBestLists::vectorsPerList(int64_t k, int64_t lanes) {
  int64_t vectors = llvm::divideCeil(k, lanes);
  return vectors <= kMaxSortedVectors ? vectors : 0;
}

int64_t KBestLists::listSize(int64_t k, int64_t lanes) {
  int64_t vectors = vectorsPerList(k, lanes);
  return vectors ? vectors * lanes : k;
}

int64_t KBestLists::slotSize(ReduceOp reduce, int64_t lanes,
                             int64_t chunkDim) {
  return listComponents(reduce, chunkDim) *
         listSize(static_cast<int64_t>(*reduce.getK()), lanes);
}

Value KBestLists::at(OpBuilder &b, Location loc, Value slot, Value p,
                     Value c) {
  Value list = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, slot, indexConstant(b, loc, dim)),
      c);
  return arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, list, indexConstant(b, loc, listSize())),
      p);
}

Value KBestLists::thresholdAt(OpBuilder &b, Location loc, Value slot,
                              Value c) {
  return at(b, loc, slot, indexConstant(b, loc, sortedVectors ? k - 1 : 0),
            c);
}

Value KBestLists::greater(OpBuilder &b, Location loc, Value a, Value ia,
                          Value bValue, Value ib) {
  Value above =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, a, bValue);
  Value tie = arith::AndIOp::create(
      b, loc,
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, a, bValue),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, ia, ib));
  return arith::OrIOp::create(b, loc, above, tie);
}

void KBestLists::forEachPosition(
    OpBuilder &b, Location loc, Value slot,
    llvm::function_ref<void(OpBuilder &, Value, Value, Value, Value)> body) {
  forEachComponent(b, loc, [&](OpBuilder &b, Value c) {
    emitLoop(b, loc, 0, k, [&](OpBuilder &b, Value p) {
      Value e = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, p, indexConstant(b, loc, dim)),
          c);
      body(b, c, p, at(b, loc, slot, p, c), e);
    });
  });
}

void KBestLists::forEachComponent(
    OpBuilder &b, Location loc,
    llvm::function_ref<void(OpBuilder &, Value)> body) {
  emitLoop(b, loc, 0, dim, body);
}

void KBestLists::init(OpBuilder &b, Location loc, Value slot) {
  Value inf = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(accType, std::numeric_limits<double>::infinity()));
  Value none = arith::ConstantIntOp::create(b, loc, KEOPS_RT_NO_COLUMN, 64);
  // Sorted vectors: all their lanes, those past K too.
  int64_t size = dim * listSize();
  Value first =
      at(b, loc, slot, indexConstant(b, loc, 0), indexConstant(b, loc, 0));
  emitLoop(b, loc, 0, size, [&](OpBuilder &b, Value e) {
    Value where = arith::AddIOp::create(b, loc, first, e);
    memref::StoreOp::create(b, loc, inf, floats, where);
    memref::StoreOp::create(b, loc, none, ints, where);
  });
}

State KBestLists::thresholds(OpBuilder &b, Location loc, Value slot,
                             VectorType laneType) {
  State state;
  for (int64_t c = 0; c < dim; ++c) {
    Value threshold = memref::LoadOp::create(
        b, loc, floats, thresholdAt(b, loc, slot, indexConstant(b, loc, c)));
    state.push_back(vector::BroadcastOp::create(b, loc, laneType, threshold));
  }
  return state;
}

void KBestLists::replaceRoot(OpBuilder &b, Location loc, Value slot, Value c,
                             Value size, Value value, Value column) {
  Type indexType = b.getIndexType();
  Type columnType = column.getType();
  // Carried: the free position, and the larger child there with its pair.
  auto sift = scf::WhileOp::create(
      b, loc, TypeRange{indexType, indexType, accType, columnType},
      ValueRange{indexConstant(b, loc, 0)},
      [&](OpBuilder &b, Location, ValueRange args) {
        Value free = args[0];
        Value one = indexConstant(b, loc, 1);
        Value left = arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, free, indexConstant(b, loc, 2)),
            one);
        Value right = arith::AddIOp::create(b, loc, left, one);
        // Children past the end are read at position 0, then ignored.
        auto child = [&](Value p) -> std::tuple<Value, Value, Value> {
          Value inside = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::ult, p, size);
          Value where = at(b, loc, slot,
                           arith::SelectOp::create(b, loc, inside, p,
                                                   indexConstant(b, loc, 0)),
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

void KBestLists::insert(OpBuilder &b, Location loc, Value slot, Value c,
                        Value value, Value column) {
  if (!sortedVectors)
    return replaceRoot(b, loc, slot, c, indexConstant(b, loc, k), value,
                       column);
  auto valuesType = VectorType::get({lanes}, accType);
  auto columnsType = VectorType::get({lanes}, column.getType());
  auto masksType = VectorType::get({lanes}, b.getI1Type());
  Value pairValue = vector::BroadcastOp::create(b, loc, valuesType, value);
  Value pairColumn = vector::BroadcastOp::create(b, loc, columnsType, column);
  // Lane p of vector v gets lane p - 1 of (the previous vector, v): the
  // shuffle indices L - 1, L, ..., 2L - 2 into their concatenation.
  llvm::SmallVector<int64_t> up;
  for (int64_t p = 0; p < lanes; ++p)
    up.push_back(lanes - 1 + p);
  auto shiftUp = [&](Value previous, Value current) -> Value {
    return vector::ShuffleOp::create(b, loc, previous, current, up);
  };
  // Nothing moves into the first vector (`after` unset before it).
  Value previousValues = pairValue, previousColumns = pairColumn;
  Value previousAfter = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(masksType, false));
  for (int64_t v = 0; v < sortedVectors; ++v) {
    Value where = at(b, loc, slot, indexConstant(b, loc, v * lanes), c);
    Value values = vector::LoadOp::create(b, loc, valuesType, floats, where);
    Value columns = vector::LoadOp::create(b, loc, columnsType, ints, where);
    // after[p]: the pair goes before position p, which moves up one place
    // if the position before it did too.
    Value after = greater(b, loc, values, columns, pairValue, pairColumn);
    Value moves = shiftUp(previousAfter, after);
    auto place = [&](Value list, Value previous, Value pair) -> Value {
      return arith::SelectOp::create(
          b, loc, moves, shiftUp(previous, list),
          arith::SelectOp::create(b, loc, after, pair, list));
    };
    vector::StoreOp::create(b, loc, place(values, previousValues, pairValue),
                            floats, where);
    vector::StoreOp::create(
        b, loc, place(columns, previousColumns, pairColumn), ints, where);
    previousValues = values;
    previousColumns = columns;
    previousAfter = after;
  }
}

State KBestLists::offerLanes(OpBuilder &b, Location loc, Value slot,
                             const State &thresholds, const Components &f,
                             Value j, Value live, Value valid) {
  auto laneType = llvm::cast<VectorType>(f.front().getType());
  int64_t width = laneType.getNumElements();
  // Per component, the lanes that beat its threshold.
  llvm::SmallVector<Value> beats;
  for (int64_t c = 0; c < dim; ++c) {
    beats.push_back(arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                          f[c], thresholds[c]));
    if (live)
      beats[c] = arith::AndIOp::create(b, loc, beats[c], live);
    if (valid)
      beats[c] = arith::AndIOp::create(
          b, loc, beats[c],
          vector::BroadcastOp::create(b, loc, beats[c].getType(), valid));
  }
  if (width == 1)
    return offerEach(b, loc, slot, thresholds, f, beats, j);
  // The masks as integers of `width` bits.
  auto bitsType = b.getIntegerType(width);
  Value noBits = arith::ConstantIntOp::create(b, loc, bitsType, 0);
  llvm::SmallVector<Value> masks;
  Value anyBits = noBits;
  for (int64_t c = 0; c < dim; ++c) {
    masks.push_back(vector::ExtractOp::create(
        b, loc,
        vector::BitCastOp::create(b, loc, VectorType::get({1}, bitsType),
                                  beats[c]),
        int64_t{0}));
    anyBits = arith::OrIOp::create(b, loc, anyBits, masks.back());
  }
  Value any =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, anyBits, noBits);
  auto offered = scf::IfOp::create(
      b, loc, any,
      [&](OpBuilder &b, Location) {
        // The candidates and masks go to the stack (until it is restored
        // below), for a loop over the components.
        Value stack = LLVM::StackSaveOp::create(
            b, loc, LLVM::LLVMPointerType::get(b.getContext()));
        Value candidates = memref::AllocaOp::create(
            b, loc, MemRefType::get({dim * width}, laneType.getElementType()));
        Value laneMasks =
            memref::AllocaOp::create(b, loc, MemRefType::get({dim}, bitsType));
        for (int64_t c = 0; c < dim; ++c) {
          vector::StoreOp::create(
              b, loc, f[c], candidates,
              ValueRange{indexConstant(b, loc, c * width)});
          memref::StoreOp::create(b, loc, masks[c], laneMasks,
                                  ValueRange{indexConstant(b, loc, c)});
        }
        forEachComponent(b, loc, [&](OpBuilder &b, Value c) {
          Value first =
              arith::MulIOp::create(b, loc, c, indexConstant(b, loc, width));
          offerMask(b, loc, slot, c,
                    memref::LoadOp::create(b, loc, laneMasks, c), candidates,
                    first, j);
        });
        LLVM::StackRestoreOp::create(b, loc, stack);
        scf::YieldOp::create(b, loc, this->thresholds(b, loc, slot, laneType));
      },
      [&](OpBuilder &b, Location) {
        scf::YieldOp::create(b, loc, ValueRange(thresholds));
      });
  return State(offered.getResults());
}

State KBestLists::offerEach(OpBuilder &b, Location loc, Value slot,
                            const State &thresholds, const Components &f,
                            llvm::ArrayRef<Value> beats, Value j) {
  Value column = arith::IndexCastOp::create(b, loc, b.getI64Type(), j);
  State next;
  for (int64_t c = 0; c < dim; ++c) {
    Value enters = vector::ExtractOp::create(b, loc, beats[c], int64_t{0});
    auto offered = scf::IfOp::create(
        b, loc, enters,
        [&](OpBuilder &b, Location) {
          Value component = indexConstant(b, loc, c);
          insert(b, loc, slot, component,
                 vector::ExtractOp::create(b, loc, f[c], int64_t{0}), column);
          Value threshold = memref::LoadOp::create(
              b, loc, floats, thresholdAt(b, loc, slot, component));
          scf::YieldOp::create(
              b, loc,
              ValueRange{vector::BroadcastOp::create(
                  b, loc, thresholds[c].getType(), threshold)});
        },
        [&](OpBuilder &b, Location) {
          scf::YieldOp::create(b, loc, thresholds[c]);
        });
    next.push_back(offered.getResult(0));
  }
  return next;
}

void KBestLists::offerMask(OpBuilder &b, Location loc, Value slot, Value c,
                           Value mask, Value candidates, Value first,
                           Value j) {
  Type bitsType = mask.getType();
  Value noBits = arith::ConstantIntOp::create(b, loc, bitsType, 0);
  scf::WhileOp::create(
      b, loc, TypeRange{bitsType}, ValueRange{mask},
      [&](OpBuilder &b, Location, ValueRange args) {
        Value more = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                           args[0], noBits);
        scf::ConditionOp::create(b, loc, more, args);
      },
      [&](OpBuilder &b, Location, ValueRange args) {
        Value rest = args[0];
        Value lane = arith::IndexCastUIOp::create(
            b, loc, b.getIndexType(),
            math::CountTrailingZerosOp::create(b, loc, rest));
        Value value = memref::LoadOp::create(
            b, loc, candidates, ValueRange{arith::AddIOp::create(b, loc, first, lane)});
        Value threshold =
            memref::LoadOp::create(b, loc, floats, thresholdAt(b, loc, slot, c));
        Value enters = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                             value, threshold);
        scf::IfOp::create(b, loc, enters, [&](OpBuilder &b, Location) {
          Value column = arith::IndexCastOp::create(
              b, loc, b.getI64Type(), arith::AddIOp::create(b, loc, j, lane));
          insert(b, loc, slot, c, value, column);
          scf::YieldOp::create(b, loc);
        });
        // Clear the lowest set bit.
        Value cleared = arith::AndIOp::create(
            b, loc, rest,
            arith::SubIOp::create(
                b, loc, rest, arith::ConstantIntOp::create(b, loc, bitsType, 1)));
        scf::YieldOp::create(b, loc, cleared);
      });
}

void KBestLists::offerRaw(OpBuilder &b, Location loc, Value slot,
                          const RawStates &raw, Value split, Value row) {
  Value first = raw.start(b, loc, raw.slot(b, loc, split, row), k * dim);
  forEachPosition(b, loc, slot,
                  [&](OpBuilder &b, Value c, Value, Value, Value e) {
    Value from = arith::AddIOp::create(b, loc, first, e);
    Value value = memref::LoadOp::create(b, loc, raw.floats, from);
    Value column = memref::LoadOp::create(b, loc, raw.ints, from);
    Value worst = thresholdAt(b, loc, slot, c);
    Value enters = greater(b, loc, memref::LoadOp::create(b, loc, floats, worst),
                           memref::LoadOp::create(b, loc, ints, worst), value,
                           column);
    scf::IfOp::create(b, loc, enters, [&](OpBuilder &b, Location) {
      insert(b, loc, slot, c, value, column);
      scf::YieldOp::create(b, loc);
    });
  });
}

void KBestLists::sort(OpBuilder &b, Location loc, Value slot) {
  if (sortedVectors)
    return;
  Value zeroIndex = indexConstant(b, loc, 0);
  forEachComponent(b, loc, [&](OpBuilder &b, Value c) {
    // For last = K-1 down to 1: the root (the largest) goes to `last`, and
    // the pair there replaces the root of the heap [0, last).
    emitLoop(b, loc, 1, k, [&](OpBuilder &b, Value step) {
      Value last = arith::SubIOp::create(b, loc, indexConstant(b, loc, k), step);
      Value root = at(b, loc, slot, zeroIndex, c);
      Value end = at(b, loc, slot, last, c);
      Value rootValue = memref::LoadOp::create(b, loc, floats, root);
      Value rootColumn = memref::LoadOp::create(b, loc, ints, root);
      Value value = memref::LoadOp::create(b, loc, floats, end);
      Value column = memref::LoadOp::create(b, loc, ints, end);
      memref::StoreOp::create(b, loc, rootValue, floats, end);
      memref::StoreOp::create(b, loc, rootColumn, ints, end);
      replaceRoot(b, loc, slot, c, last, value, column);
    });
  });
}

void KBestLists::storeRaw(OpBuilder &b, Location loc, Value slot,
                          const RawStates &raw, Value split, Value row) {
  Value first = raw.start(b, loc, raw.slot(b, loc, split, row), k * dim);
  forEachPosition(
      b, loc, slot, [&](OpBuilder &b, Value, Value, Value where, Value e) {
        Value to = arith::AddIOp::create(b, loc, first, e);
        memref::StoreOp::create(b, loc,
                                memref::LoadOp::create(b, loc, floats, where),
                                raw.floats, to);
        memref::StoreOp::create(b, loc,
                                memref::LoadOp::create(b, loc, ints, where),
                                raw.ints, to);
      });
}

void KBestLists::storeResults(OpBuilder &b, Location loc, Value slot,
                              const KernelArrays &arrays, Value row,
                              const ChunkPosition *chunk) {
  for (OpResult result : reduce.getResults()) {
    Type outElement =
        llvm::cast<RankedTensorType>(result.getType()).getElementType();
    unsigned n = result.getResultNumber();
    bool isColumn = llvm::isa<IntegerType>(outElement);
    forEachPosition(
        b, loc, slot,
        [&](OpBuilder &b, Value c, Value p, Value where, Value e) {
          Value element =
              memref::LoadOp::create(b, loc, isColumn ? ints : floats, where);
          if (element.getType() != outElement)
            element = arith::TruncFOp::create(b, loc, outElement, element);
          Value d = chunk ? chunk->outputComponent(b, loc, p, c) : e;
          memref::StoreOp::create(b, loc, element, arrays.outputs[n],
                                  arrays.outputOffset(b, loc, n, row, d));
        });
  }
}

void KBestLists::finish(OpBuilder &b, Location loc, Value slot, Value toRaw,
                        const RawStates &raw, Value split,
                        const KernelArrays &arrays, Value row,
                        const ChunkPosition *chunk) {
  sort(b, loc, slot);
  scf::IfOp::create(
      b, loc, toRaw,
      [&](OpBuilder &b, Location) {
        storeRaw(b, loc, slot, raw, split, row);
        scf::YieldOp::create(b, loc);
      },
      [&](OpBuilder &b, Location) {
        storeResults(b, loc, slot, arrays, row, chunk);
        scf::YieldOp::create(b, loc);
      });
}

void KBestLists::storeMerged(OpBuilder &b, Location loc, Value slot,
                             const RawStates &raw, Value splits,
                             const KernelArrays &arrays, Value row,
                             const ChunkPosition *chunk) {
  init(b, loc, slot);
  scf::ForOp::create(b, loc, indexConstant(b, loc, 0), splits,
                     indexConstant(b, loc, 1), ValueRange(),
                     [&](OpBuilder &b, Location, Value split, ValueRange) {
                       offerRaw(b, loc, slot, raw, split, row);
                       scf::YieldOp::create(b, loc);
                     });
  sort(b, loc, slot);
  storeResults(b, loc, slot, arrays, row, chunk);
}
