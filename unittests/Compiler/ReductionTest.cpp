//===- ReductionTest.cpp - Every reduction on the CPU vs float64 -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file runs every reduction kind, over both axes, in float32 and
// float64, on the CPU and on the GPU (skipped without one), on random data
// of sizes (N, M) in {(1,1), (7,13), (1000,999), (4097,3)} and, where the
// runtime splits the columns of few rows over threads and merges their raw
// states (4 threads asked for), {(1,70000), (5,20000)}, and compares
// the compiled kernels with a dense float64 reference written here in plain
// C++ (the formulas are hand-coded, so the reference shares nothing with
// the compiler).
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/Compiler.h"
#include "keops/Runtime/KeOpsRuntime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>

namespace {

enum class Kind {
  Sum, LogSumExp, LogSumExpWeight, SumSoftMaxWeight, Min, Max, ArgMin, ArgMax,
  MinArgMin, MaxArgMax, KMin, ArgKMin, KMinArgKMin
};
constexpr int64_t K = 3;

struct KindInfo {
  const char *name;
  /// The formula given to keops, with `AXIS` for the axis tag.
  const char *formula;
};

KindInfo info(Kind kind) {
  const char *gauss = "-p*SqDist(x,y)";
  const char *diff = "(x-y)*(x+y)-p";
  switch (kind) {
  case Kind::Sum: return {"Sum", "Sum_Reduction(Exp(-p*SqDist(x,y))*b, AXIS)"};
  case Kind::LogSumExp: return {"LogSumExp", "LogSumExp_Reduction(-p*SqDist(x,y), AXIS)"};
  case Kind::LogSumExpWeight: return {"LogSumExpWeight", "LogSumExp_Reduction(-p*SqDist(x,y), AXIS, b)"};
  case Kind::SumSoftMaxWeight: return {"SumSoftMaxWeight", "SumSoftMaxWeight_Reduction(-p*SqDist(x,y), AXIS, b)"};
  case Kind::Min: return {"Min", "Min_Reduction((x-y)*(x+y)-p, AXIS)"};
  case Kind::Max: return {"Max", "Max_Reduction((x-y)*(x+y)-p, AXIS)"};
  case Kind::ArgMin: return {"ArgMin", "ArgMin_Reduction((x-y)*(x+y)-p, AXIS)"};
  case Kind::ArgMax: return {"ArgMax", "ArgMax_Reduction((x-y)*(x+y)-p, AXIS)"};
  case Kind::MinArgMin: return {"MinArgMin", "Min_ArgMin_Reduction((x-y)*(x+y)-p, AXIS)"};
  case Kind::MaxArgMax: return {"MaxArgMax", "Max_ArgMax_Reduction((x-y)*(x+y)-p, AXIS)"};
  case Kind::KMin: return {"KMin", "KMin_Reduction((x-y)*(x+y)-p, 3, AXIS)"};
  case Kind::ArgKMin: return {"ArgKMin", "ArgKMin_Reduction((x-y)*(x+y)-p, 3, AXIS)"};
  case Kind::KMinArgKMin: return {"KMinArgKMin", "KMin_ArgKMin_Reduction((x-y)*(x+y)-p, 3, AXIS)"};
  }
  (void)gauss;
  (void)diff;
  return {};
}

/// Random inputs x (N x 3), y (M x 3), b (M x 2), p (1), uniform in [0, 1)
/// (p in [0.5, 1.5)), stored in the tested dtype; `values` holds them as
/// doubles after rounding, for the reference.
struct Data {
  int64_t n, m;
  std::vector<double> x, y, b, p;
  std::vector<float> x32, y32, b32, p32;

  Data(int64_t n, int64_t m, bool f32, unsigned seed) : n(n), m(m) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    auto fill = [&](std::vector<double> &v, std::vector<float> &v32,
                    int64_t count, double offset) {
      for (int64_t k = 0; k < count; ++k) {
        double value = uniform(rng) + offset;
        v32.push_back(static_cast<float>(value));
        v.push_back(f32 ? static_cast<double>(v32.back()) : value);
      }
    };
    fill(x, x32, n * 3, 0.0);
    fill(y, y32, m * 3, 0.0);
    fill(b, b32, m * 2, 0.0);
    fill(p, p32, 1, 0.5);
  }
};

/// F(i, j) and the weight of the test formulas, in float64.
std::vector<double> formula(Kind kind, const Data &d, int64_t i, int64_t j) {
  const double *xi = &d.x[i * 3], *yj = &d.y[j * 3];
  if (kind <= Kind::SumSoftMaxWeight) {
    double sq = 0;
    for (int k = 0; k < 3; ++k)
      sq += (xi[k] - yj[k]) * (xi[k] - yj[k]);
    double f = -d.p[0] * sq;
    if (kind == Kind::Sum)
      return {std::exp(f) * d.b[j * 2], std::exp(f) * d.b[j * 2 + 1]};
    return {f};
  }
  std::vector<double> f(3);
  for (int k = 0; k < 3; ++k)
    f[k] = (xi[k] - yj[k]) * (xi[k] + yj[k]) - d.p[0];
  return f;
}

/// The reference outputs of output row `r` (indices as doubles).
std::vector<std::vector<double>> reference(Kind kind, const Data &d, int axis,
                                           int64_t r) {
  int64_t cols = axis == 0 ? d.m : d.n;
  auto pair = [&](int64_t c) {
    return axis == 0 ? formula(kind, d, r, c) : formula(kind, d, c, r);
  };
  auto weight = [&](int64_t c, int k) {
    return d.b[(axis == 0 ? c : r) * 2 + k];
  };
  double inf = std::numeric_limits<double>::infinity();
  switch (kind) {
  case Kind::Sum: {
    std::vector<double> s(2, 0.0);
    for (int64_t c = 0; c < cols; ++c)
      for (int k = 0; k < 2; ++k)
        s[k] += pair(c)[k];
    return {s};
  }
  case Kind::LogSumExp:
  case Kind::LogSumExpWeight:
  case Kind::SumSoftMaxWeight: {
    double m = -inf;
    for (int64_t c = 0; c < cols; ++c)
      m = std::max(m, pair(c)[0]);
    double s0 = 0, s[2] = {0, 0};
    for (int64_t c = 0; c < cols; ++c) {
      double e = std::exp(pair(c)[0] - m);
      s0 += e;
      for (int k = 0; k < 2; ++k)
        s[k] += e * weight(c, k);
    }
    if (kind == Kind::LogSumExp)
      return {{m + std::log(s0)}};
    if (kind == Kind::LogSumExpWeight)
      return {{m + std::log(s[0]), m + std::log(s[1])}};
    return {{s[0] / s0, s[1] / s0}};
  }
  case Kind::KMin:
  case Kind::ArgKMin:
  case Kind::KMinArgKMin: {
    std::vector<double> values(K * 3, inf), indices(K * 3, 0);
    std::vector<std::vector<double>> all;
    for (int64_t c = 0; c < cols; ++c)
      all.push_back(pair(c));
    for (int k = 0; k < 3; ++k) {
      std::vector<int64_t> order(cols);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return all[a][k] < all[b][k];
      });
      for (int64_t s = 0; s < K && s < cols; ++s) {
        values[s * 3 + k] = all[order[s]][k];
        indices[s * 3 + k] = static_cast<double>(order[s]);
      }
    }
    if (kind == Kind::KMin)
      return {values};
    if (kind == Kind::ArgKMin)
      return {indices};
    return {values, indices};
  }
  default: {
    bool smallest =
        kind == Kind::Min || kind == Kind::ArgMin || kind == Kind::MinArgMin;
    std::vector<double> best(3, smallest ? inf : -inf), index(3, 0);
    for (int64_t c = 0; c < cols; ++c)
      for (int k = 0; k < 3; ++k) {
        double v = pair(c)[k];
        if (smallest ? v < best[k] : v > best[k]) {
          best[k] = v;
          index[k] = static_cast<double>(c);
        }
      }
    if (kind == Kind::Min || kind == Kind::Max)
      return {best};
    if (kind == Kind::ArgMin || kind == Kind::ArgMax)
      return {index};
    return {best, index};
  }
  }
}

/// Whether output `o` of `kind` holds indices.
bool isIndexOutput(Kind kind, size_t o) {
  switch (kind) {
  case Kind::ArgMin: case Kind::ArgMax: case Kind::ArgKMin:
    return true;
  case Kind::MinArgMin: case Kind::MaxArgMax: case Kind::KMinArgKMin:
    return o == 1;
  default:
    return false;
  }
}

using Param = std::tuple<Kind, int, bool, const char *>;

class ReductionTest : public ::testing::TestWithParam<Param> {};

TEST_P(ReductionTest, MatchesDenseFloat64Reference) {
  auto [kind, axis, isF32, backend] = GetParam();
  bool f32 = isF32;
  bool gpu = std::string(backend) == "gpu";
  if (gpu) {
    auto count = keops::gpuDeviceCount();
    if (!count)
      GTEST_SKIP() << llvm::toString(count.takeError());
  }
  std::string formulaText = info(kind).formula;
  formulaText.replace(formulaText.find("AXIS"), 4, std::to_string(axis));
  keops::CompileOptions options;
  options.dtype = f32 ? "float32" : "float64";
  options.backend = backend;
  auto kernel = keops::compile(
      formulaText, {"x = Vi(3)", "y = Vj(3)", "b = Vj(2)", "p = Pm(1)"},
      options);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  // The GPU computes f32 exp and log with ex2.approx and lg2.approx.
  const double tolerance = !f32 ? 1e-11 : gpu ? 1e-4 : 2e-5;
  keops_rt_dtype_t dtype = f32 ? KEOPS_RT_FLOAT32 : KEOPS_RT_FLOAT64;

  for (auto sizes : {std::pair<int64_t, int64_t>{1, 1}, {7, 13}, {1000, 999},
                     {4097, 3}, {1, 70000}, {5, 20000}}) {
    int64_t n = sizes.first, m = sizes.second;
    SCOPED_TRACE("N=" + std::to_string(n) + " M=" + std::to_string(m));
    Data data(n, m, f32, static_cast<unsigned>(n * 31 + m));
    auto array = [&](std::vector<double> &v, std::vector<float> &v32,
                     int64_t rows, int64_t cols) {
      return keops_rt_array_t{f32 ? static_cast<void *>(v32.data())
                                  : static_cast<void *>(v.data()),
                              dtype, rows, cols, 0};
    };
    std::vector<keops_rt_array_t> inputs = {
        array(data.x, data.x32, n, 3), array(data.y, data.y32, m, 3),
        array(data.b, data.b32, m, 2), array(data.p, data.p32, 1, 1)};
    int64_t rows = axis == 0 ? n : m;
    const auto &outputsInfo = (*kernel)->getOutputs();
    std::vector<std::vector<double>> out64(outputsInfo.size());
    std::vector<std::vector<float>> out32(outputsInfo.size());
    std::vector<std::vector<int64_t>> outIdx(outputsInfo.size());
    std::vector<keops_rt_array_t> outputs;
    for (size_t o = 0; o < outputsInfo.size(); ++o) {
      int64_t size = rows * outputsInfo[o].dim;
      void *pointer;
      if (outputsInfo[o].dtype == KEOPS_RT_INT64)
        pointer = (outIdx[o].resize(size), outIdx[o].data());
      else if (f32)
        pointer = (out32[o].resize(size), out32[o].data());
      else
        pointer = (out64[o].resize(size), out64[o].data());
      outputs.push_back({pointer, outputsInfo[o].dtype, rows, outputsInfo[o].dim, 0});
    }
    keops::RunOptions options;
    options.numThreads = 4;
    llvm::Error error = (*kernel)->run(inputs, outputs, options);
    ASSERT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));

    for (int64_t r = 0; r < rows; ++r) {
      auto expected = reference(kind, data, axis, r);
      ASSERT_EQ(expected.size(), outputsInfo.size());
      for (size_t o = 0; o < expected.size(); ++o) {
        int64_t dim = outputsInfo[o].dim;
        ASSERT_EQ(static_cast<int64_t>(expected[o].size()), dim);
        if (!isIndexOutput(kind, o)) {
          double scale = 1.0;
          for (double v : expected[o])
            scale = std::max(scale, std::fabs(v));
          for (int64_t k = 0; k < dim; ++k) {
            double got = f32 ? out32[o][r * dim + k] : out64[o][r * dim + k];
            if (std::isinf(expected[o][k])) { // an empty k-min slot (K > M)
              ASSERT_EQ(got, expected[o][k]) << "row " << r << " component " << k;
              continue;
            }
            ASSERT_NEAR(got, expected[o][k], tolerance * scale)
                << "row " << r << " output " << o << " component " << k;
          }
          continue;
        }
        // An index is right when its value is the reference's best value
        // (float32 rounding may break near-ties differently).
        int64_t cols = axis == 0 ? m : n;
        auto values = reference(kind == Kind::ArgMax || kind == Kind::MaxArgMax
                                    ? Kind::Max
                                : kind == Kind::ArgMin || kind == Kind::MinArgMin
                                    ? Kind::Min
                                    : Kind::KMin,
                                data, axis, r)[0];
        for (int64_t k = 0; k < dim; ++k) {
          int64_t index = outIdx[o][r * dim + k];
          bool kKind = kind == Kind::ArgKMin || kind == Kind::KMinArgKMin;
          if (kKind && k / 3 >= cols) { // K > M: no column reaches the slot
            ASSERT_EQ(index, KEOPS_RT_NO_COLUMN) << "row " << r << " component " << k;
            continue;
          }
          ASSERT_GE(index, 0);
          ASSERT_LT(index, cols) << "row " << r << " component " << k;
          int64_t component = k % 3;
          auto pair = axis == 0 ? formula(kind, data, r, index)
                                : formula(kind, data, index, r);
          ASSERT_NEAR(pair[component], values[k],
                      tolerance * std::max(1.0, std::fabs(values[k])))
              << "row " << r << " index output component " << k;
        }
      }
    }
  }
}

std::string paramName(const ::testing::TestParamInfo<Param> &p) {
  auto [kind, axis, f32, backend] = p.param;
  return std::string(info(kind).name) + "_axis" + std::to_string(axis) +
         (f32 ? "_f32_" : "_f64_") + backend;
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, ReductionTest,
    ::testing::Combine(
        ::testing::Values(Kind::Sum, Kind::LogSumExp, Kind::LogSumExpWeight,
                          Kind::SumSoftMaxWeight, Kind::Min, Kind::Max,
                          Kind::ArgMin, Kind::ArgMax, Kind::MinArgMin,
                          Kind::MaxArgMax, Kind::KMin, Kind::ArgKMin,
                          Kind::KMinArgKMin),
        ::testing::Values(0, 1), ::testing::Bool(),
        ::testing::Values("cpu", "gpu")),
    paramName);

} // namespace
