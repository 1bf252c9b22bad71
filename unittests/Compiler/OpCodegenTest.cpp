//===- OpCodegenTest.cpp - Generated code of every op vs float64 -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file compiles a sum reduction of every formula op (its lane code,
// polynomial math included) and compares the kernel with the float64
// reference evaluation of the same formula, in float64 and float32, on sizes
// that exercise full and masked lanes; and the f64 exp polynomial against
// std::exp in ulps.
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/Compiler.h"
#include "keops/Compiler/Reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

namespace {

using Param = std::tuple<const char *, bool>;

class OpCodegenTest : public ::testing::TestWithParam<Param> {};

TEST_P(OpCodegenTest, KernelMatchesReference) {
  auto [formula, f32] = GetParam();
  keops::CompileOptions options;
  options.dtype = f32 ? "float32" : "float64";
  auto kernel = keops::compile(
      std::string("Sum_Reduction(") + formula + ", 0)",
      {"x = Vi(3)", "y = Vj(3)", "b = Vj(1)", "s = Pm(1)"}, options);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  const int64_t n = 5, m = 37;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<std::vector<double>> data64;
  std::vector<std::vector<float>> data32;
  std::vector<keops_rt_array_t> inputs;
  int64_t rows[] = {n, m, m, 1}, cols[] = {3, 3, 1, 1};
  for (int k = 0; k < 4; ++k) {
    data64.emplace_back();
    data32.emplace_back();
    for (int64_t e = 0; e < rows[k] * cols[k]; ++e) {
      double v = k == 2 ? 0.2 + std::fabs(uniform(rng)) : uniform(rng);
      data32.back().push_back(static_cast<float>(v));
      data64.back().push_back(f32 ? data32.back().back() : v);
    }
  }
  for (int k = 0; k < 4; ++k)
    inputs.push_back({f32 ? static_cast<void *>(data32[k].data())
                          : static_cast<void *>(data64[k].data()),
                      f32 ? KEOPS_RT_FLOAT32 : KEOPS_RT_FLOAT64, rows[k],
                      cols[k], 0});
  int64_t dim = (*kernel)->getOutputs()[0].dim;
  std::vector<double> out64(n * dim);
  std::vector<float> out32(n * dim);
  llvm::Error error = (*kernel)->run(
      inputs, {{f32 ? static_cast<void *>(out32.data())
                    : static_cast<void *>(out64.data()),
                f32 ? KEOPS_RT_FLOAT32 : KEOPS_RT_FLOAT64, n, dim, 0}});
  ASSERT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));

  auto reference = keops::ReferenceEvaluator::create(**kernel, inputs, n, m);
  ASSERT_TRUE(static_cast<bool>(reference));
  double tolerance = f32 ? 1e-5 : 1e-12;
  for (int64_t r = 0; r < n; ++r) {
    auto expected = (*reference)->reduceRow(r)[0];
    double scale = 1.0;
    for (double v : expected)
      scale = std::max(scale, std::fabs(v));
    for (int64_t k = 0; k < dim; ++k) {
      double got = f32 ? out32[r * dim + k] : out64[r * dim + k];
      EXPECT_NEAR(got, expected[k], tolerance * scale)
          << "row " << r << " component " << k;
    }
  }
}

/// The distance in units in the last place between two finite non-negative
/// doubles (or 0 when both are +inf or both NaN).
uint64_t ulpDistance(double a, double b) {
  if ((std::isnan(a) && std::isnan(b)) || a == b)
    return 0;
  if (std::isnan(a) || std::isnan(b) || std::signbit(a) || std::signbit(b))
    return UINT64_MAX;
  uint64_t ia, ib;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  return ia > ib ? ia - ib : ib - ia;
}

// The f64 exp of keops-approximate-math, lane by lane, against std::exp:
// within 2 ulp on [-800, 800] (overflow to +inf, gradual underflow through
// the subnormals to 0), exact at 0, NaN for NaN, 0 and +inf at -inf, +inf.
TEST(OpCodegen, ExpFloat64IsWithinTwoUlps) {
  keops::CompileOptions options;
  options.dtype = "float64";
  auto kernel = keops::compile("Sum_Reduction(Exp(x), 0)", {"x = Vi(1)"}, options);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  std::vector<double> x = {0.0,     -0.0,     1e-300,   -1e-300, 0.5,
                           -0.5,    0.34657359027997264, 1.0, -1.0, 709.78,
                           709.79,  -708.39,  -708.5,   -720.0,  -745.1,
                           -745.2,  -1000.0,  1000.0,   std::nan(""),
                           INFINITY, -INFINITY};
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> wide(-800.0, 800.0), narrow(-2.0, 2.0);
  for (int k = 0; k < 2000; ++k)
    x.push_back(k % 2 ? wide(rng) : narrow(rng));
  std::vector<double> out(x.size());
  int64_t n = static_cast<int64_t>(x.size());
  llvm::Error error = (*kernel)->run({{x.data(), KEOPS_RT_FLOAT64, n, 1, 0}},
                                     {{out.data(), KEOPS_RT_FLOAT64, n, 1, 0}});
  ASSERT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));
  for (size_t k = 0; k < x.size(); ++k)
    EXPECT_LE(ulpDistance(out[k], std::exp(x[k])), 2u)
        << "exp(" << x[k] << ") = " << out[k] << ", expected " << std::exp(x[k]);
  EXPECT_EQ(out[0], 1.0);
}

// ArgKMin among many equal values, for K from 1 to more than the columns
// that tie: the K best that the kernel keeps (in memory on the CPU: sorted
// vectors for K = 1, 7 and 100, heaps for 600 and 2000) must be the first
// K columns of a stable sort, whatever K, with the
// columns of the 9 rows split over threads and merged (integer coordinates:
// exact distances, most of them tied).
TEST(OpCodegen, ArgKMinIsTheFirstKOfAStableSortForAnyK) {
  const int64_t n = 9, m = 5003;
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> coordinate(0, 3);
  std::vector<float> x(n * 2), y(m * 2);
  for (float &v : x)
    v = static_cast<float>(coordinate(rng));
  for (float &v : y)
    v = static_cast<float>(coordinate(rng));
  auto distance = [&](int64_t i, int64_t j) {
    float dx = x[i * 2] - y[j * 2], dy = x[i * 2 + 1] - y[j * 2 + 1];
    return dx * dx + dy * dy;
  };
  for (int64_t k : {1, 7, 100, 600, 2000}) {
    SCOPED_TRACE("K=" + std::to_string(k));
    auto kernel = keops::compile(
        "ArgKMin_Reduction(SqDist(x,y), " + std::to_string(k) + ", 0)",
        {"x = Vi(2)", "y = Vj(2)"});
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError());
    std::vector<int64_t> out(n * k);
    keops::RunOptions options;
    options.numThreads = 2;
    llvm::Error error = (*kernel)->run(
        {{x.data(), KEOPS_RT_FLOAT32, n, 2, 0},
         {y.data(), KEOPS_RT_FLOAT32, m, 2, 0}},
        {{out.data(), KEOPS_RT_INT64, n, k, 0}}, options);
    ASSERT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));
    for (int64_t i = 0; i < n; ++i) {
      std::vector<int64_t> order(m);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return distance(i, a) < distance(i, b);
      });
      for (int64_t s = 0; s < k; ++s)
        ASSERT_EQ(out[i * k + s], order[s]) << "row " << i << " slot " << s;
    }
  }
}

std::string paramName(const ::testing::TestParamInfo<Param> &info) {
  return std::to_string(info.index / 2) +
         (std::get<1>(info.param) ? "_f32" : "_f64");
}

INSTANTIATE_TEST_SUITE_P(
    Ops, OpCodegenTest,
    ::testing::Combine(
        ::testing::Values(
            "x + y * b", "x - s", "x * y / b", "-x", "Square(x - y)",
            "Inv(b + x * x)", "Pow(x, 3) + Pow(b, -2) * Pow(y, 0)",
            "Powf(b, y * s)", "Exp(x * y)", "Log(b + SqNorm2(x))",
            "Sqrt(b + x * x)", "Rsqrt(b * x * x)", "Rsqrt(x - x)",
            "Sin(3 * x) + Cos(2 * y)", "Abs(x - y)", "Sign(x - y) + Step(x * y)",
            "ReLU(x - y)", "IfElse(x - y, x, y * b)", "Clamp(x, y, y + b)",
            "Sum(x * y)", "SqNorm2(x - y)", "Norm2(x + y)", "Normalize(x - y)",
            "Normalize(x - x)", "Min(x - y) + Max(x * y)",
            "ArgMin(x - y) + ArgMax(x + y)", "(x | y)", "SqDist(x, y * s)",
            "SqDist(x, b)", "Elem(x, 2) * y", "Extract(x * y, 1, 2)",
            "Concat(b, Extract(y, 0, 2)) - x", "IntCst(3) * x + Rat(-1, 4)",
            "Zero(3) + x", "Grad(Exp(-SqDist(x, y)) * b, x, b)",
            "XLogX(b) + XLogX(x - x)", "Asin(x * 0.9) + Acos(y * 0.9)",
            "Atan(x * 3) + Atan2(x, y)", "SinXDivX(x * 2) + SinXDivX(x - x)",
            "Floor(x * 3) + Round(y * 3, 1)", "Mod(x * 5, b, s)",
            "ClampInt(x * 3, -1, 1) + DiffClampInt(y * 3, -1, 1)",
            "Equal(x, x) + NotEqual(x, y) + LessThan(x, y) + LessOrEqual(y, x)",
            "OneHot(b * 3, 4) * s", "MatVecMult(TensorProd(x, y), x)",
            "SymSqNorm(TensorProd(y, y) + s, x - y)",
            "BSpline(Concat(Concat(Zero(1), Rat(1, 2)), Concat(IntCst(1), IntCst(2))), b, 1) * s",
            "TensorDot(TensorProd(x, y), x, (3, 3), (3,), (0,), (0,))",
            "SoftDTW_SqDist(x, Concat(y, b), s + 1)",
            "Kron(Concat(x, b), Concat(y, s), (2, 2), (2, 2))",
            "VecMatMult(Extract(y, 0, 2), Concat(x, y)) + ElemT(b, 3, 1) + "
            "Extract(ExtractT(x, 1, 5), 0, 3)",
            "WeightedSqDist(y, x, y * s) + SqNormIso(b, x) + SymSqNorm(TensorProd(x, x), y)",
            "ComplexSum(Conj(ComplexMult(Concat(x, b), Concat(y, s)))) + "
            "ComplexSumT(Imag2Complex(b), 1)",
            "ComplexMult(Concat(x, b), Concat(y, s)) + ComplexDivide(Concat(y, b), Concat(x, s))",
            "ComplexAbs(ComplexExp(Concat(x, b))) + ComplexAngle(Concat(y, s))",
            "Laplacian(Exp(-SqDist(x, y)), x) * b"),
        ::testing::Bool()),
    paramName);

} // namespace
