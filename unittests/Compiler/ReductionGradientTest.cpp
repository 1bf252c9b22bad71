//===- ReductionGradientTest.cpp - Backward reductions vs finite differences -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file checks keops::compileGradient: for sum, logsumexp (with and
// without weight) and sumsoftmaxweight over both axes, the gradient of
// eta . output with respect to every variable (i, j and parameter) computed
// by the backward reduction equals central finite differences of the
// compiled forward reduction, in float64; beyond KeOps, min, max, kmin and
// their arg forms get the gradient at their selected columns. The arg kinds
// have no gradient kernel (zero gradient).
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/Compiler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace {

const std::vector<std::string> kAliases = {"x = Vi(3)", "y = Vj(3)",
                                           "b = Vj(2)", "p = Pm(1)"};

struct Problem {
  int64_t n = 7, m = 13;
  std::vector<std::vector<double>> data; // x, y, b, p
  Problem() {
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> uniform(0.1, 1.0);
    for (int64_t size : {n * 3, m * 3, m * 2, int64_t(1)}) {
      data.emplace_back();
      for (int64_t k = 0; k < size; ++k)
        data.back().push_back(uniform(rng));
    }
  }
  std::vector<keops_rt_array_t> arrays() {
    int64_t rows[] = {n, m, m, 1}, cols[] = {3, 3, 2, 1};
    std::vector<keops_rt_array_t> result;
    for (int k = 0; k < 4; ++k)
      result.push_back({data[k].data(), KEOPS_RT_FLOAT64, rows[k], cols[k], 0});
    return result;
  }
};

/// Runs `kernel` on `inputs` and returns its first output (of `rows` rows)
/// as doubles, indices included.
std::vector<double> run(const keops::Kernel &kernel,
                        const std::vector<keops_rt_array_t> &inputs,
                        int64_t rows) {
  std::vector<std::vector<double>> values;
  std::vector<std::vector<int64_t>> indices;
  std::vector<keops_rt_array_t> outputs;
  for (const keops::KernelOutput &output : kernel.getOutputs()) {
    int64_t size = rows * output.dim;
    void *data;
    if (output.dtype == KEOPS_RT_INT64)
      data = (indices.emplace_back(size), indices.back().data());
    else
      data = (values.emplace_back(size), values.back().data());
    outputs.push_back({data, output.dtype, rows, output.dim, 0});
  }
  llvm::Error error = kernel.run(inputs, outputs);
  EXPECT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));
  if (kernel.getOutputs()[0].dtype != KEOPS_RT_INT64)
    return values[0];
  return std::vector<double>(indices[0].begin(), indices[0].end());
}

using Param = std::tuple<const char *, int>;

class ReductionGradientTest : public ::testing::TestWithParam<Param> {};

TEST_P(ReductionGradientTest, MatchesFiniteDifferencesOfTheForward) {
  auto [formulaPattern, axis] = GetParam();
  std::string formula = formulaPattern;
  formula.replace(formula.find("AXIS"), 4, std::to_string(axis));
  keops::CompileOptions options;
  options.dtype = "float64";
  auto forward = keops::compile(formula, kAliases, options);
  ASSERT_TRUE(static_cast<bool>(forward)) << llvm::toString(forward.takeError());
  Problem problem;
  int64_t outRows = axis == 0 ? problem.n : problem.m;
  int64_t outDim = (*forward)->getOutputs()[0].dim;
  std::vector<double> eta;
  for (int64_t k = 0; k < outRows * outDim; ++k)
    eta.push_back(std::sin(1.3 * k + 0.2));
  auto loss = [&](Problem &p) {
    std::vector<double> out = run(**forward, p.arrays(), outRows);
    double total = 0;
    for (size_t k = 0; k < out.size(); ++k)
      total += eta[k] * out[k];
    return total;
  };
  std::vector<double> output = run(**forward, problem.arrays(), outRows);

  for (unsigned wrt = 0; wrt < 4; ++wrt) {
    SCOPED_TRACE(formula + " wrt variable " + std::to_string(wrt));
    auto gradient = keops::compileGradient(formula, kAliases, wrt, options);
    ASSERT_TRUE(static_cast<bool>(gradient))
        << llvm::toString(gradient.takeError());
    ASSERT_TRUE(gradient->gradient);
    std::vector<keops_rt_array_t> inputs = problem.arrays();
    inputs.push_back({eta.data(), KEOPS_RT_FLOAT64, outRows, outDim, 0});
    if (gradient->needsForwardOutput)
      inputs.push_back({output.data(), KEOPS_RT_FLOAT64, outRows, outDim, 0});
    std::vector<double> logSumExp, indices, columns;
    if (gradient->logSumExp) {
      logSumExp = run(*gradient->logSumExp, problem.arrays(), outRows);
      inputs.push_back({logSumExp.data(), KEOPS_RT_FLOAT64, outRows, 1, 0});
    }
    if (gradient->indices) {
      indices = run(*gradient->indices, problem.arrays(), outRows);
      inputs.push_back({indices.data(), KEOPS_RT_FLOAT64, outRows, outDim, 0});
    }
    if (gradient->needsColumnIndex) {
      int64_t count = axis == 0 ? problem.m : problem.n;
      for (int64_t c = 0; c < count; ++c)
        columns.push_back(static_cast<double>(c));
      inputs.push_back({columns.data(), KEOPS_RT_FLOAT64, count, 1, 0});
    }
    const keops::Kernel &kernel = *gradient->gradient;
    bool rowsAreI = kernel.getRowCategory() == KEOPS_RT_CATEGORY_I;
    int64_t rows = rowsAreI ? problem.n : problem.m;
    std::vector<double> result = run(kernel, inputs, rows);
    int64_t dim = kernel.getOutputs()[0].dim;
    if (gradient->sumRows) {
      std::vector<double> summed(dim, 0.0);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t d = 0; d < dim; ++d)
          summed[d] += result[r * dim + d];
      result = summed;
    }
    ASSERT_EQ(result.size(), problem.data[wrt].size());
    const double h = 1e-6;
    for (size_t k = 0; k < result.size(); ++k) {
      Problem plus = problem, minus = problem;
      plus.data[wrt][k] += h;
      minus.data[wrt][k] -= h;
      double fd = (loss(plus) - loss(minus)) / (2 * h);
      EXPECT_NEAR(result[k], fd, 1e-6 * (1 + std::fabs(fd))) << "element " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, ReductionGradientTest,
    ::testing::Combine(
        ::testing::Values(
            "Sum_Reduction(Exp(-p*SqDist(x,y))*b, AXIS)",
            "Sum_Reduction(Sin(x*y)*Elem(b,1) + p*x, AXIS)",
            "LogSumExp_Reduction(-p*SqDist(x,y) + Elem(b,0), AXIS)",
            "LogSumExp_Reduction(-p*SqDist(x,y), AXIS, b)",
            "SumSoftMaxWeight_Reduction(-p*SqDist(x,y), AXIS, b*Elem(x,0))",
            "Min_Reduction(p*SqDist(x,y) + b, AXIS)",
            "Max_Reduction(Sin(x*y*p), AXIS)",
            "Min_ArgMin_Reduction(SqDist(x,y)*Elem(b,0), AXIS)",
            "Max_ArgMax_Reduction(x*y - p, AXIS)",
            "KMin_Reduction(SqDist(x,y) + p*Elem(b,1), 3, AXIS)",
            "KMin_ArgKMin_Reduction(x - y*p, 2, AXIS)"),
        ::testing::Values(0, 1)));

TEST(ReductionGradient, ArgKindsHaveZeroGradient) {
  for (const char *formula : {"ArgMin_Reduction(SqDist(x,y), 0)",
                              "ArgKMin_Reduction(SqDist(x,y), 2, 1)"}) {
    auto gradient = keops::compileGradient(formula, kAliases, 0);
    ASSERT_TRUE(static_cast<bool>(gradient));
    EXPECT_FALSE(gradient->gradient) << formula;
  }
}

TEST(ReductionGradient, FormulasNameWhatTheyRead) {
  // The backward of a sumsoftmaxweight reads eta, the output and the
  // logsumexp of the same formula, and is a formula that imports again.
  auto gradient = keops::gradientFormula(
      "SumSoftMaxWeight_Reduction(-SqDist(x,y), 0, b)", kAliases, 1);
  ASSERT_TRUE(static_cast<bool>(gradient)) << llvm::toString(gradient.takeError());
  ASSERT_TRUE(gradient->has_value());
  using Kind = keops::GradientFormula::Input::Kind;
  const keops::GradientFormula &described = **gradient;
  ASSERT_EQ(described.inputs.size(), 3u);
  EXPECT_EQ(described.inputs[0].kind, Kind::Eta);
  EXPECT_EQ(described.inputs[1].kind, Kind::ForwardOutput);
  EXPECT_EQ(described.inputs[2].kind, Kind::LogSumExp);
  EXPECT_EQ(described.inputs[2].reduction.name, "LogSumExp");
  EXPECT_EQ(described.reduction.name, "Sum");
  EXPECT_EQ(described.reduction.axis, 1); // y is a j variable: over i
  EXPECT_TRUE(static_cast<bool>(keops::compile(described.reduction.str(), kAliases)));

  // Tangents read the tangents, in the order asked, then the saved values.
  auto tangent = keops::tangentFormula("KMin_Reduction(SqDist(x,y), 2, 0)",
                                       kAliases, {3, 0});
  ASSERT_TRUE(static_cast<bool>(tangent)) << llvm::toString(tangent.takeError());
  ASSERT_TRUE(tangent->has_value());
  const auto &inputs = (*tangent)->inputs;
  ASSERT_EQ(inputs.size(), 4u);
  EXPECT_EQ(inputs[0].kind, Kind::Tangent);
  EXPECT_EQ(inputs[0].position, 3u);
  EXPECT_EQ(inputs[1].position, 0u);
  EXPECT_EQ(inputs[2].kind, Kind::Indices);
  EXPECT_EQ(inputs[2].reduction.name, "ArgKMin");
  EXPECT_EQ(inputs[3].kind, Kind::ColumnIndex);
  auto none = keops::tangentFormula("ArgMin_Reduction(SqDist(x,y), 0)", kAliases, {0});
  ASSERT_TRUE(static_cast<bool>(none));
  EXPECT_FALSE(none->has_value());
  auto missing = keops::tangentFormula("Sum_Reduction(x, 0)", kAliases, {0, 7});
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_EQ(llvm::toString(missing.takeError()),
            "the formula has 4 variables; there is no variable at position 7");
}

TEST(ReductionGradient, Errors) {
  auto missing = keops::compileGradient("Sum_Reduction(x, 0)", kAliases, 9);
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_EQ(llvm::toString(missing.takeError()),
            "the formula has 4 variables; there is no variable at position 9");
  auto bad = keops::compileGradient("Sum_Reduction(x, 0)", kAliases, 0,
                                    {"float16"});
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()),
            "float16 runs on the GPU only (backend 'gpu'), and the backend is "
            "'cpu'");
}

} // namespace

namespace {

/// The formula-level Grad(R, v, e) / Grad_WithSavedForward(R, v, e, f0)
/// computes what compileGradient computes (itself checked against finite
/// differences above).
TEST(ReductionGradient, GradOfReductionInFormulas) {
  keops::CompileOptions options;
  options.dtype = "float64";
  Problem problem;
  struct Case {
    const char *reduction;
    const char *wrapper;
    unsigned wrt;
  };
  std::vector<std::string> aliases = kAliases;
  aliases.push_back("e = Vi(4, 1)");
  aliases.push_back("l = Vi(5, 1)");
  for (Case c : {Case{"Sum_Reduction(Exp(-p*SqDist(x,y))*Elem(b,0), 0)",
                      "Grad(R, y, e)", 1},
                 Case{"LogSumExp_Reduction(-p*SqDist(x,y), 0)",
                      "Grad_WithSavedForward(R, x, e, l)", 0},
                 Case{"LogSumExp_Reduction(-p*SqDist(x,y)+Elem(b,1), 0)",
                      "Grad_WithSavedForward(R, Var(2,2,1), e, l)", 2}}) {
    std::string formula = c.wrapper;
    formula.replace(formula.find('R'), 1, c.reduction);
    SCOPED_TRACE(formula);
    auto forward = keops::compile(c.reduction, kAliases, options);
    ASSERT_TRUE(static_cast<bool>(forward));
    std::vector<double> output = run(**forward, problem.arrays(), problem.n);
    std::vector<double> eta;
    for (int64_t k = 0; k < problem.n; ++k)
      eta.push_back(std::cos(0.7 * k));
    auto inputs = problem.arrays();
    inputs.push_back({eta.data(), KEOPS_RT_FLOAT64, problem.n, 1, 0});
    inputs.push_back({output.data(), KEOPS_RT_FLOAT64, problem.n, 1, 0});
    auto kernel = keops::compile(formula, aliases, options);
    ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
    int64_t rows = (*kernel)->getRowCategory() == KEOPS_RT_CATEGORY_I
                       ? problem.n
                       : problem.m;
    std::vector<double> got = run(**kernel, inputs, rows);

    auto gradient = keops::compileGradient(c.reduction, kAliases, c.wrt, options);
    ASSERT_TRUE(static_cast<bool>(gradient));
    auto reference = problem.arrays();
    reference.push_back(inputs[4]);
    if (gradient->needsForwardOutput)
      reference.push_back(inputs[5]);
    std::vector<double> expected = run(*gradient->gradient, reference, rows);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t k = 0; k < got.size(); ++k)
      EXPECT_NEAR(got[k], expected[k], 1e-12 * (1 + std::fabs(expected[k])));
  }
}

TEST(ReductionGradient, GradOfReductionErrors) {
  auto min = keops::compile("Grad(Min_Reduction(SqDist(x,y), 0), x, e)",
                            {"x = Vi(3)", "y = Vj(3)", "e = Vi(1)"});
  ASSERT_FALSE(static_cast<bool>(min));
  EXPECT_NE(llvm::toString(min.takeError())
                .find("'Grad': supports Sum and LogSumExp reductions"),
            std::string::npos);
  auto eta = keops::compile("Grad(Sum_Reduction(SqDist(x,y), 0), x, e)",
                            {"x = Vi(3)", "y = Vj(3)", "e = Vj(1)"});
  ASSERT_FALSE(static_cast<bool>(eta));
  EXPECT_NE(llvm::toString(eta.takeError())
                .find("the gradient input and the saved output must be "
                      "variables indexed like the output rows (i)"),
            std::string::npos);
}

} // namespace
