//===- GpuTest.cpp - The GPU backend through the C++ API --------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file tests what the GPU backend does everywhere (PTX needs no GPU;
// without one, the GPU backend fails with KEOPS_RT_NO_GPU and auto falls
// back to the CPU) and, where a GPU is usable (or emulated), that it agrees
// with the CPU on one GPU and split over all of them, dense and
// block-sparse, and on random sizes, block sizes, rows per thread and
// ranges.
// ReductionTest checks every kind against a float64 reference.
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/Compiler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace {

const char *kGauss = "Sum_Reduction(Exp(-SqDist(x,y))*b,0)";
const std::vector<std::string> kAliases = {"x = Vi(3)", "y = Vj(3)",
                                           "b = Vj(1)"};

bool haveGpu() {
  auto count = keops::gpuDeviceCount();
  if (count)
    return *count > 0;
  llvm::consumeError(count.takeError());
  return false;
}

TEST(GpuTest, PtxNeedsNoGpu) {
  keops::CompileOptions options;
  options.gpuArch = "sm_80";
  auto ptx = keops::lowerToPtx(kGauss, kAliases, options);
  ASSERT_TRUE(static_cast<bool>(ptx)) << llvm::toString(ptx.takeError());
  EXPECT_NE(ptx->find(".target sm_80"), std::string::npos);
  EXPECT_NE(ptx->find("bar.sync"), std::string::npos);
  EXPECT_EQ(ptx->find("__nv_"), std::string::npos);
}

TEST(GpuTest, BadGpuOptionsAreRejected) {
  keops::CompileOptions options;
  options.backend = "tpu";
  auto kernel = keops::compile(kGauss, kAliases, options);
  ASSERT_FALSE(static_cast<bool>(kernel));
  EXPECT_EQ(llvm::toString(kernel.takeError()),
            "backend must be cpu, gpu or auto, got 'tpu'");
  options.backend = "gpu";
  options.gpuArch = "90";
  auto ptx = keops::lowerToPtx(kGauss, kAliases, options);
  ASSERT_FALSE(static_cast<bool>(ptx));
  EXPECT_EQ(llvm::toString(ptx.takeError()),
            "gpu_arch must look like sm_90, got '90'");
  options.gpuArch = "sm_90";
  options.gpuRowsPerThread = 17;
  ptx = keops::lowerToPtx(kGauss, kAliases, options);
  ASSERT_FALSE(static_cast<bool>(ptx));
  EXPECT_EQ(llvm::toString(ptx.takeError()),
            "gpu_rows_per_thread must be in [0, 16] (0: automatic), got 17");
}

TEST(GpuTest, RowsPerThreadWhereTheyFitTheRegisters) {
  keops::CompileOptions options;
  options.gpuCubin = false;
  // The formula, its aliases, the rows per thread asked for (0: automatic)
  // and those expected.
  struct Case {
    const char *formula;
    std::vector<std::string> aliases;
    int64_t requested, expected;
  };
  for (const Case &c : std::vector<Case>{
           // 3 components of x and 2 sum states (the block sum): 4 rows.
           {kGauss, kAliases, 0, 4},
           {kGauss, kAliases, 3, 3},
           // kmin K=3 over i: 3 components, 3 values and their indices
           // (2 registers each), 12 registers a row.
           {"KMin_Reduction(SqDist(x,y),3,1)", {"x = Vj(3)", "y = Vi(3)"},
            0, 2},
           // argkmin K=10: 10 values and 10 indices of 2 registers.
           {"ArgKMin_Reduction(SqDist(x,y),10,0)", {"x = Vi(3)", "y = Vj(3)"},
            0, 1},
           // A 16-component output chunk (32 registers with the block sum).
           {kGauss, {"x = Vi(3)", "y = Vj(3)", "b = Vj(40)"}, 0, 1}}) {
    options.gpuRowsPerThread = c.requested;
    auto bundle = keops::buildGpuKernelBundle(c.formula, c.aliases, options);
    ASSERT_TRUE(static_cast<bool>(bundle)) << llvm::toString(bundle.takeError());
    EXPECT_EQ(bundle->rowsPerThread, c.expected) << c.formula;
    EXPECT_EQ(bundle->blockSize, 256) << c.formula;
  }
}

TEST(GpuTest, NoGpuIsAClearError) {
  if (haveGpu())
    GTEST_SKIP() << "a GPU is present";
  int32_t count = -1;
  keops_rt_status_t status = keops_rt_gpu_device_count(&count);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(keops_rt_status_code(status), KEOPS_RT_NO_GPU);
  EXPECT_EQ(std::string(keops_rt_status_message(status)).rfind("no GPU: ", 0),
            0u);
  keops_rt_status_free(status);
  EXPECT_EQ(count, 0);

  keops::CompileOptions options;
  options.backend = "gpu";
  auto kernel = keops::compile(kGauss, kAliases, options);
  ASSERT_FALSE(static_cast<bool>(kernel));
  EXPECT_EQ(llvm::toString(kernel.takeError()).rfind("no GPU: ", 0), 0u);

  options.backend = "auto";
  auto fallback = keops::compile(kGauss, kAliases, options);
  ASSERT_TRUE(static_cast<bool>(fallback))
      << llvm::toString(fallback.takeError());
  EXPECT_EQ((*fallback)->getBackend(), "cpu");
}

/// Gaussian sums of random data on the CPU and on the GPU.
struct GaussData {
  int64_t n, m;
  std::vector<float> x, y, b;
  GaussData(int64_t n, int64_t m) : n(n), m(m), x(n * 3), y(m * 3), b(m) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uniform(0, 1);
    for (auto *v : {&x, &y, &b})
      for (float &e : *v)
        e = uniform(rng);
  }
  std::vector<keops_rt_array_t> inputs() {
    return {{x.data(), KEOPS_RT_FLOAT32, n, 3, 0},
            {y.data(), KEOPS_RT_FLOAT32, m, 3, 0},
            {b.data(), KEOPS_RT_FLOAT32, m, 1, 0}};
  }
  std::vector<float> run(const std::string &backend, int32_t device,
                         const keops::BlockSparseRanges *ranges = nullptr) {
    keops::CompileOptions options;
    options.backend = backend;
    auto kernel = keops::compile(kGauss, kAliases, options);
    EXPECT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
    std::vector<float> a(n, -1);
    if (!kernel)
      return a;
    EXPECT_EQ((*kernel)->getBackend(), backend);
    keops::RunOptions run;
    run.deviceId = device;
    run.ranges = ranges;
    llvm::Error error = (*kernel)->run(
        inputs(), {{a.data(), KEOPS_RT_FLOAT32, n, 1, 0}}, run);
    EXPECT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));
    return a;
  }
};

TEST(GpuTest, GpuAgreesWithCpuOnEveryDeviceSplit) {
  if (!haveGpu())
    GTEST_SKIP() << "no GPU";
  GaussData data(20000, 3001);
  std::vector<float> cpu = data.run("cpu", -1);
  for (int32_t device : {-1, 0}) {
    std::vector<float> gpu = data.run("gpu", device);
    for (int64_t r = 0; r < data.n; ++r)
      ASSERT_NEAR(gpu[r], cpu[r], 1e-4 * std::max(1.0f, std::fabs(cpu[r])))
          << "row " << r << " device " << device;
  }
}

TEST(GpuTest, BlockSparseAgreesWithCpuOnEveryDeviceSplit) {
  if (!haveGpu())
    GTEST_SKIP() << "no GPU";
  // Two clusters with ranges (the first one cut between devices when there
  // are several) and rows without any.
  GaussData data(40000, 3001);
  keops::BlockSparseRanges ranges{
      {0, 14000, 14000, 24000}, {1, 3}, {0, 1000, 500, 1500, 2900, 3001}};
  std::vector<float> cpu = data.run("cpu", -1, &ranges);
  for (int32_t device : {-1, 0}) {
    std::vector<float> gpu = data.run("gpu", device, &ranges);
    for (int64_t r = 0; r < data.n; ++r)
      ASSERT_NEAR(gpu[r], cpu[r], 1e-4 * std::max(1.0f, std::fabs(cpu[r])))
          << "row " << r << " device " << device;
  }
}

/// One random schedule of RandomSchedulesAgreeWithTheCpu.
struct RandomRun {
  std::mt19937 &rng;
  int64_t below(int64_t n) { return static_cast<int64_t>(rng() % n); }
  /// Mostly up to `large`, sometimes a few (partial blocks and tiles).
  int64_t size(int64_t large) { return 1 + (below(4) ? below(large) : below(5)); }
  std::vector<double> values(int64_t count) {
    std::uniform_real_distribution<double> uniform(0, 1);
    std::vector<double> v(count);
    for (double &e : v)
      e = uniform(rng);
    return v;
  }
  /// 1 to 3 clusters of rows (the rows between them in none), each over 0
  /// to 2 column ranges.
  keops::BlockSparseRanges ranges(int64_t rows, int64_t cols) {
    keops::BlockSparseRanges r;
    int64_t begin = below(rows);
    for (int64_t c = 0, n = 1 + below(3); c < n && begin < rows; ++c) {
      int64_t end = begin + 1 + below(rows - begin);
      r.rowRanges.insert(r.rowRanges.end(), {begin, end});
      for (int64_t k = 0, m = below(3); k < m; ++k) {
        int64_t first = below(cols);
        r.colRanges.insert(r.colRanges.end(),
                           {first, first + 1 + below(cols - first)});
      }
      r.slices.push_back(static_cast<int64_t>(r.colRanges.size() / 2));
      begin = end + below(4);
    }
    return r;
  }
};

/// Random sizes, block sizes, rows per thread and block-sparse ranges, on
/// every GPU: the GPU's schedules (partial blocks, split columns, fewer
/// columns than a tile, clusters cut between devices) give what the CPU
/// gives.
TEST(GpuTest, RandomSchedulesAgreeWithTheCpu) {
  if (!haveGpu())
    GTEST_SKIP() << "no GPU";
  struct Kind {
    const char *formula;
    int64_t outputDim;
    keops_rt_dtype_t outputDtype;
  };
  const Kind kinds[] = {
      {"Sum_Reduction(Exp(-SqDist(x,y))*b,0)", 1, KEOPS_RT_FLOAT64},
      {"LogSumExp_Reduction(-SqDist(x,y),0,b)", 1, KEOPS_RT_FLOAT64},
      {"ArgMin_Reduction(SqDist(x,y)+b,0)", 1, KEOPS_RT_INT64},
      {"KMin_Reduction(SqDist(x,y)-b,3,0)", 3, KEOPS_RT_FLOAT64}};
  const std::vector<std::string> aliases = {"x = Vi(2)", "y = Vj(2)",
                                            "b = Vj(1)"};
  std::mt19937 engine(11);
  RandomRun random{engine};
  for (int trial = 0; trial < 48; ++trial) {
    const Kind &kind = kinds[trial % 4];
    int64_t rows = random.size(3000), cols = random.size(3000);
    std::vector<double> x = random.values(rows * 2), y = random.values(cols * 2),
                        b = random.values(cols);
    keops::BlockSparseRanges ranges = random.ranges(rows, cols);
    keops::RunOptions run;
    if (trial % 2)
      run.ranges = &ranges;
    keops::CompileOptions options;
    options.dtype = "float64";
    options.gpuBlockSize = 32 << random.below(4);
    options.gpuRowsPerThread = random.below(5);
    std::string what = std::string(kind.formula) + ", " +
                       std::to_string(rows) + " x " + std::to_string(cols) +
                       ", block " + std::to_string(options.gpuBlockSize) +
                       ", rows per thread " +
                       std::to_string(options.gpuRowsPerThread) +
                       (run.ranges ? ", block-sparse" : "");
    std::vector<std::vector<double>> results;
    for (const char *backend : {"cpu", "gpu"}) {
      options.backend = backend;
      auto kernel = keops::compile(kind.formula, aliases, options);
      ASSERT_TRUE(static_cast<bool>(kernel))
          << llvm::toString(kernel.takeError());
      // Indices come as int64 and are compared as doubles.
      std::vector<double> out(rows * kind.outputDim, -1);
      std::vector<int64_t> indices(out.size(), -1);
      void *data = kind.outputDtype == KEOPS_RT_INT64
                       ? static_cast<void *>(indices.data())
                       : static_cast<void *>(out.data());
      llvm::Error error = (*kernel)->run(
          {{x.data(), KEOPS_RT_FLOAT64, rows, 2, 0},
           {y.data(), KEOPS_RT_FLOAT64, cols, 2, 0},
           {b.data(), KEOPS_RT_FLOAT64, cols, 1, 0}},
          {{data, kind.outputDtype, rows, kind.outputDim, 0}}, run);
      ASSERT_FALSE(static_cast<bool>(error))
          << llvm::toString(std::move(error)) << " (" << what << ")";
      if (kind.outputDtype == KEOPS_RT_INT64)
        out.assign(indices.begin(), indices.end());
      results.push_back(out);
    }
    for (size_t k = 0; k < results[0].size(); ++k) {
      double cpu = results[0][k], gpu = results[1][k];
      if (cpu == gpu) // infinities of empty reductions too
        continue;
      ASSERT_NEAR(gpu, cpu, 1e-10 * std::max(1.0, std::fabs(cpu)))
          << "element " << k << " of " << what;
    }
  }
}

TEST(GpuTest, HostMemoryOnlyForCpuKernels) {
  GaussData data(10, 10);
  keops::CompileOptions options;
  auto kernel = keops::compile(kGauss, kAliases, options);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  std::vector<float> a(10);
  keops::RunOptions onDevice;
  onDevice.memory = KEOPS_RT_MEMORY_DEVICE;
  llvm::Error error = (*kernel)->run(
      data.inputs(), {{a.data(), KEOPS_RT_FLOAT32, 10, 1, 0}}, onDevice);
  ASSERT_TRUE(static_cast<bool>(error));
  EXPECT_EQ(llvm::toString(std::move(error)),
            "keops_kernel is a CPU kernel: its arrays must be in host memory, "
            "not on a GPU");
}

} // namespace
