//===- Partials.cpp - Partial reductions for other engines ------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// The raw modes of CPU kernels for engines that split the reduced axis
// themselves: a partial is every output row reduced over a range of columns
// into its raw state (the slab of split 0), and a merge of partials laid one
// after the other is the kernel's merge of that many splits.
//
//===----------------------------------------------------------------------===//

#include "Kernel.h"
#include "Status.h"

#include <algorithm>
#include <memory>

namespace keops::rt {

namespace {

/// Runs body(call, begin, end) on blocks of the `rows` rows over `threads`
/// threads, each with its own call whose raw states are (floats, ints).
void forRowBlocks(const keops_rt_kernel_s &kernel,
                  const keops_rt_run_args_t &args, int64_t rows,
                  int64_t threads, int64_t slots, void *floats, int64_t *ints,
                  const std::function<void(KernelCall &, int64_t, int64_t)>
                      &body) {
  threads = std::max<int64_t>(1, std::min(threads, rows));
  int64_t block = std::max<int64_t>(1, rows / (threads * 8));
  int64_t blocks = (rows + block - 1) / block;
  std::vector<std::unique_ptr<KernelCall>> calls;
  for (int64_t t = 0; t < threads; ++t) {
    calls.push_back(std::make_unique<KernelCall>(kernel, args, rows));
    calls.back()->useStates(floats, slots * kernel.stateFloats, ints,
                            slots * kernel.stateInts);
  }
  parallelFor(
      threads, blocks,
      [&](int64_t item, int64_t thread) {
        int64_t begin = item * block;
        body(*calls[thread], begin, std::min(rows, begin + block));
      },
      args);
}

} // namespace

keops_rt_status_t runPartial(const keops_rt_kernel_s &kernel,
                             const keops_rt_run_args_t &args, int64_t rows,
                             int64_t threads, int64_t colBegin, int64_t colEnd,
                             void *floats, int64_t *ints) {
  forRowBlocks(kernel, args, rows, threads, rows, floats, ints,
               [&](KernelCall &call, int64_t begin, int64_t end) {
                 call(begin, end, colBegin, colEnd, KEOPS_RT_MODE_RAW, 0,
                      rows);
               });
  return isInterrupted(args) ? interrupted(kernel.name) : nullptr;
}

keops_rt_status_t mergePartials(const keops_rt_kernel_s &kernel,
                                const keops_rt_run_args_t &args, int64_t rows,
                                int64_t threads, int32_t count,
                                const void *floats, const int64_t *ints) {
  // The merge mode reads the states only.
  forRowBlocks(kernel, args, rows, threads, count * rows,
               const_cast<void *>(floats), const_cast<int64_t *>(ints),
               [&](KernelCall &call, int64_t begin, int64_t end) {
                 call.merge(begin, end, count, rows);
               });
  return isInterrupted(args) ? interrupted(kernel.name) : nullptr;
}

} // namespace keops::rt
