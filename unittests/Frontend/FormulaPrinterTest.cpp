//===- FormulaPrinterTest.cpp - keops.reduce back to formulas ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file tests the formula printer: every op of the formula language and
// every reduction, imported, printed and imported again, gives the same
// reduction (kind, axis, K, types) and the same float64 values on fixed
// rows; printing is a fixpoint after one round; what the language cannot
// spell is an error.
//
//===----------------------------------------------------------------------===//

#include "ImportTestUtils.h"

#include "keops/Dialect/KeOps/IR/FormulaEvaluator.h"
#include "keops/Frontend/FormulaPrinter.h"

using namespace mlir;
using namespace mlir::keops;
using keops_test::ImportTest;

namespace {

const std::vector<std::string> kAliases = {"x = Vi(3)", "y = Vj(3)", "b = Vj(1)",
                                           "s = Pm(1)", "t = Vi(1)"};
const llvm::SmallVector<double> kX = {0.5, -1.25, 2.0}, kY = {1.5, 0.25, -0.75},
                                kB = {0.7}, kS = {2.0}, kT = {-0.3};

class PrinterTest : public ImportTest {
protected:
  /// Imports `formula`, prints it, imports the text and checks that both
  /// reductions agree; returns the printed text.
  std::string roundTrip(const std::string &formula) {
    SCOPED_TRACE(formula);
    auto first = import(formula, kAliases, Float64Type::get(&context));
    EXPECT_TRUE(first) << error.render();
    if (!first)
      return "";
    std::string message;
    FailureOr<ReductionText> printed = printReduction(reduceOf(*first), message);
    EXPECT_TRUE(succeeded(printed)) << message;
    if (failed(printed))
      return "";
    std::optional<std::string> text = printed->str();
    SCOPED_TRACE(*text);
    auto second = import(*text, kAliases, Float64Type::get(&context));
    EXPECT_TRUE(second) << error.render();
    if (!second)
      return "";
    ReduceOp a = reduceOf(*first), b = reduceOf(*second);
    EXPECT_EQ(a.getKind(), b.getKind());
    EXPECT_EQ(a.getAxis(), b.getAxis());
    EXPECT_EQ(a.getK(), b.getK());
    EXPECT_EQ(a.getResultTypes(), b.getResultTypes());
    if (!hasGrad(a)) { // the evaluator runs formulas without keops.grad
      auto expected = evaluateFormula(a, {kX, kY, kB, kS, kT});
      auto actual = evaluateFormula(b, {kX, kY, kB, kS, kT});
      EXPECT_EQ(expected.size(), actual.size());
      for (size_t v = 0; v < std::min(expected.size(), actual.size()); ++v) {
        EXPECT_EQ(expected[v].size(), actual[v].size());
        for (size_t k = 0; k < std::min(expected[v].size(), actual[v].size()); ++k)
          EXPECT_DOUBLE_EQ(expected[v][k], actual[v][k]) << "value " << v
                                                         << " component " << k;
      }
    }
    FailureOr<ReductionText> again = printReduction(b, message);
    EXPECT_TRUE(succeeded(again)) << message;
    if (succeeded(again)) {
      auto third = import(again->str(), kAliases, Float64Type::get(&context));
      FailureOr<ReductionText> fixpoint = failure();
      if (third)
        fixpoint = printReduction(reduceOf(*third), message);
      EXPECT_TRUE(succeeded(fixpoint)) << message;
      if (succeeded(fixpoint))
        EXPECT_EQ(fixpoint->str(), again->str());
    }
    return *text;
  }

  static bool hasGrad(ReduceOp reduce) {
    bool found = false;
    reduce.walk([&](GradOp) { found = true; });
    return found;
  }
};

TEST_F(PrinterTest, EveryOpRoundTrips) {
  for (const char *body :
       {"x + y", "x - b", "x * y", "x / b", "-x", "Square(x)", "Inv(x)",
        "Sqrt(Abs(x))", "Rsqrt(Abs(x))", "Abs(x)", "Sign(x)", "Powf(Abs(x), b)",
        "Pow(x, 3)", "Pow(x, -2)", "Exp(x)", "Log(Abs(x))", "Sin(x)", "Cos(x)",
        "Step(x)", "ReLU(x)", "XLogX(Abs(x))", "Asin(x / 3)", "Acos(x / 3)",
        "Atan(x)", "Atan2(x, y)", "SinXDivX(x)", "Floor(x)", "Round(x, 1)",
        "Mod(x, y, b)", "ClampInt(x, -1, 1)", "DiffClampInt(x, -1, 1)",
        "Equal(x, y)", "NotEqual(x, y)", "LessThan(x, y)", "LessOrEqual(x, y)",
        "IfElse(x, y, b)", "Clamp(x, y, b)", "Sum(x)", "SqNorm2(x)", "Norm2(x)",
        "Normalize(x)", "Min(x)", "Max(x)", "ArgMin(x)", "ArgMax(x)", "(x | y)",
        "SqDist(x, y)", "Concat(x, b)", "OneHot(b * 3, 4)", "Elem(x, 2)",
        "Extract(x, 1, 2)", "MatVecMult(Concat(x, Concat(y, x)), y)",
        "TensorDot(x, y, (3,), (3,), (0,), (0,))", "SumT(b, 3)",
        "ExtractT(b, 1, 3)", "ComplexMult(Extract(x, 0, 2), Extract(y, 0, 2))",
        // Constants: integers, rationals, negatives, decimals, vectors.
        "x * 2", "x * Rat(1, 3)", "x - IntCst(-4)", "x * 0.1", "x * 1e-300",
        "Zero(2) + Extract(x, 0, 2)"}) {
    roundTrip(std::string("Sum_Reduction(") + body + ", 0)");
  }
}

TEST_F(PrinterTest, EveryReductionRoundTrips) {
  for (const char *formula :
       {"Sum_Reduction(x - y, 1)", "LogSumExp_Reduction(-SqDist(x, y), 0)",
        "LogSumExp_Reduction(-SqDist(x, y), 1, y)",
        "SumSoftMaxWeight_Reduction(-SqDist(x, y), 0, y)",
        "Min_Reduction(x - y, 0)", "Max_Reduction(x - y, 1)",
        "ArgMin_Reduction(x - y, 0)", "ArgMax_Reduction(x - y, 0)",
        "Min_ArgMin_Reduction(x - y, 0)", "Max_ArgMax_Reduction(x - y, 1)",
        "KMin_Reduction(x - y, 3, 0)", "ArgKMin_Reduction(SqDist(x, y), 5, 1)",
        "KMin_ArgKMin_Reduction(SqDist(x, y), 2, 1)"})
    roundTrip(formula);
}

TEST_F(PrinterTest, SpellsGradAndVariablesByPosition) {
  std::string text =
      roundTrip("Sum_Reduction(Grad(Grad(Exp(-SqDist(x, y)) * b, x, t), y, x), 0)");
  EXPECT_NE(text.find("Grad(Grad("), std::string::npos) << text;
  EXPECT_NE(text.find("Var(0,3,0)"), std::string::npos) << text;
  EXPECT_NE(text.find("Var(1,3,1)"), std::string::npos) << text;
  EXPECT_NE(text.find("Var(4,1,0)"), std::string::npos) << text;
}

TEST_F(PrinterTest, RefusesWhatTheLanguageCannotSpell) {
  auto module = import("Sum_Reduction(x * 2, 0)", kAliases,
                       Float64Type::get(&context));
  ASSERT_TRUE(module) << error.render();
  ReduceOp reduce = reduceOf(*module);
  reduce.walk([&](ConstantOp constant) {
    auto type = llvm::cast<VectorType>(constant.getType());
    constant.setValueAttr(DenseFPElementsAttr::get(
        type, llvm::ArrayRef<double>(std::numeric_limits<double>::infinity())));
  });
  std::string message;
  EXPECT_TRUE(failed(printReduction(reduce, message)));
  EXPECT_NE(message.find("has no formula spelling"), std::string::npos) << message;
}

} // namespace
