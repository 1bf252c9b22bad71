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
// Squared distances of 64 components are expanded (norms minus twice the
// inner products, centered): checked where the expansion would round badly
// (points far from the origin, near duplicates, infinite and NaN
// components).
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

/// Random inputs in [-1, 1) (b in [0.2, 1.2); x and y shifted by `shift`)
/// for N = 37, M = 1029.
struct Inputs {
  int64_t n = 37, m = 1029;
  std::vector<std::vector<double>> f64;
  std::vector<std::vector<float>> f32;
  explicit Inputs(double shift = 0) {
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
        if (k < 2)
          v += shift;
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

/// Checks the outputs `ours` of `kernel` on `data` against the float64
/// reference, with `tolerance` relative to each output's largest value
/// (NaN where the reference is NaN), and, when given, against `theirs`.
void expectMatchesReference(const keops::Kernel &kernel, Inputs &data,
                            bool isF32, double tolerance,
                            const std::vector<std::vector<double>> &ours,
                            const std::vector<std::vector<double>> *theirs) {
  auto arrays = data.arrays(isF32);
  bool overI = kernel.getRowCategory() == KEOPS_RT_CATEGORY_J;
  int64_t rows = overI ? data.m : data.n;
  auto exact = keops::ReferenceEvaluator::create(kernel, arrays, data.n,
                                                 data.m);
  ASSERT_TRUE(static_cast<bool>(exact)) << llvm::toString(exact.takeError());
  for (int64_t r = 0; r < rows; ++r) {
    auto expected = (*exact)->reduceRow(r);
    for (size_t o = 0; o < expected.size(); ++o) {
      int64_t dim = static_cast<int64_t>(expected[o].size());
      double scale = 1.0;
      for (double v : expected[o])
        if (std::isfinite(v))
          scale = std::max(scale, std::fabs(v));
      for (int64_t k = 0; k < dim; ++k) {
        double got = ours[o][r * dim + k], want = expected[o][k];
        if (std::isnan(want)) {
          ASSERT_TRUE(std::isnan(got)) << "row " << r << " output " << o;
          continue;
        }
        ASSERT_NEAR(got, want, tolerance * scale)
            << "row " << r << " output " << o << " component " << k;
        if (theirs)
          ASSERT_NEAR(got, (*theirs)[o][r * dim + k], tolerance * scale)
              << "row " << r << " output " << o << " component " << k;
      }
    }
  }
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
  expectMatchesReference(**kernel, data, isF32, isF32 ? 2e-5 : 1e-12, ours,
                         &theirs);
}

/// Gaussian sums (over j and over i, split over threads or not) and the
/// 5 nearest neighbours, whose squared distances are expanded, on `data`.
void expectExpandedSqDistsExact(Inputs &data, bool isF32) {
  const char *formulas[] = {"Sum_Reduction(Exp(-SqDist(x,y)/64)*b, 0)",
                            "Sum_Reduction(Exp(-SqDist(x,y)/64)*b, 1)",
                            "ArgKMin_Reduction(SqDist(x,y), 5, 0)"};
  keops::CompileOptions options;
  options.dtype = isF32 ? "float32" : "float64";
  for (const char *formula : formulas) {
    auto kernel = keops::compile(formula, kAliases, options);
    ASSERT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError());
    bool overI = (*kernel)->getRowCategory() == KEOPS_RT_CATEGORY_J;
    for (int32_t threads : {1, 64}) {
      SCOPED_TRACE(std::string(formula) + ", threads " +
                   std::to_string(threads));
      auto ours = run(**kernel, data.arrays(isF32), overI ? data.m : data.n,
                      threads);
      expectMatchesReference(**kernel, data, isF32, isF32 ? 2e-5 : 1e-12,
                             ours, nullptr);
    }
  }
}

TEST(SqDistExpansionTest, UniformPointsUseTheExpansion) {
  Inputs data;
  expectExpandedSqDistsExact(data, true);
  expectExpandedSqDistsExact(data, false);
}

TEST(SqDistExpansionTest, FarFromTheOriginIsCentered) {
  // |x|^2 ~ 6.4e7: without the centering, the expansion's float32 rounding
  // (~4) would exceed the squared distances themselves (~40).
  Inputs data(1000.0);
  expectExpandedSqDistsExact(data, true);
  expectExpandedSqDistsExact(data, false);
}

TEST(SqDistExpansionTest, NearDuplicatesTakeTheDirectForm) {
  // y_j = x_(j mod N) + 1e-3 noise, 3 + j / N: the nearest neighbours are
  // 1e-3 away from points of norm ~30.
  Inputs data(3.0);
  for (int64_t j = 0; j < data.m; ++j)
    for (int64_t d = 0; d < 64; ++d) {
      float &v = data.f32[1][j * 64 + d];
      v = data.f32[0][(j % data.n) * 64 + d] + 1e-3f * (v - 3.0f) +
          1e-4f * static_cast<float>(j / data.n);
      data.f64[1][j * 64 + d] = v;
    }
  expectExpandedSqDistsExact(data, true);
}

TEST(SqDistExpansionTest, InfiniteAndNaNComponentsAsInTheDirectForm) {
  // An infinite component makes the distance +inf (Exp(-inf) = 0, not the
  // NaN of inf - inf); a NaN makes it NaN.
  Inputs data;
  data.f32[0][3 * 64 + 5] = data.f64[0][3 * 64 + 5] = INFINITY;
  data.f32[0][7 * 64 + 9] = data.f64[0][7 * 64 + 9] = NAN;
  data.f32[1][11 * 64 + 1] = data.f64[1][11 * 64 + 1] = -INFINITY;
  keops::CompileOptions options;
  auto kernel = keops::compile("Sum_Reduction(Exp(-SqDist(x,y)/64)*b, 0)",
                               kAliases, options);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  auto ours = run(**kernel, data.arrays(true), data.n);
  EXPECT_EQ(ours[0][3], 0.0);
  EXPECT_TRUE(std::isnan(ours[0][7]));
  expectMatchesReference(**kernel, data, true, 2e-5, ours, nullptr);
}

TEST(OutputChunkTest, SplitColumnsAndRangesMergeChunkStates) {
  // 37 rows over 64 threads: the columns split, raw states merge per chunk.
  // Two column ranges per cluster: the second resumes the first's states.
  keops::BlockSparseRanges ranges{{0, 20, 20, 37}, {2, 4},
                                  {0, 500, 500, 1029, 0, 300, 300, 1029}};
  // The raw state values of a row: 3 chunks of 16 components (not 41):
  // sums, values and indices, the maximum and 16 sums; a column product
  // (a factor times z, of 41 components, or times y, which the factor
  // reads too) keeps a sum per component.
  std::pair<const char *, int32_t> cases[] = {
      {"Sum_Reduction(Exp(-SqDist(x,y)/64)*z, 0)", 41},
      {"Sum_Reduction(Exp(-SqDist(x,y)/64)*y, 0)", 64},
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
            // 64 components, over j and over i, also when the factor reads
            // the variable too (y: staged, the factors on the stack).
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
