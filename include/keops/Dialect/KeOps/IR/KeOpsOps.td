//===- KeOpsOps.td - Operations of the keops dialect -------*- tablegen -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// Declares keops.reduce, its terminator keops.yield, and the formula ops that
// its region is made of (the tiled form, keops.schedule, is in
// KeOpsScheduleOps.td). Formula ops are grouped in families (elementwise
// unary, broadcasting binary, component reductions, ...) so that each op is a
// few lines: its mnemonic and its float64 semantics.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_IR_KEOPSOPS_TD
#define KEOPS_DIALECT_KEOPS_IR_KEOPSOPS_TD

include "keops/Dialect/KeOps/IR/KeOpsBase.td"
include "keops/Dialect/KeOps/IR/KeOpsInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Formula op families
//===----------------------------------------------------------------------===//

// The base of every formula op: pure, folded through FormulaOpInterface
// (constant operands are evaluated in float64; algebraic identities are
// applied), result type inferred by `inferBody`, float64 semantics given by
// `evaluateBody` (C++ statements filling `result` from `operands`) and code
// generation by `lanesBody` (the same with LaneEmitter `e` on components).
class KeOps_FormulaOp<string mnemonic, list<Trait> traits, code inferBody,
                      code evaluateBody, code lanesBody>
    : KeOps_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor,
        DeclareOpInterfaceMethods<KeOps_FormulaOpInterface>])> {
  let results = (outs KeOps_FormulaVector:$result);
  let hasFolder = 1;
  let extraClassDeclaration = [{
    /// Emits the op with the lane emitter `e` (keops::LaneEmitter of the
    /// kernel generators, which alone instantiate this): `operands[k]`
    /// holds the components of operand k (each a vector of lanes or a
    /// scalar); the components of the result are appended to `result`.
    template <typename Emitter>
    void emitLanes(Emitter &e,
        ::llvm::ArrayRef<::llvm::SmallVector<::mlir::Value, 4>> operands,
        ::llvm::SmallVector<::mlir::Value, 4> &result) {
      using ::mlir::Value;
      using Components [[maybe_unused]] =
          ::llvm::SmallVector<::mlir::Value, 4>;
      (void)e;
  }] # lanesBody # [{
    }
  }];
  let extraClassDefinition = [{
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor adaptor) {
      return ::mlir::keops::foldFormulaOp(getOperation(),
                                          adaptor.getOperands());
    }
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context,
        ::std::optional<::mlir::Location> location, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &inferredReturnTypes) {
  }] # inferBody # [{
    }
    void $cppClass::evaluate(
        ::llvm::ArrayRef<::llvm::SmallVector<double>> operands,
        ::llvm::SmallVectorImpl<double> &result) {
      namespace s = ::mlir::keops::scalar;
      (void)operands;
  }] # evaluateBody # [{
    }
  }];
}

// Infers the result type with a dimension rule of ShapeRules.h applied to the
// operand dimensions `d`.
class KeOps_InferWith<string rule> {
  code body = [{
      return ::mlir::keops::inferFormulaType(location, adaptor.getOperands(),
          [&](::llvm::ArrayRef<int64_t> d) { return }] # rule # [{; },
          inferredReturnTypes);
  }];
}

/// Component k of the result depends only on component k of the operands.
def KeOps_Componentwise : NativeOpTrait<"Componentwise"> {
  let cppNamespace = "::mlir::OpTrait::keops";
}
/// A vector<1> result: the sum over k of the op on component k alone.
def KeOps_SumOfComponents : NativeOpTrait<"SumOfComponents"> {
  let cppNamespace = "::mlir::OpTrait::keops";
}

/// f(x) applied to every component: vector<D> -> vector<D>.
class KeOps_UnaryOp<string mnemonic, string scalarExpr, string laneExpr,
                    list<Trait> traits = []>
    : KeOps_FormulaOp<mnemonic, !listconcat(traits, [KeOps_Componentwise]),
        KeOps_InferWith<"d[0]">.body,
        "for (double x : operands[0]) result.push_back(" # scalarExpr # ");",
        "for (Value x : operands[0]) result.push_back(" # laneExpr # ");"> {
  let description = [{
    Applies the scalar function to every component of its operand.
    ```mlir
    %r = keops.}] # mnemonic # [{ %x : vector<3xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$operand);
  let assemblyFormat = "$operand attr-dict `:` type($operand)";
}

/// f(a, b) per component, with KeOps's dim-1 broadcasting.
class KeOps_BinaryOp<string mnemonic, string scalarExpr, string laneExpr,
                     list<Trait> traits = []>
    : KeOps_FormulaOp<mnemonic, !listconcat(traits, [KeOps_Componentwise]),
        KeOps_InferWith<"::mlir::keops::rules::broadcastDim(d)">.body,
        [{ s::broadcast(operands, result, [](::llvm::ArrayRef<double> v) {
             double a = v[0], b = v[1]; return }] # scalarExpr # [{; }); }],
        [{ result = e.broadcast(operands, [&](::llvm::ArrayRef<Value> v) {
             Value a = v[0], b = v[1]; return }] # laneExpr # [{; }); }]> {
  let description = [{
    Applies the scalar function componentwise. An operand of dimension 1
    broadcasts against the other; otherwise dimensions must be equal.
    ```mlir
    %r = keops.}] # mnemonic # [{ %a, %b : vector<3xf32>, vector<1xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$lhs, KeOps_FormulaVector:$rhs);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

/// f(a, b, c) per component, with KeOps's dim-1 broadcasting.
class KeOps_TernaryOp<string mnemonic, string scalarExpr, string laneExpr>
    : KeOps_FormulaOp<mnemonic, [KeOps_Componentwise],
        KeOps_InferWith<"::mlir::keops::rules::broadcastDim(d)">.body,
        [{ s::broadcast(operands, result, [](::llvm::ArrayRef<double> v) {
             double a = v[0], b = v[1], c = v[2]; return }] # scalarExpr #
        [{; }); }],
        [{ result = e.broadcast(operands, [&](::llvm::ArrayRef<Value> v) {
             Value a = v[0], b = v[1], c = v[2]; return }] # laneExpr #
        [{; }); }]> {
  let arguments = (ins KeOps_FormulaVector:$first, KeOps_FormulaVector:$second,
                       KeOps_FormulaVector:$third);
  let assemblyFormat = [{
    $first `,` $second `,` $third attr-dict `:`
    type($first) `,` type($second) `,` type($third)
  }];
}

/// A scalar computed from all components of one vector: vector<D> -> vector<1>.
class KeOps_ComponentReductionOp<string mnemonic, string vectorExpr,
                                 string laneExpr, list<Trait> traits = []>
    : KeOps_FormulaOp<mnemonic, traits, KeOps_InferWith<"1">.body,
        "result.push_back(" # vectorExpr # ");",
        "result.push_back(" # laneExpr # ");"> {
  let description = [{
    Reduces the components of its operand to a scalar (a vector<1>).
    ```mlir
    %r = keops.}] # mnemonic # [{ %x : vector<3xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$operand);
  let assemblyFormat = "$operand attr-dict `:` type($operand)";
}

//===----------------------------------------------------------------------===//
// Elementwise unary ops
//===----------------------------------------------------------------------===//

def KeOps_NegOp : KeOps_UnaryOp<"neg", "-x", "e.neg(x)"> {
  let summary = "negation (KeOps Minus, unary -)";
}
def KeOps_ExpOp : KeOps_UnaryOp<"exp", "std::exp(x)", "e.exp(x)"> {
  let summary = "exponential";
}
def KeOps_LogOp : KeOps_UnaryOp<"log", "std::log(x)", "e.log(x)"> {
  let summary = "natural logarithm";
}
def KeOps_SqrtOp : KeOps_UnaryOp<"sqrt", "std::sqrt(x)", "e.sqrt(x)"> {
  let summary = "square root";
}
def KeOps_RsqrtOp : KeOps_UnaryOp<"rsqrt", "s::rsqrt(x)", "e.rsqrt(x)"> {
  let summary = "inverse square root, with KeOps's convention rsqrt(0) = 0";
}
def KeOps_SquareOp : KeOps_UnaryOp<"square", "x * x", "e.mul(x, x)"> {
  let summary = "square";
}
def KeOps_InvOp : KeOps_UnaryOp<"inv", "1.0 / x", "e.div(e.constant(x, 1.0), x)"> {
  let summary = "reciprocal 1/x";
}
def KeOps_AbsOp : KeOps_UnaryOp<"abs", "std::fabs(x)", "e.abs(x)"> {
  let summary = "absolute value";
}
def KeOps_SignOp : KeOps_UnaryOp<"sign", "s::sign(x)", "e.sign(x)"> {
  let summary = "sign: -1, 0 or 1";
}
def KeOps_StepOp : KeOps_UnaryOp<"step", "s::step(x)", "e.step(x)"> {
  let summary = "Heaviside step: 0 if x < 0, else 1";
}
def KeOps_ReluOp : KeOps_UnaryOp<"relu", "s::relu(x)", "e.relu(x)"> {
  let summary = "rectified linear unit max(x, 0)";
}
def KeOps_SinOp : KeOps_UnaryOp<"sin", "std::sin(x)", "e.sin(x)"> {
  let summary = "sine";
}
def KeOps_CosOp : KeOps_UnaryOp<"cos", "std::cos(x)", "e.cos(x)"> {
  let summary = "cosine";
}

def KeOps_XLogXOp : KeOps_UnaryOp<"xlogx", "s::xlogx(x)", "e.xlogx(x)"> {
  let summary = "x log(x), with the value 0 at 0 (KeOps XLogX)";
}
def KeOps_AsinOp : KeOps_UnaryOp<"asin", "std::asin(x)", "e.asin(x)"> {
  let summary = "arcsine";
}
def KeOps_AcosOp : KeOps_UnaryOp<"acos", "std::acos(x)", "e.acos(x)"> {
  let summary = "arccosine";
}
def KeOps_AtanOp : KeOps_UnaryOp<"atan", "std::atan(x)", "e.atan(x)"> {
  let summary = "arctangent";
}
def KeOps_SinXDivXOp : KeOps_UnaryOp<"sinxdivx", "s::sinxdivx(x)",
                                     "e.sinxdivx(x)"> {
  let summary = "sin(x)/x, with the value 1 at 0 (KeOps SinXDivX)";
}
def KeOps_FloorOp : KeOps_UnaryOp<"floor", "std::floor(x)", "e.floor(x)"> {
  let summary = "largest integer not greater than x";
}

def KeOps_RoundOp : KeOps_FormulaOp<"round", [], KeOps_InferWith<"d[0]">.body, [{
      for (double x : operands[0])
        result.push_back(s::roundTo(x, static_cast<int64_t>(getDecimals())));
    }], [{
      for (Value x : operands[0])
        result.push_back(e.roundTo(x, static_cast<int64_t>(getDecimals())));
    }]> {
  let summary = "rounding to a number of decimals (KeOps Round)";
  let description = [{
    round(x * 10^d) / 10^d, halves away from zero.
    ```mlir
    %r = keops.round %x, 2 : vector<3xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$operand, I64Attr:$decimals);
  let assemblyFormat = "$operand `,` $decimals attr-dict `:` type($operand)";
}

def KeOps_ClampIntOp : KeOps_FormulaOp<"clamp_int", [],
    KeOps_InferWith<"d[0]">.body, [{
      for (double x : operands[0])
        result.push_back(s::minimum(s::maximum(x, double(int64_t(getLow()))),
                                    double(int64_t(getHigh()))));
    }], [{
      for (Value x : operands[0])
        result.push_back(e.min(e.max(x, e.constant(x, double(int64_t(getLow())))),
                               e.constant(x, double(int64_t(getHigh())))));
    }]> {
  let summary = "clamp to integer bounds (KeOps ClampInt)";
  let description = [{
    ```mlir
    %r = keops.clamp_int %x, -1, 2 : vector<3xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$operand, I64Attr:$low,
                       I64Attr:$high);
  let assemblyFormat =
      "$operand `,` $low `,` $high attr-dict `:` type($operand)";
}

def KeOps_DiffClampIntOp : KeOps_FormulaOp<"diff_clamp_int", [],
    KeOps_InferWith<"d[0]">.body, [{
      for (double x : operands[0])
        result.push_back(x > double(int64_t(getLow())) &&
                         x < double(int64_t(getHigh())) ? 1.0 : 0.0);
    }], [{
      for (Value x : operands[0])
        result.push_back(e.mul(
            e.indicator(e.greaterThan(x, e.constant(x, double(int64_t(getLow()))))),
            e.indicator(e.lessThan(x, e.constant(x, double(int64_t(getHigh())))))));
    }]> {
  let summary = "derivative of clamp_int: 1 strictly inside the bounds";
  let description = [{
    ```mlir
    %r = keops.diff_clamp_int %x, -1, 2 : vector<3xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$operand, I64Attr:$low,
                       I64Attr:$high);
  let assemblyFormat =
      "$operand `,` $low `,` $high attr-dict `:` type($operand)";
}

def KeOps_PowOp : KeOps_FormulaOp<"pow", [], KeOps_InferWith<"d[0]">.body, [{
      for (double x : operands[0])
        result.push_back(s::powi(x, static_cast<int64_t>(getExponent())));
    }], [{
      for (Value x : operands[0])
        result.push_back(e.powi(x, static_cast<int64_t>(getExponent())));
    }]> {
  let summary = "integer power x^n (KeOps Pow)";
  let description = [{
    Raises every component to a constant integer power, which may be
    negative or zero.
    ```mlir
    %r = keops.pow %x, 3 : vector<3xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$operand, I64Attr:$exponent);
  let assemblyFormat = "$operand `,` $exponent attr-dict `:` type($operand)";
}

//===----------------------------------------------------------------------===//
// Broadcasting binary and ternary ops
//===----------------------------------------------------------------------===//

def KeOps_AddOp : KeOps_BinaryOp<"add", "a + b", "e.add(a, b)", [Commutative]> {
  let summary = "addition";
}
def KeOps_SubOp : KeOps_BinaryOp<"sub", "a - b", "e.sub(a, b)"> {
  let summary = "subtraction";
}
def KeOps_MulOp : KeOps_BinaryOp<"mul", "a * b", "e.mul(a, b)", [Commutative]> {
  let summary = "multiplication";
}
def KeOps_DivOp : KeOps_BinaryOp<"div", "a / b", "e.div(a, b)"> {
  let summary = "division";
}
def KeOps_PowfOp : KeOps_BinaryOp<"powf", "std::exp(b * std::log(a))",
    "e.exp(e.mul(b, e.log(a)))"> {
  let summary = "real power a^b = exp(b log a) (KeOps Powf)";
}

def KeOps_Atan2Op : KeOps_BinaryOp<"atan2", "std::atan2(a, b)",
                                  "e.atan2(a, b)"> {
  let summary = "atan2(y, x): the angle of (x, y)";
}
def KeOps_EqualOp : KeOps_BinaryOp<"equal", "a == b ? 1.0 : 0.0",
    "e.indicator(e.compare(::mlir::arith::CmpFPredicate::OEQ, a, b))"> {
  let summary = "1 where equal, else 0 (KeOps Equal)";
}
def KeOps_NotEqualOp : KeOps_BinaryOp<"not_equal", "a != b ? 1.0 : 0.0",
    "e.indicator(e.compare(::mlir::arith::CmpFPredicate::UNE, a, b))"> {
  let summary = "1 where different, else 0 (KeOps NotEqual)";
}
def KeOps_LessThanOp : KeOps_BinaryOp<"less_than", "a < b ? 1.0 : 0.0",
    "e.indicator(e.lessThan(a, b))"> {
  let summary = "1 where a < b, else 0 (KeOps LessThan)";
}
def KeOps_LessOrEqualOp : KeOps_BinaryOp<"less_or_equal", "a <= b ? 1.0 : 0.0",
    "e.indicator(e.compare(::mlir::arith::CmpFPredicate::OLE, a, b))"> {
  let summary = "1 where a <= b, else 0 (KeOps LessOrEqual)";
}

def KeOps_ModOp : KeOps_TernaryOp<"mod", "a - b * std::floor((a - c) / b)",
    "e.sub(a, e.mul(b, e.floor(e.div(e.sub(a, c), b))))"> {
  let summary = "x - n floor((x - offset) / n) (KeOps Mod)";
  let description = [{
    `keops.mod %x, %n, %offset` maps x into [offset, offset + n),
    componentwise with dim-1 broadcasting.
    ```mlir
    %r = keops.mod %x, %n, %o : vector<3xf32>, vector<1xf32>, vector<1xf32>
    ```
  }];
}

def KeOps_IfElseOp : KeOps_TernaryOp<"ifelse", "a >= 0.0 ? b : c",
    "e.select(e.lessThan(a, e.constant(a, 0.0)), c, b)"> {
  let summary = "selection: second operand where first >= 0, else third";
  let description = [{
    `keops.ifelse %f, %a, %b` is `%a` where `%f >= 0` and `%b` elsewhere,
    componentwise, with dim-1 broadcasting (KeOps IfElse).
    ```mlir
    %r = keops.ifelse %f, %a, %b : vector<1xf32>, vector<3xf32>, vector<3xf32>
    ```
  }];
}
def KeOps_ClampOp : KeOps_TernaryOp<"clamp", "s::minimum(s::maximum(a, b), c)",
    "e.min(e.max(a, b), c)"> {
  let summary = "clamp the first operand to [second, third]";
  let description = [{
    `keops.clamp %x, %lo, %hi` is min(max(x, lo), hi) componentwise, with
    dim-1 broadcasting (KeOps Clamp).
    ```mlir
    %r = keops.clamp %x, %lo, %hi : vector<3xf32>, vector<1xf32>, vector<1xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Vector ops: norms, products, component reductions
//===----------------------------------------------------------------------===//

def KeOps_SumOp : KeOps_ComponentReductionOp<"sum", "s::sum(operands[0])",
    "e.sum(operands[0])", [KeOps_SumOfComponents]> {
  let summary = "sum of the components";
}
def KeOps_SqNorm2Op : KeOps_ComponentReductionOp<"sqnorm2",
    "s::dot(operands[0], operands[0])", "e.dot(operands[0], operands[0])",
    [KeOps_SumOfComponents]> {
  let summary = "squared Euclidean norm";
}
def KeOps_Norm2Op : KeOps_ComponentReductionOp<"norm2",
    "std::sqrt(s::dot(operands[0], operands[0]))",
    "e.sqrt(e.dot(operands[0], operands[0]))"> {
  let summary = "Euclidean norm";
}
def KeOps_MinOp : KeOps_ComponentReductionOp<"min", "s::minOf(operands[0])",
    "e.minOf(operands[0])"> {
  let summary = "smallest component (KeOps Min)";
}
def KeOps_MaxOp : KeOps_ComponentReductionOp<"max", "s::maxOf(operands[0])",
    "e.maxOf(operands[0])"> {
  let summary = "largest component (KeOps Max)";
}
def KeOps_ArgMinOp : KeOps_ComponentReductionOp<"argmin",
    "s::argMinOf(operands[0])", "e.argMinOf(operands[0])"> {
  let summary = "index of the smallest component, as a float (KeOps ArgMin)";
}
def KeOps_ArgMaxOp : KeOps_ComponentReductionOp<"argmax",
    "s::argMaxOf(operands[0])", "e.argMaxOf(operands[0])"> {
  let summary = "index of the largest component, as a float (KeOps ArgMax)";
}

def KeOps_ScalProdOp : KeOps_FormulaOp<"scalprod",
    [Commutative, KeOps_SumOfComponents],
    KeOps_InferWith<"::mlir::keops::rules::sameDim(d)">.body,
    "result.push_back(s::dot(operands[0], operands[1]));",
    "result.push_back(e.dot(operands[0], operands[1]));"> {
  let summary = "scalar product of two vectors of the same dimension";
  let description = [{
    The scalar product (KeOps Scalprod, `(a | b)` in formulas).
    ```mlir
    %r = keops.scalprod %a, %b : vector<3xf32>, vector<3xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$lhs, KeOps_FormulaVector:$rhs);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

def KeOps_SqDistOp : KeOps_FormulaOp<"sqdist",
    [Commutative, KeOps_SumOfComponents],
    KeOps_InferWith<"::mlir::keops::rules::broadcastToScalar(d)">.body,
    "result.push_back(s::sqDist(operands[0], operands[1]));", [{
      Components diff = e.broadcast(operands, [&](::llvm::ArrayRef<Value> v) {
        return e.sub(v[0], v[1]);
      });
      result.push_back(e.dot(diff, diff));
    }]> {
  let summary = "squared Euclidean distance |a - b|^2";
  let description = [{
    The squared distance between two vectors (KeOps SqDist); a dimension-1
    operand broadcasts.
    ```mlir
    %r = keops.sqdist %x, %y : vector<3xf32>, vector<3xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$lhs, KeOps_FormulaVector:$rhs);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

def KeOps_NormalizeOp : KeOps_FormulaOp<"normalize", [],
    KeOps_InferWith<"d[0]">.body, "s::normalize(operands[0], result);", [{
      Value scale = e.rsqrt(e.dot(operands[0], operands[0]));
      for (Value x : operands[0])
        result.push_back(e.mul(x, scale));
    }]> {
  let summary = "the vector divided by its norm (0 stays 0)";
  let description = [{
    `x * rsqrt(sqnorm2(x))` with rsqrt(0) = 0 (KeOps Normalize).
    ```mlir
    %r = keops.normalize %x : vector<3xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$operand);
  let assemblyFormat = "$operand attr-dict `:` type($operand)";
}

//===----------------------------------------------------------------------===//
// Indexing and shaping
//===----------------------------------------------------------------------===//

def KeOps_ElemOp : KeOps_FormulaOp<"elem", [],
    KeOps_InferWith<"::mlir::keops::rules::elemDim(d[0], "
                    "adaptor.getIndex())">.body,
    "result.push_back(operands[0][getIndex()]);",
    "result.push_back(operands[0][getIndex()]);"> {
  let summary = "one component of a vector (KeOps Elem)";
  let description = [{
    ```mlir
    %r = keops.elem %x[1] : vector<3xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$operand,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$index);
  let assemblyFormat = "$operand `[` $index `]` attr-dict `:` type($operand)";
}

def KeOps_ExtractOp : KeOps_FormulaOp<"extract", [],
    KeOps_InferWith<"::mlir::keops::rules::extractDim(d[0], "
                    "adaptor.getStart(), adaptor.getLength())">.body, [{
      ::llvm::ArrayRef<double> x = operands[0];
      result.append(x.begin() + getStart(),
                    x.begin() + getStart() + getLength());
    }], [{
      result.append(operands[0].begin() + getStart(),
                    operands[0].begin() + getStart() + getLength());
    }]> {
  let summary = "a contiguous slice of components (KeOps Extract)";
  let description = [{
    Components `start` to `start + length - 1` of the operand.
    ```mlir
    %r = keops.extract %x[1, 2] : vector<3xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$operand,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$start,
                       ConfinedAttr<I64Attr, [IntPositive]>:$length);
  let assemblyFormat =
      "$operand `[` $start `,` $length `]` attr-dict `:` type($operand)";
}

def KeOps_ConcatOp : KeOps_FormulaOp<"concat", [],
    KeOps_InferWith<"d[0] + d[1]">.body, [{
      result.append(operands[0].begin(), operands[0].end());
      result.append(operands[1].begin(), operands[1].end());
    }], [{
      result.append(operands[0].begin(), operands[0].end());
      result.append(operands[1].begin(), operands[1].end());
    }]> {
  let summary = "concatenation of two vectors (KeOps Concat)";
  let description = [{
    ```mlir
    %r = keops.concat %a, %b : vector<1xf32>, vector<3xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$lhs, KeOps_FormulaVector:$rhs);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

def KeOps_OneHotOp : KeOps_FormulaOp<"one_hot", [],
    KeOps_InferWith<"::mlir::keops::rules::oneHotDim(d[0], "
                    "adaptor.getDim())">.body, [{
      for (int64_t k = 0; k < static_cast<int64_t>(getDim()); ++k)
        result.push_back(std::round(operands[0][0]) == double(k) ? 1.0 : 0.0);
    }], [{
      Value rounded = e.round(operands[0][0]);
      for (int64_t k = 0; k < static_cast<int64_t>(getDim()); ++k)
        result.push_back(e.indicator(e.compare(
            ::mlir::arith::CmpFPredicate::OEQ, rounded,
            e.constant(rounded, double(k)))));
    }]> {
  let summary = "one-hot vector of a rounded scalar (KeOps OneHot)";
  let description = [{
    The vector of dimension `dim` with 1 at index round(f), 0 elsewhere.
    ```mlir
    %r = keops.one_hot %f, 4 : vector<1xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$operand,
                       ConfinedAttr<I64Attr, [IntPositive]>:$dim);
  let assemblyFormat = "$operand `,` $dim attr-dict `:` type($operand)";
}

//===----------------------------------------------------------------------===//
// Tensors stored row-major in vectors
//===----------------------------------------------------------------------===//

def KeOps_TensorDotOp : KeOps_FormulaOp<"tensordot", [], [{
      ::mlir::keops::TensorDotAttributes attributes{
          ::llvm::to_vector(adaptor.getShapeA()),
          ::llvm::to_vector(adaptor.getShapeB()),
          ::llvm::to_vector(adaptor.getAxesA()),
          ::llvm::to_vector(adaptor.getAxesB()),
          ::llvm::to_vector(adaptor.getPermute())};
      return ::mlir::keops::inferFormulaType(location, adaptor.getOperands(),
          [&](::llvm::ArrayRef<int64_t> d) -> ::llvm::Expected<int64_t> {
            auto map = ::mlir::keops::TensorDotMap::get(attributes, d[0], d[1]);
            if (!map)
              return map.takeError();
            return map->outDim();
          }, inferredReturnTypes);
    }], [{
      ::mlir::keops::TensorDotMap map = getMap();
      for (int64_t o = 0; o < map.outDim(); ++o) {
        double total = 0.0;
        for (int64_t c = 0; c < map.contractedDim(); ++c)
          total += operands[0][map.index(0, o, c)] *
                   operands[1][map.index(1, o, c)];
        result.push_back(total);
      }
    }], ""> {
  let summary = "sum of products over paired axes of two tensors (KeOps "
                "TensorDot, MatVecMult, VecMatMult)";
  let description = [{
    The operands hold tensors of shapes `shape_a` and `shape_b`, row-major.
    The result sums the products over the paired axes `axes_a[t]` and
    `axes_b[t]`; its axes are the other axes of a, then those of b, axis t
    going to axis `permute[t]` (TensorDotMap.h). Kernels compute it
    unrolled, or as loops over the components when it has many products
    (docs/cpu-pipeline.md), so the code does not grow with the shapes.
    ```mlir
    %r = keops.tensordot %m, %v shapes [2, 3], [3] axes [1], [0]
        permute [0] : vector<6xf32>, vector<3xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$lhs, KeOps_FormulaVector:$rhs,
                       DenseI64ArrayAttr:$shape_a, DenseI64ArrayAttr:$shape_b,
                       DenseI64ArrayAttr:$axes_a, DenseI64ArrayAttr:$axes_b,
                       DenseI64ArrayAttr:$permute);
  let assemblyFormat = [{
    $lhs `,` $rhs `shapes` $shape_a `,` $shape_b `axes` $axes_a `,` $axes_b
    `permute` $permute attr-dict `:` type($lhs) `,` type($rhs)
  }];
  let extraClassDeclaration = [{
    /// The op's attributes.
    ::mlir::keops::TensorDotAttributes getAttributes() {
      return {::llvm::to_vector(getShapeA()), ::llvm::to_vector(getShapeB()),
              ::llvm::to_vector(getAxesA()), ::llvm::to_vector(getAxesB()),
              ::llvm::to_vector(getPermute())};
    }
    /// How the op reads its operands (the op is verified).
    ::mlir::keops::TensorDotMap getMap() {
      auto dim = [](::mlir::Value v) {
        return ::llvm::cast<::mlir::VectorType>(v.getType()).getDimSize(0);
      };
      return ::llvm::cantFail(::mlir::keops::TensorDotMap::get(
          getAttributes(), dim(getLhs()), dim(getRhs())));
    }
    /// Emits the op unrolled with the lane emitter `e` (see
    /// KeOps_FormulaOp): one multiply-add per product.
    template <typename Emitter>
    void emitLanes(Emitter &e,
        ::llvm::ArrayRef<::llvm::SmallVector<::mlir::Value, 4>> operands,
        ::llvm::SmallVector<::mlir::Value, 4> &result) {
      ::mlir::keops::TensorDotMap map = getMap();
      for (int64_t o = 0; o < map.outDim(); ++o) {
        ::mlir::Value total;
        for (int64_t c = 0; c < map.contractedDim(); ++c) {
          ::mlir::Value term = e.mul(operands[0][map.index(0, o, c)],
                                     operands[1][map.index(1, o, c)]);
          total = total ? e.add(total, term) : term;
        }
        result.push_back(total);
      }
    }
  }];
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def KeOps_ConstantOp : KeOps_Op<"constant", [ConstantLike, Pure,
    AllTypesMatch<["value", "result"]>,
    DeclareOpInterfaceMethods<KeOps_FormulaOpInterface>]> {
  let summary = "a constant vector (KeOps IntCst, RatCst, Zero)";
  let description = [{
    A constant formula value. Integer constants `IntCst(n)` and rational
    constants `Rat(p, q)` of KeOps formulas import as dimension-1 constants.
    ```mlir
    %two = keops.constant dense<2.0> : vector<1xf32>
    %v = keops.constant dense<[1.0, 0.5, 0.0]> : vector<3xf64>
    ```
  }];
  let arguments = (ins KeOps_DenseFPVectorAttr:$value);
  let results = (outs KeOps_FormulaVector:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
  let extraClassDeclaration = [{
    /// Emits the constant's components with the lane emitter `e`.
    template <typename Emitter>
    void emitLanes(Emitter &e,
        ::llvm::ArrayRef<::llvm::SmallVector<::mlir::Value, 4>>,
        ::llvm::SmallVector<::mlir::Value, 4> &result) {
      for (const ::llvm::APFloat &value :
           getValue().getValues<::llvm::APFloat>())
        result.push_back(e.constant(value.convertToDouble()));
    }
  }];
}

//===----------------------------------------------------------------------===//
// Differentiation
//===----------------------------------------------------------------------===//

def KeOps_GradOp : KeOps_Op<"grad", [Pure, InferTypeOpAdaptor]> {
  let summary = "symbolic gradient of a formula with respect to a variable";
  let description = [{
    `keops.grad %f wrt %v along %e` is Grad(F, v, e) of KeOps: the gradient
    of the formula value `%f` with respect to the variable `%v` (a region
    argument of the enclosing keops.reduce), contracted with `%e`, which has
    the dimension of `%f`: (dF/dv)^T e, of the dimension of `%v`. The
    `keops-autodiff` pass expands it into formula ops by reverse-mode rules;
    grads of grads give higher orders.
    ```mlir
    %g = keops.grad %f wrt %x along %e : vector<1xf32>, vector<3xf32>, vector<1xf32>
    ```
  }];
  let arguments = (ins KeOps_FormulaVector:$formula,
                       KeOps_FormulaVector:$variable,
                       KeOps_FormulaVector:$gradient);
  let results = (outs KeOps_FormulaVector:$result);
  let assemblyFormat = [{
    $formula `wrt` $variable `along` $gradient attr-dict `:`
    type($formula) `,` type($variable) `,` type($gradient)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reduction
//===----------------------------------------------------------------------===//

def KeOps_ReduceOp : KeOps_Op<"reduce", [IsolatedFromAbove, Pure,
    SingleBlock]> {
  let summary = "lazy reduction of a symbolic formula over one index axis";
  let description = [{
    Evaluates the region for every pair (i, j) of rows of the variables and
    reduces the values over `axis` (`over j`: one output row per i, KeOps
    tag 0; `over i`: one output row per j, KeOps tag 1) with the reduction
    `kind`, never storing the N x M matrix.

    Each input is a variable with a category: `i` and `j` variables are
    `tensor<? x D x T>` (one row per index), `param` variables are
    `tensor<D x T>`. The region receives one row of each as
    `vector<D x T>` and yields the formula value; `logsumexp` may and
    `sumsoftmaxweight` must yield a second, weight value. A category with no
    variable has one row. Results, per kind, with F the formula of
    dimension D and G the weight of dimension E:

    | kind | results |
    |------|---------|
    | sum, min, max | `tensor<?xDxT>` |
    | logsumexp (F scalar) | `tensor<?x1xT>`, or `tensor<?xExT>` with a weight |
    | sumsoftmaxweight (F scalar) | `tensor<?xExT>` |
    | argmin, argmax | `tensor<?xDxi64>` |
    | min_argmin, max_argmax | `tensor<?xDxT>`, `tensor<?xDxi64>` |
    | kmin<K> | `tensor<?x(K*D)xT>` (k-major: row-major K x D) |
    | argkmin<K> | `tensor<?x(K*D)xi64>` |
    | kmin_argkmin<K> | both of the above |

    ```mlir
    %a = keops.reduce sum over j (%xi = %x : i, %yj = %y : j, %bj = %b : j)
        : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x1xf32>) -> tensor<?x1xf32> {
      %d = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
      %n = keops.neg %d : vector<1xf32>
      %e = keops.exp %n : vector<1xf32>
      %v = keops.mul %e, %bj : vector<1xf32>, vector<1xf32>
      keops.yield %v : vector<1xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs,
                       KeOps_ReductionKindAttr:$kind,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$k,
                       KeOps_AxisAttr:$axis,
                       KeOps_CategoryArrayAttr:$categories);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    // Creates the op and its entry block, whose arguments are the rows of the
    // inputs; the caller fills the block and ends it with keops.yield.
    OpBuilder<(ins "::mlir::TypeRange":$resultTypes,
                   "::mlir::ValueRange":$inputs, "ReductionKind":$kind,
                   "::std::optional<int64_t>":$k, "Axis":$axis,
                   "::llvm::ArrayRef<Category>":$categories)>
  ];
  let extraClassDeclaration = [{
    /// The types of the results for a reduction `kind` (with `k` for the
    /// k-kinds) of a formula of dimension `formulaDim` and, for weighted
    /// kinds, a weight of dimension `weightDim` (0: none), or failure with a
    /// message in `error`.
    static ::llvm::FailureOr<::llvm::SmallVector<::mlir::Type>>
    inferResultTypes(ReductionKind kind, ::std::optional<int64_t> k,
                     int64_t formulaDim, int64_t weightDim,
                     ::mlir::FloatType elementType, std::string &error);

    /// The row type (vector<D x T>) seen by the region for `inputType`.
    static ::mlir::VectorType getRowType(::mlir::RankedTensorType inputType);

    Category getCategory(unsigned index) {
      return ::llvm::cast<CategoryAttr>(getCategories()[index]).getValue();
    }
    /// The terminator of the region.
    YieldOp getYield();
  }];
}

def KeOps_YieldOp : KeOps_Op<"yield", [Pure, Terminator, ReturnLike,
    HasParent<"ReduceOp">]> {
  let summary = "ends a keops.reduce region with the formula value(s)";
  let description = [{
    Yields the formula value, then, for weighted reductions, the weight.
    ```mlir
    keops.yield %f, %w : vector<1xf32>, vector<3xf32>
    ```
  }];
  let arguments = (ins Variadic<KeOps_FormulaVector>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

include "keops/Dialect/KeOps/IR/KeOpsScheduleOps.td"

#endif // KEOPS_DIALECT_KEOPS_IR_KEOPSOPS_TD
