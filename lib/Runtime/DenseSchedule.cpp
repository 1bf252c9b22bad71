//===- DenseSchedule.cpp - Dense reductions on the CPU threads --*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the schedule of dense CPU reductions. Threads take
// work items in order:
//
// - many rows: blocks of rows over every column;
// - few rows (fewer than kItemsPerThread per thread): blocks of up to
//   kSplitRows rows over column splits of up to kSplitColumns columns, in
//   raw mode, and a second pass merges the splits' states and finalizes
//   them.
//
// The kernels read the arrays as they are (each stages its j-tiles).
//
// A thread costs about as much to wake as reducing kPairsPerThread pairs, so
// small problems use fewer.
//
//===----------------------------------------------------------------------===//

#include "Kernel.h"
#include "Status.h"

#include <algorithm>
#include <memory>
#include <optional>

namespace keops::rt {

keops_rt_status_t runDense(const keops_rt_kernel_s &kernel,
                           const keops_rt_run_args_t &args, int64_t rows,
                           int64_t cols, int64_t threads) {
  constexpr int64_t kPairsPerThread = 1 << 15;
  constexpr int64_t kItemsPerThread = 8;
  constexpr int64_t kMinSplitColumns = 4096;
  constexpr int64_t kSplitColumns = 1 << 15;
  constexpr int64_t kSplitRows = 64;
  threads = std::min(threads, std::max<int64_t>(1, rows * std::max<int64_t>(
                                                              cols, 1) /
                                                       kPairsPerThread));
  int64_t block = std::max<int64_t>(1, rows / (threads * kItemsPerThread));
  int64_t splits = 1;
  if (kernel.stateFloats + kernel.stateInts > 0 && threads > 1 &&
      rows < threads * kItemsPerThread && cols >= 2 * kMinSplitColumns) {
    block = std::min(rows, kSplitRows);
    int64_t rowBlocks = (rows + block - 1) / block;
    splits = std::min(
        std::max((threads * kItemsPerThread + rowBlocks - 1) / rowBlocks,
                 (cols + kSplitColumns - 1) / kSplitColumns),
        cols / kMinSplitColumns);
  } else {
    threads = std::min(threads, rows);
  }
  int64_t rowBlocks = (rows + block - 1) / block;
  std::vector<std::unique_ptr<KernelCall>> calls;
  for (int64_t t = 0; t < threads; ++t)
    calls.push_back(std::make_unique<KernelCall>(kernel, args, rows));

  if (splits == 1) {
    parallelFor(
        threads, rowBlocks,
        [&](int64_t item, int64_t thread) {
          int64_t begin = item * block;
          (*calls[thread])(begin, std::min(rows, begin + block), 0, cols);
        },
        args);
    return isInterrupted(args) ? interrupted(kernel.name) : nullptr;
  }

  int64_t splitColumns = (cols + splits - 1) / splits;
  StateBuffers states(kernel, splits * rows);
  for (std::unique_ptr<KernelCall> &call : calls)
    call->useStates(states);
  parallelFor(
      threads, rowBlocks * splits,
      [&](int64_t item, int64_t thread) {
        int64_t split = item / rowBlocks, begin = (item % rowBlocks) * block;
        int64_t colBegin = std::min(cols, split * splitColumns);
        int64_t colEnd = std::min(cols, colBegin + splitColumns);
        (*calls[thread])(begin, std::min(rows, begin + block), colBegin,
                         colEnd, KEOPS_RT_MODE_RAW, split, rows);
      },
      args);
  parallelFor(
      threads, rowBlocks,
      [&](int64_t item, int64_t thread) {
        int64_t begin = item * block;
        calls[thread]->merge(begin, std::min(rows, begin + block), splits,
                             rows);
      },
      args);
  return isInterrupted(args) ? interrupted(kernel.name) : nullptr;
}

} // namespace keops::rt
