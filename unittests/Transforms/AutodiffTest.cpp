//===- AutodiffTest.cpp - Symbolic derivatives vs finite differences -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file checks keops-autodiff against central finite differences in
// float64: for every formula op (and the derivative constructs of the
// formula language), the imported Grad(F, v, e) expanded by the pass and
// evaluated by the float64 evaluator must equal d(e . F)/dv computed by
// perturbing the variable's row; nested grads are checked up to order 3.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/IR/FormulaEvaluator.h"
#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Dialect/KeOps/Transforms/Passes.h"
#include "keops/Frontend/FormulaImporter.h"
#include "keops/InitAllKeOps.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir;
using namespace mlir::keops;

namespace {

using Rows = llvm::SmallVector<llvm::SmallVector<double>>;

/// Variables: x = Vi(3), y = Vj(3), b = Vj(1), s = Pm(1) at positions 0..3,
/// then the gradient inputs e1, e2, e3 (i-variables of the needed dims).
const llvm::SmallVector<double> X = {0.3, -0.4, 0.5}, Y = {0.2, 0.7, -0.1},
                                B = {0.6}, S = {1.3};

class Evaluator {
public:
  Evaluator() : context(registry()) {}

  /// Imports Sum_Reduction(formula, 0), expands grads, and evaluates the
  /// formula at `rows` (x, y, b, s, then the extra variables).
  llvm::SmallVector<double> evaluate(const std::string &formula,
                                     const std::vector<std::string> &extra,
                                     const Rows &rows) {
    std::vector<std::string> aliases = {"x = Vi(3)", "y = Vj(3)", "b = Vj(1)",
                                        "s = Pm(1)"};
    aliases.insert(aliases.end(), extra.begin(), extra.end());
    FormulaError error;
    OwningOpRef<ModuleOp> module =
        importFormula(context, "Sum_Reduction(" + formula + ", 0)", aliases,
                      {Float64Type::get(&context), "f"}, error);
    if (!module) {
      ADD_FAILURE() << error.render();
      return {};
    }
    PassManager pm(&context);
    pm.addNestedPass<func::FuncOp>(createKeOpsAutodiffPass());
    if (failed(pm.run(*module))) {
      ADD_FAILURE() << "autodiff failed for " << formula;
      return {};
    }
    ReduceOp reduce;
    module->walk([&](ReduceOp op) { reduce = op; });
    return evaluateFormula(reduce, rows)[0];
  }

  /// Dimension of a formula of x, y, b, s.
  int64_t dimOf(const std::string &formula) {
    return static_cast<int64_t>(evaluate(formula, {}, {X, Y, B, S}).size());
  }

private:
  static DialectRegistry registry() {
    DialectRegistry registry;
    registerAllKeOpsDialects(registry);
    return registry;
  }
  MLIRContext context;
};

/// A seed vector of dimension `dim` (fixed, not symmetric).
llvm::SmallVector<double> seed(int64_t dim, double phase) {
  llvm::SmallVector<double> e;
  for (int64_t k = 0; k < dim; ++k)
    e.push_back(std::cos(1.7 * k + phase));
  return e;
}

double dot(llvm::ArrayRef<double> a, llvm::ArrayRef<double> b) {
  double total = 0;
  for (size_t k = 0; k < a.size(); ++k)
    total += a[k] * b[k];
  return total;
}

/// Checks Grad(F, v, e) against central differences of e . F in v, where
/// `variable` is 0 (x), 1 (y), 2 (b) or 3 (s).
void checkGradient(Evaluator &ev, const std::string &formula, int variable,
                   const std::vector<std::string> &extra = {},
                   Rows base = {X, Y, B, S}) {
  SCOPED_TRACE(formula);
  static const char *names[] = {"x", "y", "b", "s"};
  int64_t dimF = static_cast<int64_t>(ev.evaluate(formula, extra, base).size());
  ASSERT_GT(dimF, 0);
  std::vector<std::string> withSeed = extra;
  withSeed.push_back("e = Var(" + std::to_string(4 + extra.size()) + ", " +
                     std::to_string(dimF) + ", 0)");
  Rows rows = base;
  rows.push_back(seed(dimF, 0.3));
  auto gradient = ev.evaluate(
      std::string("Grad(") + formula + ", " + names[variable] + ", e)",
      withSeed, rows);
  ASSERT_EQ(gradient.size(), base[variable].size());
  const double h = 1e-6;
  for (size_t d = 0; d < base[variable].size(); ++d) {
    Rows plus = base, minus = base;
    plus[variable][d] += h;
    minus[variable][d] -= h;
    double fd = (dot(ev.evaluate(formula, extra, plus), rows.back()) -
                 dot(ev.evaluate(formula, extra, minus), rows.back())) /
                (2 * h);
    EXPECT_NEAR(gradient[d], fd, 1e-6 * (1 + std::fabs(fd)))
        << "d/d" << names[variable] << "[" << d << "]";
  }
}

class EveryOpDerivative : public ::testing::TestWithParam<const char *> {};

TEST_P(EveryOpDerivative, MatchesFiniteDifferences) {
  Evaluator ev;
  for (int variable = 0; variable < 4; ++variable)
    checkGradient(ev, GetParam(), variable);
}

INSTANTIATE_TEST_SUITE_P(
    Ops, EveryOpDerivative,
    ::testing::Values(
        // Arithmetic, with broadcasting (b and s have dimension 1).
        "x + y * b", "x - s * y", "x * y", "x / (y + 2)", "(x + 3) / b",
        "-x * s", "Square(x - y)", "Inv(x + 2)", "Pow(x + 2, 3)",
        "Pow(x + 2, -2)", "Pow(x, 0) * y", "Powf(x + 2, y)", "Powf(b, x * s)",
        // Transcendental functions.
        "Exp(-SqDist(x, y)) * b", "Log(SqNorm2(x) + b)", "Sqrt(x * x + s)",
        "Rsqrt(SqNorm2(x - y) + b)", "Sin(x * s) + Cos(y - x)",
        "Abs(x - y * b)",
        // Piecewise functions (away from their kinks).
        "Sign(x - 0.05) * y", "Step(x - 0.05) * y", "ReLU(x - y * 0.5)",
        "IfElse(x - 0.05, Sin(y * x), Cos(x) * b)",
        "Clamp(x * s, y - 0.3, y + b)", "Clamp(x, -0.2, 0.4) * s",
        // Vector ops.
        "Sum(x * y) * b", "SqNorm2(x - y)", "Norm2(x * s + y)",
        "Normalize(x + y)", "Min(x * y + b)", "Max(x - y * s)",
        "ArgMin(x * y) + ArgMax(x)", "Scalprod(x, y) * b", "(x | y + b)",
        "SqDist(x, y * s)", "SqDist(x, b)",
        // Indexing and shaping.
        "Elem(x, 1) * y", "Extract(x * y, 1, 2)", "Concat(x * b, Sin(y * s))",
        "Concat(Elem(x, 2), Extract(y, 0, 2)) * x",
        // Functions added with autodiff.
        "XLogX(b + x * x)", "Asin(x * b) + Acos(y * s * 0.5)",
        "Atan(x * y) + Atan2(x, y + 2)", "SinXDivX(x * s + y)",
        "SinXDivX(x - x) * y", "Floor(x * 3) * y + Round(y, 1) * x",
        "Mod(x * 3, b + 1, s)", "ClampInt(x * 3, -1, 1) * y",
        "Equal(x, y) + NotEqual(x, y) * b + LessThan(x, y) * s",
        "LessOrEqual(x, y) * x", "OneHot(b * 3, 4) * s",
        "MatVecMult(Concat(x, y * s), x * b)",
        "VecMatMult(Concat(b, s), Concat(x, Sin(y)))",
        "TensorProd(x * b, y)", "SumT(b * s, 3) * x", "ElemT(b * s, 3, 2) + x",
        "ExtractT(x * s, 1, 5)", "WeightedSqNorm(s, x - y)",
        "WeightedSqNorm(y * y, x)", "SymSqNorm(TensorProd(y, y) + s, x)",
        "WeightedSqDist(b, x, y)",
        "Kron(Concat(x, b), Concat(y, s), (2, 2), (2, 2))",
        "BSpline(Concat(Concat(x - 2, y + 1), IntCst(3)), b * s, 2)",
        "SoftDTW_SqDist(x, Concat(y, b), s * 0.5)",
        "TensorDot(Concat(x, y * s), Extract(Concat(y, b), 0, 3), (2, 3), (3,), (1,), (0,))",
        "ComplexMult(Concat(x, b), Concat(y * s, b))",
        "ComplexDivide(Concat(x, b) , Concat(y, s + 1))",
        "ComplexAbs(ComplexExp(Concat(x * s, b))) + ComplexAngle(Concat(y, b))",
        "ComplexReal(ComplexExp1j(x * y)) * s",
        "ComplexSumT(ComplexSum(ComplexAdd(Concat(x, b), Conj(Concat(y, s)))), "
        "2) + ComplexSubtract(Concat(x, b), Concat(y, s)) * b",
        "ComplexImag(ComplexRealScal(Concat(x, b), Extract(y, 0, 2) * s + 1)) "
        "+ ComplexSquareAbs(Real2Complex(Extract(y, 0, 2)) + "
        "Imag2Complex(Extract(x, 1, 2)))",
        // Constants and a formula independent of some variables.
        "IntCst(2) * x + Rat(1, 3)", "y * s"));

//===----------------------------------------------------------------------===//
// Derivative constructs of the formula language
//===----------------------------------------------------------------------===//

TEST(DerivativeConstructs, LinearOperators) {
  Evaluator ev;
  Rows rows = {X, Y, B, S};
  // F(x) = M x with M = [[y0, y1, y2], [s, 2, b], [1, y0, 3]] (linear in x).
  const std::string f =
      "Concat(Concat((Extract(y, 0, 3) | x), s * Elem(x, 0) + 2 * Elem(x, 1) "
      "+ b * Elem(x, 2)), Elem(x, 0) + Elem(y, 0) * Elem(x, 1) + 3 * "
      "Elem(x, 2))";
  double m[3][3] = {{Y[0], Y[1], Y[2]}, {S[0], 2, B[0]}, {1, Y[0], 3}};
  EXPECT_NEAR(ev.evaluate("TraceOperator(" + f + ", x)", {}, rows)[0],
              m[0][0] + m[1][1] + m[2][2], 1e-12);
  Rows withU = rows;
  withU.push_back(seed(3, 0.4));
  auto adjoint = ev.evaluate("AdjointOperator(" + f + ", x, u)",
                             {"u = Vi(4, 3)"}, withU);
  double total = 0, weighted = 0;
  for (int c = 0; c < 3; ++c) {
    double expected = 0;
    for (int r = 0; r < 3; ++r) {
      expected += m[r][c] * withU.back()[r];
      total += m[r][c];
      weighted += withU.back()[r] * m[r][c] * X[c];
    }
    EXPECT_NEAR(adjoint[c], expected, 1e-12);
  }
  EXPECT_NEAR(ev.evaluate("SumLinOperator(" + f + ", x)", {}, rows)[0], total,
              1e-12);
  EXPECT_NEAR(ev.evaluate("SumLinOperator(" + f + ", x, u, x)",
                          {"u = Vi(4, 3)"}, withU)[0],
              weighted, 1e-12);
}

TEST(DerivativeConstructs, GradMatrixDivergenceLaplacianDiff) {
  Evaluator ev;
  Rows rows = {X, Y, B, S};
  const double h = 1e-6;
  // The Jacobian of G(x) = Sin(x * y) + x * s, by columns of finite
  // differences.
  const std::string g = "Sin(x * y) + x * s";
  std::vector<llvm::SmallVector<double>> jacobian(3); // jacobian[d][k]
  for (int d = 0; d < 3; ++d) {
    Rows plus = rows, minus = rows;
    plus[0][d] += h;
    minus[0][d] -= h;
    auto fp = ev.evaluate(g, {}, plus), fm = ev.evaluate(g, {}, minus);
    for (int k = 0; k < 3; ++k)
      jacobian[d].push_back((fp[k] - fm[k]) / (2 * h));
  }
  // GradMatrix: row k of the result block is d G_k / dx.
  auto matrix = ev.evaluate("GradMatrix(" + g + ", x)", {}, rows);
  ASSERT_EQ(matrix.size(), 9u);
  for (int k = 0; k < 3; ++k)
    for (int d = 0; d < 3; ++d)
      EXPECT_NEAR(matrix[k * 3 + d], jacobian[d][k], 1e-6);
  // Divergence: the trace.
  auto divergence = ev.evaluate("Divergence(" + g + ", x)", {}, rows);
  EXPECT_NEAR(divergence[0], jacobian[0][0] + jacobian[1][1] + jacobian[2][2],
              1e-6);
  // Diff: the Jacobian times a direction u.
  Rows withU = rows;
  withU.push_back(seed(3, 1.1));
  auto diff = ev.evaluate("Diff(" + g + ", x, u)", {"u = Vi(4, 3)"}, withU);
  for (int k = 0; k < 3; ++k) {
    double expected = 0;
    for (int d = 0; d < 3; ++d)
      expected += jacobian[d][k] * withU.back()[d];
    EXPECT_NEAR(diff[k], expected, 1e-6);
  }
  // Laplacian of a scalar: the sum of second differences.
  const std::string f = "Exp(-SqDist(x, y)) * b";
  double laplacian = 0, center = ev.evaluate(f, {}, rows)[0];
  const double h2 = 1e-4;
  for (int d = 0; d < 3; ++d) {
    Rows plus = rows, minus = rows;
    plus[0][d] += h2;
    minus[0][d] -= h2;
    laplacian += (ev.evaluate(f, {}, plus)[0] - 2 * center +
                  ev.evaluate(f, {}, minus)[0]) /
                 (h2 * h2);
  }
  EXPECT_NEAR(ev.evaluate("Laplacian(" + f + ", x)", {}, rows)[0], laplacian,
              1e-5);
}

//===----------------------------------------------------------------------===//
// Higher orders
//===----------------------------------------------------------------------===//

class HigherOrder : public ::testing::TestWithParam<const char *> {};

TEST_P(HigherOrder, SecondAndThirdOrderMatchFiniteDifferences) {
  Evaluator ev;
  std::string f = GetParam();
  int64_t dimF = ev.dimOf(f);
  std::string first = "Grad(" + f + ", x, e1)";
  std::string second = "Grad(" + first + ", x, e2)";
  std::vector<std::string> extra1 = {"e1 = Var(4, " + std::to_string(dimF) +
                                     ", 0)"};
  std::vector<std::string> extra2 = extra1;
  extra2.push_back("e2 = Vi(5, 3)");
  Rows base = {X, Y, B, S, seed(dimF, 0.1)};
  // Order 2: Grad(Grad(F, x, e1), x, e) against differences of order 1.
  checkGradient(ev, first, 0, extra1, base);
  // Order 3: Grad(Grad(Grad(F, x, e1), x, e2), x, e).
  base.push_back(seed(3, 0.7));
  checkGradient(ev, second, 0, extra2, base);
  // Mixed: the second derivative in y of the first in x.
  base.pop_back();
  checkGradient(ev, first, 1, extra1, base);
}

INSTANTIATE_TEST_SUITE_P(Formulas, HigherOrder,
                         ::testing::Values("Exp(-SqDist(x, y) * s) * b",
                                           "Log(SqNorm2(x) + b) * y",
                                           "Sin(x | y) * Normalize(x)",
                                           "Rsqrt(SqDist(x, y) + s)",
                                           "Powf(x + 2, y) / (x + 3)"));

} // namespace
