//===- KernelCacheTest.cpp - The process cache of kernels -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// The process cache keeps at most its capacity of kernels, the least
// recently used evicted first; evicted kernels still held run; the cache
// empties on request.
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/Compiler.h"

#include <gtest/gtest.h>

#include <string>

namespace {

/// The kernel of sum_j x_i * scale (a distinct formula per scale).
std::shared_ptr<const keops::Kernel> scaled(int scale) {
  auto kernel = keops::compile(
      "Sum_Reduction(x*" + std::to_string(scale) + ", 0)", {"x = Vi(1)"});
  EXPECT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  return *kernel;
}

/// Runs `kernel` on x = (1, 2) over one column: 1 * scale, 2 * scale.
std::vector<float> run(const keops::Kernel &kernel) {
  std::vector<float> x = {1, 2}, out(2);
  llvm::Error error =
      kernel.run({{x.data(), KEOPS_RT_FLOAT32, 2, 1, 0}},
                 {{out.data(), KEOPS_RT_FLOAT32, 2, 1, 0}});
  EXPECT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));
  return out;
}

TEST(KernelCacheTest, KeepsTheMostRecentlyUsedUpToItsCapacity) {
  keops::clearKernelCache();
  keops::setKernelCacheCapacity(3);
  auto first = scaled(1);
  for (int scale = 2; scale <= 5; ++scale)
    scaled(scale);
  EXPECT_EQ(keops::getKernelCacheSize(), 3u);
  // The recent ones are found again, the first was evicted; the kernel
  // this test still holds runs.
  EXPECT_EQ(scaled(5).get(), scaled(5).get());
  EXPECT_NE(scaled(1).get(), first.get());
  EXPECT_EQ(run(*first), (std::vector<float>{1, 2}));
  EXPECT_EQ(keops::getKernelCacheSize(), 3u);
  // Used last, 4 stays when 6 comes; 5, now the least recent, goes.
  auto four = scaled(4);
  scaled(6);
  EXPECT_EQ(scaled(4).get(), four.get());
  EXPECT_EQ(run(*scaled(6)), (std::vector<float>{6, 12}));

  keops::setKernelCacheCapacity(1);
  EXPECT_EQ(keops::getKernelCacheSize(), 1u);
  keops::clearKernelCache();
  EXPECT_EQ(keops::getKernelCacheSize(), 0u);
  keops::setKernelCacheCapacity(0);
  scaled(7);
  EXPECT_EQ(keops::getKernelCacheSize(), 0u);
  keops::setKernelCacheCapacity(keops::kDefaultKernelCacheCapacity);
}

} // namespace
