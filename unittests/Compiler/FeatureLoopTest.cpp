//===- FeatureLoopTest.cpp - Loops over wide feature dimensions -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file compiles formulas over 64-dimensional variables, whose sums of
// components loop over the features (feature-loop-min-dim = 32) and whose
// wide outputs are reduced in chunks of components, and checks them against
// the float64 reference evaluation and against the same kernels with every
// component unrolled (feature-loop-min-dim = 0): sums, distances and scalar
// products of componentwise trees, a tree also used outside its sum,
// dimension-1 and parameter leaves, reductions over i and index outputs,
// wide outputs of every chunked kind (41 components: a partial last chunk),
// in float32 and float64; and chunked kernels whose columns are split over
// threads or walked as block-sparse ranges (raw states per chunk).
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/Compiler.h"
#include "keops/Compiler/Reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace {

const std::vector<std::string> kAliases = {"x = Vi(64)", "y = Vj(64)",
                                           "w = Pm(64)", "q = Pm(1)",
                                           "b = Vj(1)",  "z = Vj(41)",
                                           "u = Vi(41)"};

/// Random inputs in [-1, 1) (b in [0.2, 1.2)) for N = 37, M = 1029.
struct Inputs {
  int64_t n = 37, m = 1029;
  std::vector<std::vector<double>> f64;
  std::vector<std::vector<float>> f32;
  Inputs() {
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    int64_t sizes[] = {n * 64, m * 64, 64, 1, m, m * 41, n * 41};
    for (int k = 0; k < 7; ++k) {
      f64.emplace_back();
      f32.emplace_back();
      for (int64_t e = 0; e < sizes[k]; ++e) {
        double v = uniform(rng);
        if (k == 4)
          v = 0.7 + v / 2;
        f32.back().push_back(static_cast<float>(v));
        f64.back().push_back(f32.back().back());
      }
    }
  }
  std::vector<keops_rt_array_t> arrays(bool isF32) {
    int64_t rows[] = {n, m, 1, 1, m, m, n}, cols[] = {64, 64, 64, 1, 1, 41, 41};
    std::vector<keops_rt_array_t> result;
    for (int k = 0; k < 7; ++k)
      result.push_back({isF32 ? static_cast<void *>(f32[k].data())
                              : static_cast<void *>(f64[k].data()),
                        isF32 ? KEOPS_RT_FLOAT32 : KEOPS_RT_FLOAT64, rows[k],
                        cols[k], 0});
    return result;
  }
};

/// The outputs of `kernel` as doubles (indices too).
std::vector<std::vector<double>>
run(const keops::Kernel &kernel, const std::vector<keops_rt_array_t> &in,
    int64_t rows, int32_t threads = 0,
    const keops::BlockSparseRanges *ranges = nullptr) {
  std::vector<std::vector<double>> values;
  std::vector<std::vector<char>> storage;
  std::vector<keops_rt_array_t> out;
  for (const keops::KernelOutput &o : kernel.getOutputs()) {
    storage.emplace_back(rows * o.dim * 8);
    out.push_back({storage.back().data(), o.dtype, rows, o.dim, 0});
  }
  keops::RunOptions options;
  options.numThreads = threads;
  options.ranges = ranges;
  llvm::Error error = kernel.run(in, out, options);
  EXPECT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));
  for (size_t k = 0; k < out.size(); ++k) {
    values.emplace_back();
    for (int64_t e = 0; e < rows * out[k].cols; ++e)
      values.back().push_back(
          out[k].dtype == KEOPS_RT_FLOAT32
              ? reinterpret_cast<float *>(storage[k].data())[e]
          : out[k].dtype == KEOPS_RT_FLOAT64
              ? reinterpret_cast<double *>(storage[k].data())[e]
              : static_cast<double>(
                    reinterpret_cast<int64_t *>(storage[k].data())[e]));
  }
  return values;
}

using Param = std::tuple<const char *, bool>;
class FeatureLoopTest : public ::testing::TestWithParam<Param> {};

TEST_P(FeatureLoopTest, LoopsMatchReferenceAndUnrolledCode) {
  auto [formula, isF32] = GetParam();
  keops::CompileOptions looped, unrolled;
  looped.dtype = unrolled.dtype = isF32 ? "float32" : "float64";
  unrolled.featureLoopMinDim = 0;
  auto kernel = keops::compile(formula, kAliases, looped);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  auto reference = keops::compile(formula, kAliases, unrolled);
  ASSERT_TRUE(static_cast<bool>(reference))
      << llvm::toString(reference.takeError());
  ASSERT_NE(kernel->get(), reference->get()); // two different kernels

  Inputs data;
  auto arrays = data.arrays(isF32);
  bool overI = (*kernel)->getRowCategory() == KEOPS_RT_CATEGORY_J;
  int64_t rows = overI ? data.m : data.n;
  auto ours = run(**kernel, arrays, rows);
  auto theirs = run(**reference, arrays, rows);
  auto exact = keops::ReferenceEvaluator::create(**kernel, arrays, data.n,
                                                 data.m);
  ASSERT_TRUE(static_cast<bool>(exact)) << llvm::toString(exact.takeError());
  double tolerance = isF32 ? 2e-5 : 1e-12;
  for (int64_t r = 0; r < rows; ++r) {
    auto expected = (*exact)->reduceRow(r);
    for (size_t o = 0; o < expected.size(); ++o) {
      int64_t dim = static_cast<int64_t>(expected[o].size());
      double scale = 1.0;
      for (double v : expected[o])
        scale = std::max(scale, std::fabs(v));
      for (int64_t k = 0; k < dim; ++k) {
        double got = ours[o][r * dim + k];
        ASSERT_NEAR(got, expected[o][k], tolerance * scale)
            << "row " << r << " output " << o << " component " << k;
        ASSERT_NEAR(got, theirs[o][r * dim + k], tolerance * scale)
            << "row " << r << " output " << o << " component " << k;
      }
    }
  }
}

TEST(OutputChunkTest, SplitColumnsAndRangesMergeChunkStates) {
  // 37 rows over 64 threads: the columns split, raw states merge per chunk.
  // Two column ranges per cluster: the second resumes the first's states.
  keops::BlockSparseRanges ranges{{0, 20, 20, 37}, {2, 4},
                                  {0, 500, 500, 1029, 0, 300, 300, 1029}};
  // The raw state values of a row: 3 chunks of 16 components (not 41):
  // sums, values and indices, the maximum and 16 sums; a column product
  // (a factor times z, of 41 components) keeps 41 sums.
  std::pair<const char *, int32_t> cases[] = {
      {"Sum_Reduction(Exp(-SqDist(x,y)/64)*z, 0)", 41},
      {"Sum_Reduction(Exp(-SqDist(x,y)/64)*Exp(z), 0)", 3 * 16},
      {"Min_ArgMin_Reduction(Abs(u-z) + (x|y)/64, 0)", 3 * 32},
      {"LogSumExp_Reduction(-SqDist(x,y)/64, 0, Exp(z-u))", 3 * 17}};
  for (auto [formula, stateValues] : cases) {
    auto kernel = keops::compile(formula, kAliases);
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError());
    keops_rt_kernel_desc_t desc;
    keops_rt_kernel_describe((*kernel)->getRuntimeKernel(), &desc);
    EXPECT_EQ(desc.state_floats + desc.state_ints, stateValues) << formula;
    Inputs data;
    auto arrays = data.arrays(true);
    auto dense = run(**kernel, arrays, data.n, 1);
    auto split = run(**kernel, arrays, data.n, 64);
    auto sparse = run(**kernel, arrays, data.n, 2, &ranges);
    for (size_t o = 0; o < dense.size(); ++o)
      for (size_t e = 0; e < dense[o].size(); ++e) {
        double tolerance = 1e-5 * std::max(1.0, std::fabs(dense[o][e]));
        ASSERT_NEAR(split[o][e], dense[o][e], tolerance)
            << formula << " split, output " << o << " element " << e;
        ASSERT_NEAR(sparse[o][e], dense[o][e], tolerance)
            << formula << " ranges, output " << o << " element " << e;
      }
  }
}

std::string paramName(const ::testing::TestParamInfo<Param> &info) {
  return std::to_string(info.index / 2) +
         (std::get<1>(info.param) ? "_f32" : "_f64");
}

INSTANTIATE_TEST_SUITE_P(
    Formulas, FeatureLoopTest,
    ::testing::Combine(
        ::testing::Values(
            "Sum_Reduction(Exp(-SqDist(x,y)/64)*b, 0)",
            "Sum_Reduction(Exp(-SqDist(x,y)/64)*b, 1)",
            "Sum_Reduction(Exp(-Sum(Abs(x-y)*w)*q/64), 0)",
            "LogSumExp_Reduction((x|y)*q - SqNorm2(x*w-y)/32, 0)",
            "ArgMin_Reduction(SqDist(x,y), 0)",
            "KMin_ArgKMin_Reduction(Sum(Square(x-y*b)) + (x|w), 3, 1)",
            "Sum_Reduction(Exp(-SqDist(x,y)/64)*(x-y), 0)",
            "Max_Reduction(Sum(IfElse(x-y, x, y*q)) + SqDist(x, b), 0)",
            // Column products: a factor times a reduced variable of 41 or
            // 64 components, over j and over i (not when the factor reads
            // the variable too: y).
            "Sum_Reduction(Exp(-SqDist(x,y)/64)*z, 0)",
            "Sum_Reduction(u*Exp(-SqDist(x,y)/64), 1)",
            "Sum_Reduction(y*Exp(-SqDist(x,y)/64), 0)",
            "Sum_Reduction(Exp(-b*q)*x, 1)",
            // Chunked outputs (41 or 64 components).
            "Sum_Reduction(z*q - u, 1)",
            "Min_ArgMin_Reduction(Abs(u-z) + (x|y)/64, 0)",
            "ArgMax_Reduction(u*z, 1)",
            "Max_Reduction(Exp(x-y)*w, 0)",
            "LogSumExp_Reduction(-SqDist(x,y)/64, 0, Exp(z-u))",
            "SumSoftMaxWeight_Reduction(-SqDist(x,y)/64, 0, z)"),
        ::testing::Bool()),
    paramName);

} // namespace
