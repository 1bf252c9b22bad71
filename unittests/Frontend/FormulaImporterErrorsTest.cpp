//===- FormulaImporterErrorsTest.cpp - Importer error reports ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file tests every error of the importer: each bad formula or alias
// gives no module and an error naming the problem, in the right text (the
// formula or alias k), at the right column.
//
//===----------------------------------------------------------------------===//

#include "ImportTestUtils.h"

using namespace mlir;
using keops_test::ImportTest;

namespace {

struct ErrorCase {
  const char *formula;
  std::vector<std::string> aliases;
  /// 0: the error is in the formula; k: in alias k.
  unsigned aliasNumber;
  unsigned column;
  const char *message;
};

void PrintTo(const ErrorCase &c, std::ostream *os) {
  *os << c.formula << " / " << c.message;
}

class ImportErrorTest : public ImportTest,
                        public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(ImportErrorTest, ReportsProblemAndColumn) {
  const ErrorCase &c = GetParam();
  auto module = import(c.formula, c.aliases);
  EXPECT_FALSE(module);
  EXPECT_EQ(error.aliasNumber, c.aliasNumber) << error.render();
  EXPECT_EQ(error.column, c.column) << error.render();
  EXPECT_NE(error.message.find(c.message), std::string::npos) << error.render();
  EXPECT_EQ(error.text,
            c.aliasNumber ? c.aliases[c.aliasNumber - 1] : std::string(c.formula));
}

const std::vector<std::string> XYB = {"x = Vi(3)", "y = Vj(3)", "b = Vj(1)"};

INSTANTIATE_TEST_SUITE_P(
    Syntax, ImportErrorTest,
    ::testing::Values(
        ErrorCase{"Sum_Reduction(x $ y, 0)", XYB, 0, 17, "unexpected character '$'"},
        ErrorCase{"Sum_Reduction(Exp(x, 0)", XYB, 0, 24, "expected ')', found end of text"},
        ErrorCase{"Sum_Reduction((x + 1, 0)", XYB, 0, 25, "expected ')', found end of text"},
        ErrorCase{"Sum_Reduction(x, 0) x", XYB, 0, 21, "expected end of formula, found 'x'"},
        ErrorCase{"", XYB, 0, 1, "expected a number, a name or '(', found end of text"},
        ErrorCase{"Sum_Reduction(x * , 0)", XYB, 0, 19, "expected a number, a name or '(', found ','"},
        ErrorCase{"Sum_Reduction(x ** , 0)", XYB, 0, 20, "expected a number, a name or '('"}));

INSTANTIATE_TEST_SUITE_P(
    Reductions, ImportErrorTest,
    ::testing::Values(
        ErrorCase{"Exp(x)", XYB, 0, 1, "the formula must be a reduction such as Sum_Reduction(F, 0)"},
        ErrorCase{"x", XYB, 0, 1, "the formula must be a reduction"},
        ErrorCase{"Avg_Reduction(x, 0)", XYB, 0, 1, "unknown reduction 'Avg_Reduction'"},
        ErrorCase{"Sum_Reduction(x)", XYB, 0, 1, "'Sum_Reduction' takes (F, axis), got 1 arguments"},
        ErrorCase{"KMin_Reduction(x, 0)", XYB, 0, 1, "'KMin_Reduction' takes (F, K, axis), got 2 arguments"},
        ErrorCase{"SumSoftMaxWeight_Reduction(b, 0)", XYB, 0, 1, "takes (F, axis, weight), got 2"},
        ErrorCase{"LogSumExp_Reduction(b, 0, x, y)", XYB, 0, 1, "takes (F, axis) or (F, axis, weight), got 4"},
        ErrorCase{"Sum_Reduction(x, 2)", XYB, 0, 18, "the reduction axis must be 0 (reduce over j, one result per i) or 1"},
        ErrorCase{"Sum_Reduction(x, y)", XYB, 0, 18, "the reduction axis must be 0"},
        ErrorCase{"KMin_Reduction(x, 0, 0)", XYB, 0, 19, "K must be an integer in [1, 1048576]"},
        ErrorCase{"KMin_Reduction(x, b, 0)", XYB, 0, 19, "K must be an integer in [1, 1048576]"},
        ErrorCase{"LogSumExp_Reduction(x, 0)", XYB, 0, 1, "'LogSumExp_Reduction': reduction 'logsumexp' requires a scalar formula, got dimension 3"},
        ErrorCase{"SumSoftMaxWeight_Reduction(x, 0, b)", XYB, 0, 1, "reduction 'sumsoftmaxweight' requires a scalar formula"},
        ErrorCase{"Sum_Reduction(Sum_Reduction(x, 0), 0)", XYB, 0, 15, "reduction 'Sum_Reduction' can only be the outermost operation"}));

INSTANTIATE_TEST_SUITE_P(
    Ops, ImportErrorTest,
    ::testing::Values(
        ErrorCase{"Sum_Reduction(Foo(x), 0)", XYB, 0, 15, "unknown operation 'Foo'"},
        ErrorCase{"Sum_Reduction(x(1), 0)", XYB, 0, 15, "unknown operation 'x'"},
        ErrorCase{"Sum_Reduction(SqDist(x), 0)", XYB, 0, 15, "'SqDist' takes 2 arguments, got 1"},
        ErrorCase{"Sum_Reduction(Exp(x, y), 0)", XYB, 0, 15, "'Exp' takes 1 argument, got 2"},
        ErrorCase{"Sum_Reduction(Elem(x, y), 0)", XYB, 0, 23, "argument 2 of 'Elem' must be an integer"},
        ErrorCase{"Sum_Reduction(Pow(x, 2.5), 0)", XYB, 0, 22, "argument 2 of 'Pow' must be an integer"},
        ErrorCase{"Sum_Reduction(x + p, 0)", {"x = Vi(3)", "p = Vj(2)"}, 0, 17, "'Add': operand dimensions (3, 2) do not broadcast: they must be equal or 1"},
        ErrorCase{"Sum_Reduction(IfElse(x, p, b), 0)", {"x = Vi(3)", "p = Vj(2)", "b = Vj(1)"}, 0, 15, "'IfElse': operand dimensions (3, 2, 1) do not broadcast"},
        ErrorCase{"Sum_Reduction((x | b), 0)", XYB, 0, 18, "'Scalprod': operand dimensions (3, 1) must be equal"},
        ErrorCase{"Sum_Reduction(Elem(x, 3), 0)", XYB, 0, 15, "'Elem': component 3 is out of range for a vector of dimension 3"},
        ErrorCase{"Sum_Reduction(Elem(x, -1), 0)", XYB, 0, 15, "'Elem': component -1 is out of range"},
        ErrorCase{"Sum_Reduction(Extract(x, 2, 2), 0)", XYB, 0, 15, "'Extract': components [2, 4) are out of range for a vector of dimension 3"},
        ErrorCase{"Sum_Reduction(Extract(x, 0, 0), 0)", XYB, 0, 15, "'Extract': components [0, 0) are out of range"},
        ErrorCase{"Sum_Reduction(Rat(1, 0), 0)", XYB, 0, 22, "'Rat' has a zero denominator"},
        ErrorCase{"Sum_Reduction(Zero(0), 0)", XYB, 0, 15, "'Zero' needs a dimension >= 1"},
        ErrorCase{"Sum_Reduction(IntCst(b), 0)", XYB, 0, 22, "argument 1 of 'IntCst' must be an integer"},
        ErrorCase{"Sum_Reduction(IntInv(0), 0)", XYB, 0, 22, "'IntInv' of 0"},
        ErrorCase{"Sum_Reduction(OneHot(x, 3), 0)", XYB, 0, 15, "'OneHot': the operand must be a scalar, got dimension 3"},
        ErrorCase{"Sum_Reduction(OneHot(b, 0), 0)", XYB, 0, 15, "'OneHot': the dimension must be >= 1"},
        ErrorCase{"Sum_Reduction(SqNormIso(x, y), 0)", XYB, 0, 15, "'SqNormIso': the weight must have dimension 1, got 3"},
        ErrorCase{"Sum_Reduction(WeightedSqNorm(Concat(x, b), y), 0)", XYB, 0, 15, "'WeightedSqNorm': the weight has dimension 4; expected 1, 3 or 9"},
        ErrorCase{"Sum_Reduction(MatVecMult(Concat(x, b), x), 0)", XYB, 0, 15, "'MatVecMult': the matrix has 4 components, not a multiple of the vector's 3"},
        ErrorCase{"Sum_Reduction(ElemT(x, 3, 1), 0)", XYB, 0, 15, "'ElemT': needs a scalar and 0 <= m < n"},
        ErrorCase{"Sum_Reduction(ComplexMult(x, y), 0)", XYB, 0, 15, "'ComplexMult': complex operands need an even dimension (re, im pairs), got 3"},
        ErrorCase{"Sum_Reduction(ComplexAdd(Concat(x, x), Concat(y, b)), 0)", XYB, 0, 15, "'ComplexAdd': 3 and 2 complex numbers do not broadcast"},
        ErrorCase{"Sum_Reduction(ComplexRealScal(Concat(x, b), x), 0)", XYB, 0, 15, "'ComplexRealScal': the real factor has dimension 3; expected 1 or 2"},
        ErrorCase{"Sum_Reduction(Kron(x, y, (2,), (3,)), 0)", XYB, 0, 15, "'Kron': the first operand has dimension 3, not that of shape (2)"},
        ErrorCase{"Sum_Reduction(Kron(x, y, (3,), (3, 1)), 0)", XYB, 0, 15, "'Kron': the two shapes must have the same rank"},
        ErrorCase{"Sum_Reduction(Kron(x, y, 3, b), 0)", XYB, 0, 29, "argument 4 of 'Kron' must be a tuple of integers such as (2, 3)"},
        ErrorCase{"Sum_Reduction(TensorDot(x, y, (3,), (3,), (0,)), 0)", XYB, 0, 15, "'TensorDot' takes 6 to 7 arguments, got 5"},
        ErrorCase{"Sum_Reduction(TensorDot(x, Concat(y, b), (3,), (4,), (0,), (0,)), 0)", XYB, 0, 15, "'TensorDot': contracted axes 0 and 0 have sizes 3 and 4"},
        ErrorCase{"Sum_Reduction(TensorDot(x, y, (3,), (3,), (), (), (0, 0)), 0)", XYB, 0, 15, "'TensorDot': permute (0, 0) is not a permutation of the 2 result axes"},
        ErrorCase{"Sum_Reduction(BSpline(x, y, 1), 0)", XYB, 0, 15, "'BSpline': B-splines are sampled at a scalar, got dimension 3"},
        ErrorCase{"Sum_Reduction(BSpline(x, b, 2), 0)", XYB, 0, 15, "'BSpline': order 2 needs an order >= 0 and at least order + 2 knots, got 3"},
        ErrorCase{"Sum_Reduction(SoftDTW_SqDist(x, y, x), 0)", XYB, 0, 15, "'SoftDTW_SqDist': gamma must be a scalar, got dimension 3"},
        ErrorCase{"Sum_Reduction((1, 2), 0)", XYB, 0, 15, "a tuple or list is not a formula"},
        ErrorCase{"Sum_Reduction(ExtractT(x, 2, 4), 0)", XYB, 0, 15, "'ExtractT': components [2, 5) do not fit in dimension 4"}));

INSTANTIATE_TEST_SUITE_P(
    Variables, ImportErrorTest,
    ::testing::Values(
        ErrorCase{"Sum_Reduction(x + z, 0)", XYB, 0, 19, "undefined variable 'z'"},
        ErrorCase{"Sum_Reduction(x, 0)", {"x = Vi(3)", "x = Vj(3)"}, 2, 1, "alias 'x' is defined twice"},
        ErrorCase{"Sum_Reduction(x, 0)", {"x = "}, 1, 5, "expected a number, a name or '(', found end of text"},
        ErrorCase{"Sum_Reduction(x, 0)", {"x = Exp(3)"}, 1, 5, "an alias must be 'name = Vi(dim)'"},
        ErrorCase{"Sum_Reduction(x, 0)", {"x = Vq(3)"}, 1, 5, "an alias must be"},
        ErrorCase{"Sum_Reduction(x, 0)", {"x = Vi(a)"}, 1, 8, "arguments of 'Vi' must be integers"},
        ErrorCase{"Sum_Reduction(x, 0)", {"x = Vi(1, 2, 3)"}, 1, 5, "'Vi' takes (dim) in an alias or (position, dim)"},
        ErrorCase{"Sum_Reduction(x, 0)", {"x = Var(0, 3)"}, 1, 5, "'Var' takes (position, dim, category)"},
        ErrorCase{"Sum_Reduction(x, 0)", {"x = Var(0, 3, 3)"}, 1, 15, "category must be 0 (i), 1 (j) or 2 (parameter), got 3"},
        ErrorCase{"Sum_Reduction(x, 0)", {"x = Vi(0)"}, 1, 5, "dimension must be in [1, 1048576], got 0"},
        ErrorCase{"Sum_Reduction(x, 0)", {"x = Vi(-1, 3)"}, 1, 5, "position must be >= 0, got -1"},
        ErrorCase{"Sum_Reduction(x, 0)", {"x = Vi(0, 3)", "y = Vj(0, 3)"}, 2, 5, "position 0 is already declared by 'x' as Vi(3)"},
        ErrorCase{"Sum_Reduction(x + Var(0, 2, 0), 0)", {"x = Vi(3)"}, 0, 19, "position 0 is already declared by 'x' as Vi(3)"},
        ErrorCase{"Sum_Reduction(x + Vi(3), 0)", {"x = Vi(3)"}, 0, 19, "'Vi' takes (dim) in an alias or (position, dim)"},
        ErrorCase{"Sum_Reduction(x, 0)", {"x = Vi(0, 3)", "y = Vj(2, 3)"}, 0, 0, "no variable is declared at position 1: positions must run from 0 without gaps"}));

INSTANTIATE_TEST_SUITE_P(
    Derivatives, ImportErrorTest,
    ::testing::Values(
        ErrorCase{"Sum_Reduction(Grad(Exp(x), Exp(x), b), 0)", XYB, 0, 28, "the second argument of 'Grad' must be a variable"},
        ErrorCase{"Sum_Reduction(Grad(Exp(x), x), 0)", XYB, 0, 15, "'Grad' takes 3 arguments, got 2"},
        ErrorCase{"Sum_Reduction(Grad(Exp(x), x, b), 0)", XYB, 0, 31, "'Grad': the gradient input has dimension 1 but the formula has dimension 3"},
        ErrorCase{"Sum_Reduction(Diff(Exp(x), x, b), 0)", XYB, 0, 31, "'Diff': the direction has dimension 1 but the variable has dimension 3"},
        ErrorCase{"Sum_Reduction(Divergence(Exp(x), b), 0)", XYB, 0, 15, "'Divergence' needs a formula of the variable's dimension 1, got 3"},
        ErrorCase{"Sum_Reduction(Laplacian(Exp(x), x), 0)", XYB, 0, 15, "'Laplacian' needs a scalar formula, got dimension 3"},
        ErrorCase{"Sum_Reduction(GradMatrix(x, z), 0)", XYB, 0, 29, "undefined variable 'z'"},
        ErrorCase{"Sum_Reduction(TraceOperator(Sum(x), x), 0)", XYB, 0, 15, "'TraceOperator' needs a formula of the variable's dimension 3, got 1"},
        ErrorCase{"Sum_Reduction(AdjointOperator(x, x, b), 0)", XYB, 0, 37, "'AdjointOperator': the gradient input has dimension 1 but the formula has dimension 3"},
        ErrorCase{"Sum_Reduction(SumLinOperator(x), 0)", XYB, 0, 15, "'SumLinOperator' takes 2 to 4 arguments, got 1"},
        ErrorCase{"Sum_Reduction(SumLinOperator(x, x, Extract(y, 0, 2)), 0)", XYB, 0, 36, "'SumLinOperator': a weight has dimension 2; expected 1 or 3"}));

// Sizes past what the kernels' 32-bit vector types hold: refused where they
// are written, instead of aborting or running for hours.
const std::vector<std::string> WIDE = {"w = Vj(2000)"};
INSTANTIATE_TEST_SUITE_P(
    SizeLimits, ImportErrorTest,
    ::testing::Values(
        ErrorCase{"Sum_Reduction(SumT(b, 4294967296), 0)", XYB, 0, 15, "'SumT': integer arguments must be at most 1048576 in magnitude"},
        ErrorCase{"Sum_Reduction(Pow(x, -4294967296), 0)", XYB, 0, 15, "'Pow': integer arguments must be at most 1048576"},
        ErrorCase{"KMin_Reduction(x, 9223372036854775807, 0)", XYB, 0, 19, "K must be an integer in [1, 1048576]"},
        ErrorCase{"Sum_Reduction(TensorProd(w, w), 0)", WIDE, 0, 15, "'TensorProd': its value would have 4000000 components, more than 1048576"},
        ErrorCase{"KMin_Reduction(w, 1000, 0)", WIDE, 0, 1, "'KMin_Reduction': its result would have 2000000 components, more than 1048576"},
        ErrorCase{"Sum_Reduction(x, 0)", {"x = Vi(2147483648)"}, 1, 5, "dimension must be in [1, 1048576], got 2147483648"},
        ErrorCase{"Sum_Reduction(Var(0, 1048577, 0), 0)", {}, 0, 15, "dimension must be in [1, 1048576], got 1048577"}));

// Formulas nested deeper than kMaxFormulaDepth (1000 levels: unary minus
// signs, calls, a chain of binary operators) are refused with an error
// instead of overflowing the stack of the parser, the importer or the
// destructor of their tree; 900 levels import.
TEST_F(ImportTest, DeepFormulasAreRefused) {
  auto repeat = [](const std::string &text, int times) {
    std::string result;
    for (int n = 0; n < times; ++n)
      result += text;
    return result;
  };
  for (const std::string &formula :
       {"Sum_Reduction(" + repeat("-", 40000) + "x, 0)",
        "Sum_Reduction(" + repeat("Exp(", 15000) + "x" + repeat(")", 15000) +
            ", 0)",
        "Sum_Reduction(x" + repeat("+x", 20000) + ", 0)",
        "Sum_Reduction(" + repeat("(", 5000) + "x" + repeat(")", 5000) +
            ", 0)"}) {
    EXPECT_FALSE(import(formula, {"x = Vi(1)"})) << formula.substr(0, 40);
    EXPECT_NE(error.message.find("nested more than 1000 levels deep"),
              std::string::npos)
        << error.message;
  }
  EXPECT_TRUE(import("Sum_Reduction(" + repeat("-", 900) + "x, 0)",
                     {"x = Vi(1)"}))
      << error.render();
  EXPECT_TRUE(import("Sum_Reduction(x" + repeat("+x", 900) + ", 0)",
                     {"x = Vi(1)"}))
      << error.render();
}

TEST_F(ImportTest, RenderShowsTextAndCaret) {
  EXPECT_FALSE(import("Sum_Reduction(Exq(x), 0)", {"x = Vi(3)"}));
  EXPECT_EQ(error.render(), "formula:1:15: error: unknown operation 'Exq'\n"
                            "  Sum_Reduction(Exq(x), 0)\n"
                            "                ^\n");
  EXPECT_FALSE(import("Sum_Reduction(x, 0)", {"x = Vi(3)", "x = Vj(3)"}));
  EXPECT_EQ(error.render(), "alias 2:1:1: error: alias 'x' is defined twice\n"
                            "  x = Vj(3)\n"
                            "  ^\n");
}

TEST_F(ImportTest, RejectsNonFloatElementType) {
  EXPECT_FALSE(import("Sum_Reduction(x, 0)", {"x = Vi(3)"},
                      IntegerType::get(&context, 32)));
  EXPECT_EQ(error.message, "element type must be f16, f32 or f64");
}

} // namespace
