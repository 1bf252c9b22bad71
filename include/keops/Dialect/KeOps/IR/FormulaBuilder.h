//===- FormulaBuilder.h - Build keops formula ops tersely -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares FormulaBuilder, a thin wrapper over OpBuilder that
// creates keops formula ops (with inferred result types) at a fixed
// location. Derivative rules and importer expansions read like the math.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_IR_FORMULABUILDER_H
#define KEOPS_DIALECT_KEOPS_IR_FORMULABUILDER_H

#include "keops/Dialect/KeOps/IR/KeOps.h"

namespace mlir::keops {

class FormulaBuilder {
public:
  FormulaBuilder(OpBuilder &builder, Location loc) : b(builder), loc(loc) {}

  OpBuilder &getBuilder() { return b; }

  static int64_t dimOf(Value v) {
    return llvm::cast<VectorType>(v.getType()).getDimSize(0);
  }
  static FloatType elementTypeOf(Value v) {
    return llvm::cast<FloatType>(
        llvm::cast<VectorType>(v.getType()).getElementType());
  }

  /// A constant vector of `dim` components of the element type of `like`.
  Value constant(Value like, llvm::ArrayRef<double> values) {
    auto type = VectorType::get({static_cast<int64_t>(values.size())},
                                elementTypeOf(like));
    llvm::SmallVector<Attribute> elements;
    for (double value : values)
      elements.push_back(b.getFloatAttr(type.getElementType(), value));
    return ConstantOp::create(
        b, loc, type,
        llvm::cast<DenseFPElementsAttr>(DenseElementsAttr::get(type, elements)));
  }
  Value splat(Value like, int64_t dim, double value) {
    return constant(like, llvm::SmallVector<double>(dim, value));
  }
  Value scalar(Value like, double value) { return constant(like, {value}); }
  /// The unit vector e_k of dimension `dim`.
  Value unit(Value like, int64_t dim, int64_t k) {
    llvm::SmallVector<double> values(dim, 0.0);
    values[k] = 1.0;
    return constant(like, values);
  }

  Value add(Value x, Value y) { return AddOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return SubOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return MulOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return DivOp::create(b, loc, x, y); }
  Value neg(Value x) { return NegOp::create(b, loc, x); }
  Value exp(Value x) { return ExpOp::create(b, loc, x); }
  Value log(Value x) { return LogOp::create(b, loc, x); }
  Value sqrt(Value x) { return SqrtOp::create(b, loc, x); }
  Value rsqrt(Value x) { return RsqrtOp::create(b, loc, x); }
  Value square(Value x) { return SquareOp::create(b, loc, x); }
  Value inv(Value x) { return InvOp::create(b, loc, x); }
  Value sign(Value x) { return SignOp::create(b, loc, x); }
  Value step(Value x) { return StepOp::create(b, loc, x); }
  Value sin(Value x) { return SinOp::create(b, loc, x); }
  Value cos(Value x) { return CosOp::create(b, loc, x); }
  Value floor(Value x) { return FloorOp::create(b, loc, x); }
  Value atan2(Value y, Value x) { return Atan2Op::create(b, loc, y, x); }
  Value sinxdivx(Value x) { return SinXDivXOp::create(b, loc, x); }
  Value diffClampInt(Value x, int64_t low, int64_t high) {
    return DiffClampIntOp::create(b, loc, x, static_cast<uint64_t>(low),
                                  static_cast<uint64_t>(high));
  }
  Value pow(Value x, int64_t n) {
    return PowOp::create(b, loc, x, static_cast<uint64_t>(n));
  }
  Value ifElse(Value c, Value x, Value y) {
    return IfElseOp::create(b, loc, c, x, y);
  }
  Value sum(Value x) { return SumOp::create(b, loc, x); }
  Value minOf(Value x) { return MinOp::create(b, loc, x); }
  Value scalProd(Value x, Value y) { return ScalProdOp::create(b, loc, x, y); }
  Value sqNorm2(Value x) { return SqNorm2Op::create(b, loc, x); }
  Value elem(Value x, int64_t k) {
    return ElemOp::create(b, loc, x, static_cast<uint64_t>(k));
  }
  Value extract(Value x, int64_t start, int64_t length) {
    return ExtractOp::create(b, loc, x, static_cast<uint64_t>(start),
                             static_cast<uint64_t>(length));
  }
  Value concat(Value x, Value y) { return ConcatOp::create(b, loc, x, y); }
  Value tensorDot(Value x, Value y, const TensorDotAttributes &a) {
    return TensorDotOp::create(b, loc, x, y, a.shapeA, a.shapeB, a.axesA,
                               a.axesB, a.permute);
  }
  Value grad(Value f, Value v, Value e) {
    return GradOp::create(b, loc, f, v, e);
  }
  /// Diff(F, v, u): the derivative of `f` with respect to `v` along `u` (of
  /// the dimension of `v`), J u, one keops.grad per component of `f` (the
  /// rows of the Jacobian).
  Value diff(Value f, Value v, Value u) {
    Value result;
    for (int64_t k = 0; k < dimOf(f); ++k) {
      Value component = scalProd(grad(f, v, unit(f, dimOf(f), k)), u);
      result = result ? concat(result, component) : component;
    }
    return result;
  }

  /// `x` placed at components [start, start + dim(x)) of a zero vector of
  /// dimension `dim`.
  Value inject(Value x, int64_t start, int64_t dim) {
    Value result = x;
    if (start > 0)
      result = concat(splat(x, start, 0.0), result);
    int64_t after = dim - start - dimOf(x);
    if (after > 0)
      result = concat(result, splat(x, after, 0.0));
    return result;
  }
  /// `x` (dimension 1) repeated to dimension `dim`.
  Value broadcastTo(Value x, int64_t dim) {
    return dimOf(x) == dim ? x : mul(x, splat(x, dim, 1.0));
  }

private:
  OpBuilder &b;
  Location loc;
};

} // namespace mlir::keops

#endif // KEOPS_DIALECT_KEOPS_IR_FORMULABUILDER_H
