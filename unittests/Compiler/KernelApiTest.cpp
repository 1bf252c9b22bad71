//===- KernelApiTest.cpp - The C++ API: errors, cache, options --*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file tests keops::compile and Kernel::run beyond the numbers of
// ReductionTest: every bad input gives an error that names the problem; the
// process cache compiles a formula once (also when two formulas have the same
// canonical IR); the sum schemes and the float64 accumulator do what they
// promise on a sum that float32 gets wrong.
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/Compiler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <chrono>
#include <thread>

namespace {

const std::vector<std::string> kAliases = {"x = Vi(3)", "y = Vj(3)",
                                           "b = Vj(1)", "p = Pm(2)"};
const char *kFormula = "Sum_Reduction(Exp(-SqDist(x,y))*b*Elem(p,0), 0)";

std::string errorOf(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : "";
}

template <typename T> std::string errorOf(llvm::Expected<T> value) {
  return value ? "" : llvm::toString(value.takeError());
}

class KernelApiTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto compiled = keops::compile(kFormula, kAliases);
    ASSERT_TRUE(static_cast<bool>(compiled))
        << llvm::toString(compiled.takeError());
    kernel = *compiled;
  }

  /// Valid arrays for N = 4, M = 5.
  std::vector<keops_rt_array_t> inputs() {
    return {{x.data(), KEOPS_RT_FLOAT32, 4, 3, 0},
            {y.data(), KEOPS_RT_FLOAT32, 5, 3, 0},
            {b.data(), KEOPS_RT_FLOAT32, 5, 1, 0},
            {p.data(), KEOPS_RT_FLOAT32, 1, 2, 0}};
  }
  std::vector<keops_rt_array_t> outputs() {
    return {{out.data(), KEOPS_RT_FLOAT32, 4, 1, 0}};
  }

  std::shared_ptr<const keops::Kernel> kernel;
  std::vector<float> x = std::vector<float>(12, 0.5f),
                     y = std::vector<float>(15, 0.5f),
                     b = std::vector<float>(5, 1.0f), p = {2.0f, 0.0f},
                     out = std::vector<float>(4, -1.0f);
};

TEST_F(KernelApiTest, RunsAndDescribesItself) {
  EXPECT_EQ(errorOf(kernel->run(inputs(), outputs())), "");
  for (float value : out)
    EXPECT_FLOAT_EQ(value, 10.0f); // 5 columns * exp(0) * 1 * 2
  ASSERT_EQ(kernel->getInputs().size(), 4u);
  EXPECT_EQ(kernel->getInputs()[3].name, "p");
  EXPECT_EQ(kernel->getInputs()[3].category, KEOPS_RT_CATEGORY_PARAM);
  EXPECT_EQ(kernel->getOutputs()[0].dim, 1);
  EXPECT_EQ(kernel->getRowCategory(), KEOPS_RT_CATEGORY_I);
}

TEST(InterruptTest, AFlagStopsARunAtItsNextPieceOfWork) {
  // N = 20000 rows over M = 20000 columns, dense and block-sparse: a flag
  // already set runs nothing; a flag set by another thread while the run
  // goes stops it well before its end (many pieces left), with an error
  // that says so; a flag left at 0 changes nothing.
  auto kernel = keops::compile("Sum_Reduction(Exp(-SqDist(x,y))*b, 0)",
                               {"x = Vi(3)", "y = Vj(3)", "b = Vj(1)"});
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  const int64_t n = 20000;
  std::vector<float> x(n * 3, 0.1f), y(n * 3, 0.1f), b(n, 1.0f), out(n, -1.0f);
  std::vector<keops_rt_array_t> in = {{x.data(), KEOPS_RT_FLOAT32, n, 3, 0},
                                      {y.data(), KEOPS_RT_FLOAT32, n, 3, 0},
                                      {b.data(), KEOPS_RT_FLOAT32, n, 1, 0}};
  std::vector<keops_rt_array_t> outs = {{out.data(), KEOPS_RT_FLOAT32, n, 1, 0}};
  keops::BlockSparseRanges ranges{{0, n}, {1}, {0, n}};
  const keops::BlockSparseRanges *layouts[] = {nullptr, &ranges};
  for (const keops::BlockSparseRanges *sparse : layouts) {
    volatile int32_t flag = 1;
    keops::RunOptions options;
    options.interrupt = &flag;
    options.ranges = sparse;
    options.numThreads = 1;
    std::fill(out.begin(), out.end(), -1.0f);
    EXPECT_NE(errorOf((*kernel)->run(in, outs, options)).find("interrupted"),
              std::string::npos);
    EXPECT_EQ(std::count(out.begin(), out.end(), -1.0f), n); // nothing ran
    flag = 0;
    EXPECT_EQ(errorOf((*kernel)->run(in, outs, options)), "");
    EXPECT_EQ(out.front(), static_cast<float>(n));
    EXPECT_EQ(out.back(), static_cast<float>(n));
    // Set while the run goes (4e8 pairs on one thread: over 60 ms), rows
    // in pieces of a few thousand.
    flag = 0;
    std::fill(out.begin(), out.end(), -1.0f);
    std::thread setter([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      flag = 1;
    });
    std::string error = errorOf((*kernel)->run(in, outs, options));
    setter.join();
    EXPECT_NE(error.find("interrupted"), std::string::npos);
    EXPECT_EQ(out.back(), -1.0f); // the last rows never ran
  }
}

TEST_F(KernelApiTest, CompilesOncePerProcess) {
  auto again = keops::compile(kFormula, kAliases);
  ASSERT_TRUE(static_cast<bool>(again));
  EXPECT_EQ(again->get(), kernel.get());
  // Same canonical IR (x*1 folds away, spaces differ): same kernel.
  auto equivalent = keops::compile(
      "Sum_Reduction( Exp(-SqDist(x,y)) * b * Elem(p,0) * 1 , 0)", kAliases);
  ASSERT_TRUE(static_cast<bool>(equivalent));
  EXPECT_EQ(equivalent->get(), kernel.get());
  // Other options: another kernel.
  keops::CompileOptions options;
  options.sumScheme = "kahan_scheme";
  auto other = keops::compile(kFormula, kAliases, options);
  ASSERT_TRUE(static_cast<bool>(other));
  EXPECT_NE(other->get(), kernel.get());
}

TEST_F(KernelApiTest, RejectsBadCompileRequests) {
  keops::CompileOptions half;
  half.dtype = "float16";
  EXPECT_EQ(errorOf(keops::compile(kFormula, kAliases, half)),
            "float16 runs on the GPU only (backend 'gpu'), and the backend is "
            "'cpu'");
  keops::CompileOptions loops;
  loops.featureLoopMinDim = -1;
  EXPECT_EQ(errorOf(keops::compile(kFormula, kAliases, loops)),
            "feature_loop_min_dim must be >= 0");
  keops::CompileOptions bfloat;
  bfloat.dtype = "bfloat16";
  EXPECT_EQ(errorOf(keops::compile(kFormula, kAliases, bfloat)),
            "dtype must be float16, float32 or float64, got 'bfloat16'");
  keops::CompileOptions scheme;
  scheme.sumScheme = "pairwise";
  EXPECT_EQ(errorOf(keops::compile(kFormula, kAliases, scheme)),
            "sum_scheme must be block_sum, kahan_scheme or direct_sum, got "
            "'pairwise'");
  keops::CompileOptions lanes;
  lanes.lanes = 3;
  EXPECT_EQ(errorOf(keops::compile(kFormula, kAliases, lanes)),
            "lanes must be 0 or a power of 2");
  EXPECT_NE(errorOf(keops::compile("Sum_Reduction(Exq(x), 0)", kAliases))
                .find("formula:1:15: error: unknown operation 'Exq'"),
            std::string::npos);
}

struct RunErrorCase {
  const char *name;
  std::function<void(std::vector<keops_rt_array_t> &,
                      std::vector<keops_rt_array_t> &)>
      corrupt;
  const char *message;
};

TEST_F(KernelApiTest, RejectsBadArraysWithClearMessages) {
  std::vector<RunErrorCase> cases = {
      {"missing input",
       [](auto &in, auto &) { in.pop_back(); },
       "keops_kernel takes 4 inputs, got 3"},
      {"dtype",
       [](auto &in, auto &) { in[1].dtype = KEOPS_RT_FLOAT64; },
       "input 1 ('y') (category j) must be float32, got float64"},
      {"columns",
       [](auto &in, auto &) { in[0].cols = 2; },
       "input 0 ('x') (category i) must have shape (rows, 3), got (4, 2)"},
      {"parameter rows",
       [](auto &in, auto &) { in[3].rows = 2; },
       "input 3 ('p') (category param) must have shape (1, 2), got (2, 2)"},
      {"rows of one axis disagree",
       [](auto &in, auto &) { in[2].rows = 4; },
       "input 2 ('b') has 4 rows but input 1 ('y'), also indexed by j, has 5"},
      {"null data",
       [](auto &in, auto &) { in[0].data = nullptr; },
       "input 0 ('x') (category i) has a null data pointer"},
      {"output count",
       [](auto &, auto &out) { out.clear(); },
       "keops_kernel has 1 outputs, got 0"},
      {"output shape",
       [](auto &, auto &out) { out[0].rows = 5; },
       "output 0 must have shape (4, 1), got (5, 1)"},
      {"output dtype",
       [](auto &, auto &out) { out[0].dtype = KEOPS_RT_INT64; },
       "output 0 must be float32, got int64"},
  };
  for (const RunErrorCase &c : cases) {
    auto in = inputs();
    auto out = outputs();
    c.corrupt(in, out);
    EXPECT_EQ(errorOf(kernel->run(in, out)), c.message) << c.name;
  }
}

TEST_F(KernelApiTest, EmptyAxes) {
  // No rows: nothing to compute. A sum over no columns is 0.
  auto in = inputs();
  in[0].rows = 0;
  auto out = outputs();
  out[0].rows = 0;
  EXPECT_EQ(errorOf(kernel->run(in, out)), "");
  in = inputs();
  in[1].rows = in[2].rows = 0;
  EXPECT_EQ(errorOf(kernel->run(in, outputs())), "");
  for (float value : this->out)
    EXPECT_EQ(value, 0.0f);
  // Other reductions have no value on an empty set.
  auto argmin = keops::compile("ArgMin_Reduction(SqDist(x,y), 0)", kAliases);
  ASSERT_TRUE(static_cast<bool>(argmin));
  std::vector<int64_t> indices(4);
  EXPECT_EQ(errorOf((*argmin)->run(in, {{indices.data(), KEOPS_RT_INT64, 4, 1, 0}})),
            "keops_kernel reduces over j but that axis has 0 rows: this "
            "reduction has no value on an empty set");
}

TEST(RowBlockTest, BlocksOfRowsGiveTheSameResults) {
  // 9 rows: blocks of 2 or 4 rows, then the remaining rows one by one.
  std::vector<double> x(9 * 3), y(11 * 3);
  for (size_t k = 0; k < x.size(); ++k)
    x[k] = std::sin(1.3 * k);
  for (size_t k = 0; k < y.size(); ++k)
    y[k] = std::cos(0.7 * k);
  for (const char *formula : {"LogSumExp_Reduction(-SqDist(x,y), 0)",
                              "ArgKMin_Reduction(SqDist(x,y), 3, 0)",
                              "Sum_Reduction(Exp(-SqDist(x,y))*(x-y), 0)"}) {
    std::vector<std::vector<double>> results;
    for (int64_t rows : {1, 2, 4}) {
      keops::CompileOptions options;
      options.dtype = "float64";
      options.rowsPerBlock = rows;
      auto kernel = keops::compile(formula, {"x = Vi(3)", "y = Vj(3)"}, options);
      ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
      int64_t dim = (*kernel)->getOutputs()[0].dim;
      bool indices = (*kernel)->getOutputs()[0].dtype == KEOPS_RT_INT64;
      std::vector<double> out(9 * dim);
      std::vector<int64_t> outIndices(9 * dim);
      llvm::Error error = (*kernel)->run(
          {{x.data(), KEOPS_RT_FLOAT64, 9, 3, 0}, {y.data(), KEOPS_RT_FLOAT64, 11, 3, 0}},
          {{indices ? static_cast<void *>(outIndices.data())
                    : static_cast<void *>(out.data()),
            (*kernel)->getOutputs()[0].dtype, 9, dim, 0}});
      ASSERT_FALSE(static_cast<bool>(error));
      if (indices)
        out.assign(outIndices.begin(), outIndices.end());
      results.push_back(out);
    }
    for (size_t k = 0; k < results[0].size(); ++k) {
      EXPECT_NEAR(results[1][k], results[0][k], 1e-12) << formula;
      EXPECT_NEAR(results[2][k], results[0][k], 1e-12) << formula;
    }
  }
}

TEST(RowStrideTest, StridedArraysGiveTheSameResults) {
  // x: columns 1-3 of a (N, 5) array, y: columns 0-2 of (M, 4), b: column 1
  // of (M, 2); the outputs go to columns 1.. of wider arrays. Many rows,
  // few rows (split columns) and block-sparse ranges read them in place.
  const int64_t n = 37, m = 3001;
  std::vector<double> wideX(n * 5), wideY(m * 4), wideB(m * 2);
  for (size_t k = 0; k < wideX.size(); ++k)
    wideX[k] = std::sin(0.37 * k);
  for (size_t k = 0; k < wideY.size(); ++k)
    wideY[k] = std::cos(0.11 * k);
  for (size_t k = 0; k < wideB.size(); ++k)
    wideB[k] = 1.5 + std::sin(0.05 * k);
  std::vector<double> x, y, b;
  for (int64_t r = 0; r < n; ++r)
    x.insert(x.end(), &wideX[r * 5 + 1], &wideX[r * 5 + 4]);
  for (int64_t r = 0; r < m; ++r) {
    y.insert(y.end(), &wideY[r * 4], &wideY[r * 4 + 3]);
    b.push_back(wideB[r * 2 + 1]);
  }
  keops::BlockSparseRanges ranges{{0, 20, 20, n}, {2, 3},
                                  {0, 1000, 1000, m, 500, 2500}};
  keops::CompileOptions options;
  options.dtype = "float64";
  for (const char *formula : {"Sum_Reduction(Exp(-SqDist(x,y))*b*(x-y), 0)",
                              "ArgKMin_Reduction(SqDist(x,y)*b, 3, 0)",
                              "Sum_Reduction(Exp(-SqDist(x,y))*b, 1)"}) {
    auto kernel = keops::compile(formula, {"x = Vi(3)", "y = Vj(3)",
                                           "b = Vj(1)"}, options);
    ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
    const keops::KernelOutput &output = (*kernel)->getOutputs()[0];
    int64_t rows = (*kernel)->getRowCategory() == KEOPS_RT_CATEGORY_I ? n : m;
    int64_t dim = output.dim, stride = dim + 2;
    auto run = [&](bool strided, int32_t threads,
                   const keops::BlockSparseRanges *blocks) {
      std::vector<double> out(rows * stride, -7.0);
      std::vector<keops_rt_array_t> in =
          strided ? std::vector<keops_rt_array_t>{
                        {&wideX[1], KEOPS_RT_FLOAT64, n, 3, 5},
                        {&wideY[0], KEOPS_RT_FLOAT64, m, 3, 4},
                        {&wideB[1], KEOPS_RT_FLOAT64, m, 1, 2}}
                  : std::vector<keops_rt_array_t>{
                        {x.data(), KEOPS_RT_FLOAT64, n, 3, 0},
                        {y.data(), KEOPS_RT_FLOAT64, m, 3, 0},
                        {b.data(), KEOPS_RT_FLOAT64, m, 1, 0}};
      keops::RunOptions options;
      options.numThreads = threads;
      options.ranges = blocks;
      llvm::Error error = (*kernel)->run(
          in, {{&out[1], output.dtype, rows, dim, strided ? stride : 0}},
          options);
      EXPECT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));
      // The row-major values, read back with the stride used.
      std::vector<double> values;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t d = 0; d < dim; ++d) {
          double *at = &out[1 + (strided ? r * stride : r * dim) + d];
          values.push_back(output.dtype == KEOPS_RT_INT64
                               ? static_cast<double>(
                                     *reinterpret_cast<int64_t *>(at))
                               : *at);
        }
      return values;
    };
    for (auto [threads, blocks] :
         {std::pair<int32_t, const keops::BlockSparseRanges *>{2, nullptr},
          {64, nullptr}, {2, &ranges}}) {
      if (blocks && rows != n)
        continue;
      std::vector<double> expected = run(false, threads, blocks);
      std::vector<double> got = run(true, threads, blocks);
      for (size_t k = 0; k < expected.size(); ++k)
        ASSERT_NEAR(got[k], expected[k], 1e-12 * (1 + std::fabs(expected[k])))
            << formula << " threads " << threads << " element " << k;
    }
    // The columns between the strided rows stay as they were.
    std::vector<double> out(rows * stride, -7.0);
    ASSERT_FALSE(static_cast<bool>((*kernel)->run(
        {{&wideX[1], KEOPS_RT_FLOAT64, n, 3, 5},
         {&wideY[0], KEOPS_RT_FLOAT64, m, 3, 4},
         {&wideB[1], KEOPS_RT_FLOAT64, m, 1, 2}},
        {{&out[1], output.dtype, rows, dim, stride}})));
    for (int64_t r = 0; r < rows; ++r) {
      EXPECT_EQ(out[r * stride], -7.0);
      if (r + 1 < rows)
        EXPECT_EQ(out[r * stride + 1 + dim], -7.0);
    }
  }
}

TEST(RowStrideTest, RejectsStridesShorterThanRows) {
  auto kernel = keops::compile("Sum_Reduction(x, 0)", {"x = Vi(3)"});
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  std::vector<float> x(12), out(12);
  EXPECT_EQ(errorOf((*kernel)->run({{x.data(), KEOPS_RT_FLOAT32, 4, 3, 2}},
                                   {{out.data(), KEOPS_RT_FLOAT32, 4, 3, 0}})),
            "input 0 ('x') (category i) has a row stride of 2 elements, fewer "
            "than its 3 columns");
}

/// sum_j 0.1f over M = 2^22 columns on `threads` threads (the columns of
/// the one row are split over them), relative error against float64.
double sumError(const keops::CompileOptions &options, int32_t threads = 1) {
  auto kernel = keops::compile("Sum_Reduction(b, 0)", {"b = Vj(1)"}, options);
  EXPECT_TRUE(static_cast<bool>(kernel));
  if (!kernel)
    return INFINITY;
  const int64_t m = int64_t(1) << 22;
  std::vector<float> b(m, 0.1f);
  float out = 0;
  keops::RunOptions run;
  run.numThreads = threads;
  llvm::Error error = (*kernel)->run({{b.data(), KEOPS_RT_FLOAT32, m, 1, 0}},
                                     {{&out, KEOPS_RT_FLOAT32, 1, 1, 0}}, run);
  EXPECT_FALSE(static_cast<bool>(error));
  llvm::consumeError(std::move(error));
  double exact = static_cast<double>(m) * static_cast<double>(0.1f);
  return std::fabs(out - exact) / exact;
}

TEST(SumSchemeTest, AccuracyOfEachScheme) {
  keops::CompileOptions direct, block, kahan, wide;
  direct.sumScheme = "direct_sum";
  kahan.sumScheme = "kahan_scheme";
  wide.doubleAccumulator = true;
  double directError = sumError(direct), blockError = sumError(block),
         kahanError = sumError(kahan), wideError = sumError(wide);
  // 2^22 terms: a single float32 accumulator per lane drifts (measured:
  // 2.5e-3); per-tile sums are far better (3.9e-5); Kahan and float64 are
  // exact to rounding.
  EXPECT_GT(directError, 1e-3);
  EXPECT_LT(blockError, 1e-4);
  EXPECT_LT(blockError * 20, directError);
  EXPECT_LT(kahanError, 1e-7);
  EXPECT_LT(wideError, 1e-7);
  // Split over threads, the partial states merge as accurately: Kahan
  // states merge as compensated terms.
  EXPECT_LT(sumError(block, 4), 1e-4);
  EXPECT_LT(sumError(kahan, 4), 1e-7);
  EXPECT_LT(sumError(wide, 4), 1e-7);
}

} // namespace

namespace {

void noKernel(void **) {}

TEST(RuntimeDescriptorTest, RejectsOtherAbiVersionsAndCpuHalf) {
  keops_rt_category_t categories[] = {KEOPS_RT_CATEGORY_I};
  int64_t dims[] = {1}, outputDims[] = {1};
  keops_rt_dtype_t outputDtypes[] = {KEOPS_RT_FLOAT32};
  keops_rt_kernel_desc_t desc{};
  desc.abi_version = 1;
  desc.name = "old";
  desc.dtype = KEOPS_RT_FLOAT32;
  desc.num_inputs = 1;
  desc.categories = categories;
  desc.dims = dims;
  desc.num_outputs = 1;
  desc.output_dims = outputDims;
  desc.output_dtypes = outputDtypes;
  desc.lanes = 1;
  desc.tile_cols = 1;
  keops_rt_kernel_t *kernel = nullptr;
  auto message = [&] {
    keops_rt_status_t status =
        keops_rt_kernel_create_cpu(&desc, noKernel, nullptr, nullptr, &kernel);
    std::string text = status ? keops_rt_status_message(status) : "";
    keops_rt_status_free(status);
    keops_rt_kernel_destroy(kernel);
    kernel = nullptr;
    return text;
  };
  EXPECT_EQ(message(), "the kernel was built for kernel ABI version 1; this "
                       "runtime implements version " +
                           std::to_string(KEOPS_RT_KERNEL_ABI_VERSION));
  desc.abi_version = KEOPS_RT_KERNEL_ABI_VERSION;
  EXPECT_EQ(message(), "");
  desc.dtype = KEOPS_RT_FLOAT16;
  EXPECT_EQ(message(), "float16 kernels run on the GPU only");
  desc.dtype = KEOPS_RT_FLOAT32;
  desc.target = KEOPS_RT_TARGET_GPU;
  EXPECT_EQ(message(), "keops_rt_kernel_create_cpu: the descriptor's target "
                       "is not the CPU");
  desc.target = KEOPS_RT_TARGET_CPU;
  desc.lanes = 0;
  EXPECT_EQ(message(), "keops_rt_kernel_create_cpu: the descriptor's lanes "
                       "and tile_cols must be >= 1, got 0 and 1");
}

/// The descriptor the runtime holds for a compiled kernel.
keops_rt_kernel_desc_t describe(const keops::Kernel &kernel) {
  keops_rt_kernel_desc_t desc;
  keops_rt_kernel_describe(kernel.getRuntimeKernel(), &desc);
  return desc;
}

TEST(KernelDescriptorTest, ReportsHowTheKernelWasCompiled) {
  auto gaussian = keops::compile(kFormula, kAliases);
  ASSERT_TRUE(static_cast<bool>(gaussian))
      << llvm::toString(gaussian.takeError());
  keops_rt_kernel_desc_t desc = describe(**gaussian);
  EXPECT_EQ(desc.abi_version, KEOPS_RT_KERNEL_ABI_VERSION);
  EXPECT_STREQ(desc.reduction, "sum");
  EXPECT_EQ(desc.k, 0);
  EXPECT_EQ(desc.target, KEOPS_RT_TARGET_CPU);
  // "<architecture> <cpu>", e.g. "x86_64 znver3".
  std::string arch = desc.arch;
  EXPECT_NE(arch.find(' '), std::string::npos) << arch;
  EXPECT_TRUE(llvm::all_of(arch, [](char c) { return std::isprint(c); }))
      << arch;
  EXPECT_TRUE(desc.lanes == 4 || desc.lanes == 8 || desc.lanes == 16)
      << desc.lanes; // the host's vector registers of float32
  EXPECT_EQ(desc.tile_rows, 2); // rows_per_block: the states fit registers
  // tile_j less one vector of lanes: staged rows of 1024 float32 would
  // share cache sets.
  EXPECT_EQ(desc.tile_cols, 1024 - desc.lanes);
  ASSERT_EQ(desc.num_inputs, 4);
  EXPECT_STREQ(desc.input_names[3], "p");
  EXPECT_EQ(desc.dims[1], 3);
  EXPECT_EQ(desc.categories[3], KEOPS_RT_CATEGORY_PARAM);
  ASSERT_EQ(desc.num_outputs, 1);
  EXPECT_EQ(desc.output_dims[0], 1);
  EXPECT_EQ(desc.state_dtype, KEOPS_RT_FLOAT32);
  EXPECT_GT(desc.state_floats, 0);

  keops::CompileOptions options;
  options.lanes = 4;
  options.tileJ = 256;
  options.rowsPerBlock = 4;
  options.dtype = "float64";
  auto argKMin = keops::compile("ArgKMin_Reduction(SqDist(x,y),6,0)",
                                {"x = Vi(5)", "y = Vj(5)"}, options);
  ASSERT_TRUE(static_cast<bool>(argKMin))
      << llvm::toString(argKMin.takeError());
  desc = describe(**argKMin);
  EXPECT_STREQ(desc.reduction, "argkmin");
  auto wide = keops::compile("Sum_Reduction(Exp(-SqDist(x,y)), 0)",
                             {"x = Vi(1000)", "y = Vj(1000)"});
  ASSERT_TRUE(static_cast<bool>(wide)) << llvm::toString(wide.takeError());
  keops_rt_kernel_desc_t wideDesc = describe(**wide);
  // 4000 bytes per staged column, which feature loops read once per row:
  // the j-tiles shrink to the 16 KiB of loop-stage-bytes (4 columns), and
  // keep at least one vector of lanes.
  EXPECT_EQ(wideDesc.tile_cols, wideDesc.lanes);
  EXPECT_EQ(desc.k, 6);
  EXPECT_EQ(desc.lanes, 4);
  // tile_j less one vector: rows of 256 float64 (2 KiB) share cache sets.
  EXPECT_EQ(desc.tile_cols, 252);
  // The rows' K best are heaps in memory, their thresholds in registers:
  // 2 rows of 5 components and a threshold fit 16 registers, 4 do not.
  EXPECT_EQ(desc.tile_rows, 2);
  EXPECT_EQ(desc.output_dtypes[0], KEOPS_RT_INT64);
  EXPECT_EQ(desc.state_dtype, KEOPS_RT_FLOAT64);
  EXPECT_EQ(desc.state_ints, 6);
}

} // namespace

namespace {

/// The run arguments of `inputs` and the one output `out`.
keops_rt_run_args_t runArgs(const std::vector<keops_rt_array_t> &inputs,
                            keops_rt_array_t *out) {
  keops_rt_run_args_t args;
  keops_rt_run_args_initialize(&args);
  args.num_inputs = static_cast<int32_t>(inputs.size());
  args.inputs = inputs.data();
  args.num_outputs = 1;
  args.outputs = out;
  return args;
}

/// Runs `formula` (x = Vi(3), y = Vj(3)) on N = 37, M = 1029 once, and as
/// partials over three column ranges merged; the outputs as doubles.
std::pair<std::vector<double>, std::vector<double>>
wholeAndMergedPartials(const std::string &formula) {
  auto kernel = keops::compile(formula, {"x = Vi(3)", "y = Vj(3)"});
  EXPECT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  const keops_rt_kernel_t *runtime = (*kernel)->getRuntimeKernel();
  keops_rt_kernel_desc_t desc;
  keops_rt_kernel_describe(runtime, &desc);
  const int64_t n = 37, m = 1029;
  std::vector<float> x(n * 3), y(m * 3);
  for (size_t e = 0; e < x.size(); ++e)
    x[e] = static_cast<float>((e * 37) % 101) / 101.0f;
  for (size_t e = 0; e < y.size(); ++e)
    y[e] = static_cast<float>((e * 53) % 97) / 97.0f;
  std::vector<keops_rt_array_t> in = {{x.data(), KEOPS_RT_FLOAT32, n, 3, 0},
                                      {y.data(), KEOPS_RT_FLOAT32, m, 3, 0}};
  std::pair<std::vector<double>, std::vector<double>> results;
  for (int merged = 0; merged < 2; ++merged) {
    int64_t dim = (*kernel)->getOutputs()[0].dim;
    bool isIndex = (*kernel)->getOutputs()[0].dtype == KEOPS_RT_INT64;
    std::vector<float> values(n * dim);
    std::vector<int64_t> indices(n * dim);
    keops_rt_array_t out = {isIndex ? static_cast<void *>(indices.data())
                                    : static_cast<void *>(values.data()),
                            (*kernel)->getOutputs()[0].dtype, n, dim, 0};
    keops_rt_run_args_t args = runArgs(in, &out);
    if (!merged) {
      EXPECT_EQ(keops_rt_kernel_run(runtime, &args), nullptr);
    } else {
      const int64_t cuts[] = {0, 300, 700, m};
      std::vector<float> floats(3 * n * desc.state_floats);
      std::vector<int64_t> ints(3 * n * std::max(desc.state_ints, 1));
      for (int p = 0; p < 3; ++p)
        EXPECT_EQ(keops_rt_kernel_run_partial(
                      runtime, &args, cuts[p], cuts[p + 1],
                      floats.data() + p * n * desc.state_floats,
                      ints.data() + p * n * desc.state_ints),
                  nullptr);
      EXPECT_EQ(keops_rt_kernel_merge_partials(runtime, &args, 3,
                                               floats.data(), ints.data()),
                nullptr);
    }
    auto &result = merged ? results.second : results.first;
    for (int64_t e = 0; e < n * dim; ++e)
      result.push_back(isIndex ? static_cast<double>(indices[e]) : values[e]);
  }
  return results;
}

} // namespace

TEST(PartialReductionTest, MergedPartialsAreTheWholeReduction) {
  // Partials over [0, 300), [300, 700), [700, 1029) merged give the outputs
  // of one run: sums and logsumexp to rounding, indices exactly (global
  // columns, ties to the smaller one).
  for (const char *formula :
       {"Sum_Reduction(Exp(-SqDist(x,y))*y, 0)",
        "LogSumExp_Reduction(-SqDist(x,y), 0)",
        "ArgMin_Reduction(Floor(4*SqDist(x,y)), 0)",
        "ArgKMin_Reduction(SqDist(x,y), 5, 0)",
        "Max_Reduction(Elem(x,0)*y, 0)"}) {
    auto [whole, merged] = wholeAndMergedPartials(formula);
    ASSERT_EQ(whole.size(), merged.size()) << formula;
    for (size_t e = 0; e < whole.size(); ++e)
      ASSERT_NEAR(merged[e], whole[e], 1e-5 * std::max(1.0, std::fabs(whole[e])))
          << formula << " element " << e;
  }
}

TEST(PartialReductionTest, RejectsBadColumnRangesAndCounts) {
  auto kernel = keops::compile("Sum_Reduction(Exp(-SqDist(x,y)), 0)",
                               {"x = Vi(3)", "y = Vj(3)"});
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  const keops_rt_kernel_t *runtime = (*kernel)->getRuntimeKernel();
  std::vector<float> x(12, 0.5f), y(15, 0.5f), out(4), floats(64);
  std::vector<keops_rt_array_t> in = {{x.data(), KEOPS_RT_FLOAT32, 4, 3, 0},
                                      {y.data(), KEOPS_RT_FLOAT32, 5, 3, 0}};
  keops_rt_array_t output = {out.data(), KEOPS_RT_FLOAT32, 4, 1, 0};
  keops_rt_run_args_t args = runArgs(in, &output);
  auto message = [](keops_rt_status_t status) {
    std::string text = status ? keops_rt_status_message(status) : "";
    keops_rt_status_free(status);
    return text;
  };
  EXPECT_NE(message(keops_rt_kernel_run_partial(runtime, &args, 2, 6,
                                                floats.data(), nullptr))
                .find("not within [0, 5)"),
            std::string::npos);
  EXPECT_NE(message(keops_rt_kernel_run_partial(runtime, &args, 0, 5, nullptr,
                                                nullptr))
                .find("null state buffer"),
            std::string::npos);
  EXPECT_NE(message(keops_rt_kernel_merge_partials(runtime, &args, 0,
                                                   floats.data(), nullptr))
                .find("at least 1"),
            std::string::npos);
}
