//===- FormulaOpTable.cpp - KeOps op names to keops ops ---------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the table of FormulaOpTable.h. Ops are built with
// their own type inference, whose diagnostic becomes the import error, so
// the importer and the verifiers agree on every dimension rule.
//
//===----------------------------------------------------------------------===//

#include "FormulaOpTable.h"

#include "keops/Dialect/KeOps/IR/KeOps.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace mlir::keops;
using namespace mlir::keops::formula;

/// Builds OpT from `args` with an inferred result type; a failed inference
/// returns failure with its diagnostic in `error`.
template <typename OpT, typename... Args>
static FailureOr<Value> buildInferred(OpBuilder &builder, Location loc,
                                      std::string &error, Args &&...args) {
  MLIRContext *ctx = builder.getContext();
  OperationState state(loc, OpT::getOperationName());
  OpT::build(builder, state, Type(), std::forward<Args>(args)...);
  state.types.clear();
  llvm::SmallVector<Type, 1> types;
  ScopedDiagnosticHandler capture(ctx, [&](Diagnostic &diag) {
    error = diag.str();
    return success();
  });
  if (failed(OpT::inferReturnTypes(ctx, loc, state.operands,
                                   state.attributes.getDictionary(ctx),
                                   state.getRawProperties(), state.regions,
                                   types)))
    return failure();
  state.addTypes(types);
  return builder.create(state)->getResult(0);
}

template <typename OpT>
static OpSignature unary() {
  return {1, 0, [](OpBuilder &b, Location loc, const OpArguments &a,
                   std::string &error) {
            return buildInferred<OpT>(b, loc, error, a.formulas[0]);
          }};
}

template <typename OpT>
static OpSignature binary() {
  return {2, 0, [](OpBuilder &b, Location loc, const OpArguments &a,
                   std::string &error) {
            return buildInferred<OpT>(b, loc, error, a.formulas[0],
                                      a.formulas[1]);
          }};
}

template <typename OpT>
static OpSignature ternary() {
  return {3, 0, [](OpBuilder &b, Location loc, const OpArguments &a,
                   std::string &error) {
            return buildInferred<OpT>(b, loc, error, a.formulas[0],
                                      a.formulas[1], a.formulas[2]);
          }};
}

static const llvm::StringMap<OpSignature> &formulaOps() {
  static const llvm::StringMap<OpSignature> table = {
      // Arithmetic (also the infix operators + - * / and unary -).
      {"Add", binary<AddOp>()},
      {"Subtract", binary<SubOp>()},
      {"Mult", binary<MulOp>()},
      {"Divide", binary<DivOp>()},
      {"Minus", unary<NegOp>()},
      {"Square", unary<SquareOp>()},
      {"Inv", unary<InvOp>()},
      {"Sqrt", unary<SqrtOp>()},
      {"Rsqrt", unary<RsqrtOp>()},
      {"Abs", unary<AbsOp>()},
      {"Sign", unary<SignOp>()},
      {"Powf", binary<PowfOp>()},
      {"Pow",
       {1, 1,
        [](OpBuilder &b, Location loc, const OpArguments &a,
           std::string &error) {
          return buildInferred<PowOp>(b, loc, error, a.formulas[0],
                                      static_cast<uint64_t>(a.integers[0]));
        }}},
      // Transcendental and piecewise functions.
      {"Exp", unary<ExpOp>()},
      {"Log", unary<LogOp>()},
      {"Sin", unary<SinOp>()},
      {"Cos", unary<CosOp>()},
      {"Step", unary<StepOp>()},
      {"ReLU", unary<ReluOp>()},
      {"IfElse", ternary<IfElseOp>()},
      {"Clamp", ternary<ClampOp>()},
      // Vector ops.
      {"Sum", unary<SumOp>()},
      {"SqNorm2", unary<SqNorm2Op>()},
      {"Norm2", unary<Norm2Op>()},
      {"Normalize", unary<NormalizeOp>()},
      {"Min", unary<MinOp>()},
      {"Max", unary<MaxOp>()},
      {"ArgMin", unary<ArgMinOp>()},
      {"ArgMax", unary<ArgMaxOp>()},
      {"Scalprod", binary<ScalProdOp>()},
      {"SqDist", binary<SqDistOp>()},
      // Indexing and shaping.
      {"Concat", binary<ConcatOp>()},
      {"Elem",
       {1, 1,
        [](OpBuilder &b, Location loc, const OpArguments &a,
           std::string &error) {
          return buildInferred<ElemOp>(b, loc, error, a.formulas[0],
                                       static_cast<uint64_t>(a.integers[0]));
        }}},
      {"Extract",
       {1, 2,
        [](OpBuilder &b, Location loc, const OpArguments &a,
           std::string &error) {
          return buildInferred<ExtractOp>(b, loc, error, a.formulas[0],
                                          static_cast<uint64_t>(a.integers[0]),
                                          static_cast<uint64_t>(a.integers[1]));
        }}},
  };
  return table;
}

const OpSignature *mlir::keops::formula::lookupFormulaOp(llvm::StringRef name) {
  auto it = formulaOps().find(name);
  return it == formulaOps().end() ? nullptr : &it->second;
}
