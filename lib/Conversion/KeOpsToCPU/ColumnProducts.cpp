//===- ColumnProducts.cpp - Sums of factors times wide rows -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements ColumnProducts.h.
//
//===----------------------------------------------------------------------===//

#include "ColumnProducts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::keops;

ColumnProducts::ColumnProducts(unsigned input, int64_t dim, int64_t lanes,
                               FloatType accType, bool blockSum,
                               const KernelArrays &arrays, Value sums,
                               Value factors, int64_t first, int64_t tileCols)
    : input(input), dim(dim), lanes(lanes), accType(accType),
      blockSum(blockSum), arrays(arrays),
      sumsBuffer(sums), factors(factors), first(first), tileCols(tileCols) {}

Value ColumnProducts::sumAt(OpBuilder &b, Location loc, Value slot, Value d) {
  return arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, slot, indexConstant(b, loc, paddedDim())),
      d);
}

void ColumnProducts::init(OpBuilder &b, Location loc, Value slot) {
  Value zero = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({lanes}, accType),
                             b.getFloatAttr(accType, 0)));
  scf::ForOp::create(b, loc, indexConstant(b, loc, 0),
                     indexConstant(b, loc, paddedDim()),
                     indexConstant(b, loc, lanes), ValueRange(),
                     [&](OpBuilder &b, Location, Value d, ValueRange) {
                       vector::StoreOp::create(b, loc, zero, sumsBuffer,
                                               sumAt(b, loc, slot, d));
                       scf::YieldOp::create(b, loc);
                     });
}

Value ColumnProducts::factorAt(OpBuilder &b, Location loc, int64_t r,
                               Value t) {
  return arith::AddIOp::create(
      b, loc, indexConstant(b, loc, first + r * tileCols), t);
}

void ColumnProducts::accumulateTile(OpBuilder &b, Location loc,
                                    llvm::ArrayRef<Value> slots,
                                    Value tileBegin, Value tileEnd) {
  auto accVector = VectorType::get({lanes}, accType);
  auto elementType = llvm::cast<MemRefType>(arrays.inputs[input].getType())
                         .getElementType();
  auto elementVector = VectorType::get({lanes}, elementType);
  int64_t rows = static_cast<int64_t>(slots.size());
  Value count = arith::SubIOp::create(b, loc, tileEnd, tileBegin);
  int64_t group = kGroupVectors * lanes;
  scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, paddedDim()),
      indexConstant(b, loc, group), ValueRange(),
      [&](OpBuilder &b, Location, Value d0, ValueRange) {
        // The group's components of b past `dim` are masked off (their
        // sums stay 0).
        llvm::SmallVector<Value> offsets, masks;
        for (int64_t g = 0; g < kGroupVectors; ++g) {
          Value d = arith::AddIOp::create(b, loc, d0,
                                          indexConstant(b, loc, g * lanes));
          offsets.push_back(d);
          if (dim % group)
            masks.push_back(vector::CreateMaskOp::create(
                b, loc, VectorType::get({lanes}, b.getI1Type()),
                ValueRange{arith::SubIOp::create(
                    b, loc, indexConstant(b, loc, dim), d)}));
        }
        llvm::SmallVector<Value> sums;
        for (Value slot : slots)
          for (Value d : offsets)
            sums.push_back(vector::LoadOp::create(b, loc, accVector,
                                                  sumsBuffer,
                                                  sumAt(b, loc, slot, d)));
        Value zeros = arith::ConstantOp::create(
            b, loc,
            DenseElementsAttr::get(accVector, b.getFloatAttr(accType, 0)));
        llvm::SmallVector<Value> initial(sums);
        if (blockSum)
          initial.assign(sums.size(), zeros);
        Value padding = arith::ConstantOp::create(
            b, loc,
            DenseElementsAttr::get(elementVector,
                                   b.getFloatAttr(elementType, 0)));
        auto columns = scf::ForOp::create(
            b, loc, indexConstant(b, loc, 0), count, indexConstant(b, loc, 1),
            initial,
            [&](OpBuilder &b, Location, Value t, ValueRange acc) {
              Value column = arith::AddIOp::create(b, loc, tileBegin, t);
              llvm::SmallVector<Value> weights;
              for (int64_t g = 0; g < kGroupVectors; ++g) {
                Value at =
                    arrays.inputOffset(b, loc, input, column, offsets[g]);
                Value weight =
                    masks.empty()
                        ? Value(vector::LoadOp::create(
                              b, loc, elementVector, arrays.inputs[input], at))
                        : Value(vector::MaskedLoadOp::create(
                              b, loc, elementVector, arrays.inputs[input], at,
                              masks[g], padding));
                if (elementType != accType)
                  weight = arith::ExtFOp::create(b, loc, accVector, weight);
                weights.push_back(weight);
              }
              llvm::SmallVector<Value> next;
              for (int64_t r = 0; r < rows; ++r) {
                Value factor = memref::LoadOp::create(b, loc, factors,
                                                      factorAt(b, loc, r, t));
                if (factor.getType() != accType)
                  factor = arith::ExtFOp::create(b, loc, accType, factor);
                Value lanesOfFactor =
                    vector::BroadcastOp::create(b, loc, accVector, factor);
                for (int64_t g = 0; g < kGroupVectors; ++g)
                  next.push_back(vector::FMAOp::create(
                      b, loc, lanesOfFactor, weights[g],
                      acc[r * kGroupVectors + g]));
              }
              scf::YieldOp::create(b, loc, next);
            });
        for (auto [r, slot] : llvm::enumerate(slots))
          for (auto [g, d] : llvm::enumerate(offsets)) {
            int64_t n = r * kGroupVectors + g;
            Value sum = columns.getResult(n);
            if (blockSum)
              sum = arith::AddFOp::create(b, loc, sums[n], sum);
            vector::StoreOp::create(b, loc, sum, sumsBuffer,
                                    sumAt(b, loc, slot, d));
          }
        scf::YieldOp::create(b, loc);
      });
}

Value ColumnProducts::rawAt(OpBuilder &b, Location loc, const RawStates &raw,
                            Value split, Value row, Value d) {
  return arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, raw.slot(b, loc, split, row),
                            indexConstant(b, loc, dim)),
      d);
}

void ColumnProducts::forEachComponent(
    OpBuilder &b, Location loc,
    llvm::function_ref<void(OpBuilder &, Value)> body) {
  scf::ForOp::create(b, loc, indexConstant(b, loc, 0),
                     indexConstant(b, loc, dim), indexConstant(b, loc, 1),
                     ValueRange(),
                     [&](OpBuilder &b, Location, Value d, ValueRange) {
                       body(b, d);
                       scf::YieldOp::create(b, loc);
                     });
}

void ColumnProducts::storeOutput(OpBuilder &b, Location loc, Value sum,
                                 Value row, Value d) {
  Type outElement =
      llvm::cast<MemRefType>(arrays.outputs[0].getType()).getElementType();
  if (sum.getType() != outElement)
    sum = arith::TruncFOp::create(b, loc, outElement, sum);
  memref::StoreOp::create(b, loc, sum, arrays.outputs[0],
                          arrays.outputOffset(b, loc, 0, row, d));
}

void ColumnProducts::store(OpBuilder &b, Location loc, Value slot, Value row,
                           Value toRaw, Value resume, const RawStates &raw,
                           Value split) {
  scf::IfOp::create(
      b, loc, toRaw,
      [&](OpBuilder &b, Location) {
        forEachComponent(b, loc, [&](OpBuilder &b, Value d) {
          Value sum =
              memref::LoadOp::create(b, loc, sumsBuffer, sumAt(b, loc, slot, d));
          Value at = rawAt(b, loc, raw, split, row, d);
          auto resumed = scf::IfOp::create(
              b, loc, resume,
              [&](OpBuilder &b, Location) {
                Value previous = memref::LoadOp::create(b, loc, raw.floats, at);
                scf::YieldOp::create(
                    b, loc, ValueRange{arith::AddFOp::create(b, loc, previous, sum)});
              },
              [&](OpBuilder &b, Location) {
                scf::YieldOp::create(b, loc, sum);
              });
          memref::StoreOp::create(b, loc, resumed.getResult(0), raw.floats, at);
        });
        scf::YieldOp::create(b, loc);
      },
      [&](OpBuilder &b, Location) {
        forEachComponent(b, loc, [&](OpBuilder &b, Value d) {
          storeOutput(b, loc,
                      memref::LoadOp::create(b, loc, sumsBuffer,
                                             sumAt(b, loc, slot, d)),
                      row, d);
        });
        scf::YieldOp::create(b, loc);
      });
}

void ColumnProducts::storeMerged(OpBuilder &b, Location loc, Value row,
                                 const RawStates &raw, Value splits) {
  forEachComponent(b, loc, [&](OpBuilder &b, Value d) {
    Value zero = arith::ConstantOp::create(b, loc, b.getFloatAttr(accType, 0));
    auto sum = scf::ForOp::create(
        b, loc, indexConstant(b, loc, 0), splits, indexConstant(b, loc, 1),
        ValueRange{zero},
        [&](OpBuilder &b, Location, Value split, ValueRange partial) {
          Value value = memref::LoadOp::create(
              b, loc, raw.floats, rawAt(b, loc, raw, split, row, d));
          scf::YieldOp::create(
              b, loc, ValueRange{arith::AddFOp::create(b, loc, partial[0], value)});
        });
    storeOutput(b, loc, sum.getResult(0), row, d);
  });
}
