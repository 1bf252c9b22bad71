//===- ModuleCompileTest.cpp - keops::compileModule -------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file tests the module front end of the compiler: the reductions of a
// keops-dialect module (a kernel function, and keops.reduce ops inside a
// larger function, in float32 and float64) become kernels that match dense
// float64 references; bad modules give errors with the parser's message.
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/Compiler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace {

const char *kModule = R"mlir(
func.func @host(%x: tensor<?x2xf64>, %y: tensor<?x2xf64>, %n: index) -> tensor<?x2xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %k = %c0 to %n step %c1 iter_args(%a = %x) -> tensor<?x2xf64> {
    %s = keops.reduce sum over j (%ai = %a : i, %yj = %y : j)
        : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x2xf64> {
      %d = keops.sqdist %ai, %yj : vector<2xf64>, vector<2xf64>
      %e = keops.neg %d : vector<1xf64>
      %g = keops.exp %e : vector<1xf64>
      %v = keops.mul %g, %yj : vector<1xf64>, vector<2xf64>
      keops.yield %v : vector<2xf64>
    }
    scf.yield %s : tensor<?x2xf64>
  }
  return %r : tensor<?x2xf64>
}
func.func @nearest(%x: tensor<?x2xf32>, %y: tensor<?x2xf32>) -> tensor<?x1xi64> {
  %r = keops.reduce argmin over i (%xi = %x : i, %yj = %y : j)
      : (tensor<?x2xf32>, tensor<?x2xf32>) -> tensor<?x1xi64> {
    %d = keops.sqdist %xi, %yj : vector<2xf32>, vector<2xf32>
    keops.yield %d : vector<1xf32>
  }
  return %r : tensor<?x1xi64>
}
)mlir";

TEST(ModuleCompileTest, EveryReductionOfAModuleBecomesAKernel) {
  auto kernels = keops::compileModule(kModule);
  ASSERT_TRUE(static_cast<bool>(kernels)) << llvm::toString(kernels.takeError());
  ASSERT_EQ(kernels->size(), 2u);
  EXPECT_EQ((*kernels)[0].function, "nearest");
  EXPECT_EQ((*kernels)[1].function, "host_keops_0");

  constexpr int N = 37, M = 23;
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::vector<double> x(N * 2), y(M * 2);
  for (double &v : x)
    v = uniform(random);
  for (double &v : y)
    v = uniform(random);
  auto sqdist = [&](int i, int j) {
    double d0 = x[i * 2] - y[j * 2], d1 = x[i * 2 + 1] - y[j * 2 + 1];
    return d0 * d0 + d1 * d1;
  };

  const keops::Kernel &gaussian = *(*kernels)[1].kernel;
  EXPECT_EQ(gaussian.getDtype(), KEOPS_RT_FLOAT64);
  std::vector<double> out(N * 2);
  llvm::Error error = gaussian.run({{x.data(), KEOPS_RT_FLOAT64, N, 2, 0},
                                    {y.data(), KEOPS_RT_FLOAT64, M, 2, 0}},
                                   {{out.data(), KEOPS_RT_FLOAT64, N, 2, 0}});
  ASSERT_FALSE(error) << llvm::toString(std::move(error));
  for (int i = 0; i < N; ++i)
    for (int c = 0; c < 2; ++c) {
      double want = 0;
      for (int j = 0; j < M; ++j)
        want += std::exp(-sqdist(i, j)) * y[j * 2 + c];
      EXPECT_NEAR(out[i * 2 + c], want, 1e-12 * std::abs(want) + 1e-14);
    }

  const keops::Kernel &nearest = *(*kernels)[0].kernel;
  EXPECT_EQ(nearest.getDtype(), KEOPS_RT_FLOAT32);
  EXPECT_EQ(nearest.getRowCategory(), KEOPS_RT_CATEGORY_J);
  std::vector<float> xf(x.begin(), x.end()), yf(y.begin(), y.end());
  std::vector<int64_t> index(M);
  error = nearest.run({{xf.data(), KEOPS_RT_FLOAT32, N, 2, 0},
                       {yf.data(), KEOPS_RT_FLOAT32, M, 2, 0}},
                      {{index.data(), KEOPS_RT_INT64, M, 1, 0}});
  ASSERT_FALSE(error) << llvm::toString(std::move(error));
  for (int j = 0; j < M; ++j) {
    int best = 0;
    for (int i = 1; i < N; ++i)
      if (sqdist(i, j) < sqdist(best, j))
        best = i;
    EXPECT_EQ(index[j], best) << "column " << j;
  }
}

TEST(ModuleCompileTest, BadModulesAreClearErrors) {
  auto parse = keops::compileModule("func.func @f( {");
  ASSERT_FALSE(static_cast<bool>(parse));
  EXPECT_NE(llvm::toString(parse.takeError()).find("module:1:"),
            std::string::npos);
  auto empty = keops::compileModule("func.func @f() { return }");
  ASSERT_FALSE(static_cast<bool>(empty));
  EXPECT_EQ(llvm::toString(empty.takeError()),
            "the module has no keops.reduce to compile");
}

} // namespace
