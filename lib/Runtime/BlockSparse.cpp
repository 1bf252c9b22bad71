//===- BlockSparse.cpp - Block-sparse reductions on the CPU -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements block-sparse reductions with the raw modes of the
// kernel ABI: the rows of a cluster are reduced over its first column range
// into raw accumulator states, each further range resumes from them, and a
// merge finalizes them; no column is copied and index outputs are column
// indices already. Rows outside every cluster are reduced over no column.
//
//===----------------------------------------------------------------------===//

#include "Kernel.h"
#include "Status.h"

#include <algorithm>
#include <memory>

namespace keops::rt {
namespace {

std::string rangeText(const int64_t *range) {
  return "[" + std::to_string(range[0]) + ", " + std::to_string(range[1]) +
         ")";
}

} // namespace

keops_rt_status_t makeClusters(const keops_rt_run_args_t &args, int64_t rows,
                               int64_t cols, std::vector<Cluster> &clusters) {
  int64_t numClusters = args.num_row_ranges, numRanges = args.num_col_ranges;
  if (numClusters < 0 || numRanges < 0 || (numClusters > 0 && !args.slices) ||
      (numRanges > 0 && !args.col_ranges))
    return invalidArgument("block-sparse ranges: negative counts or null "
                           "range arrays");
  for (int64_t c = 0; c < numClusters; ++c) {
    const int64_t *range = args.row_ranges + 2 * c;
    if (range[0] < 0 || range[0] > range[1] || range[1] > rows)
      return invalidArgument("block-sparse ranges: row range " +
                             std::to_string(c) + " is " + rangeText(range) +
                             ", outside [0, " + std::to_string(rows) + ")");
    int64_t first = c ? args.slices[c - 1] : 0, last = args.slices[c];
    if (first > last || last > numRanges)
      return invalidArgument(
          "block-sparse ranges: slices must be non-decreasing end indices "
          "into the " +
          std::to_string(numRanges) + " column ranges, got slices[" +
          std::to_string(c) + "] = " + std::to_string(last));
    clusters.push_back({range[0], range[1], first, last});
  }
  for (int64_t r = 0; r < numRanges; ++r) {
    const int64_t *range = args.col_ranges + 2 * r;
    if (range[0] < 0 || range[0] > range[1] || range[1] > cols)
      return invalidArgument("block-sparse ranges: column range " +
                             std::to_string(r) + " is " + rangeText(range) +
                             ", outside [0, " + std::to_string(cols) + ")");
  }

  // Clusters must not overlap; the gaps between them reduce over nothing.
  std::vector<Cluster> sorted = clusters;
  std::sort(sorted.begin(), sorted.end(),
            [](const Cluster &a, const Cluster &b) {
              return a.rowBegin < b.rowBegin;
            });
  int64_t covered = 0;
  for (const Cluster &cluster : sorted) {
    if (cluster.rowBegin == cluster.rowEnd)
      continue;
    if (cluster.rowBegin < covered)
      return invalidArgument("block-sparse ranges: the row ranges overlap at "
                             "row " +
                             std::to_string(cluster.rowBegin));
    if (cluster.rowBegin > covered)
      clusters.push_back({covered, cluster.rowBegin, 0, 0});
    covered = cluster.rowEnd;
  }
  if (covered < rows)
    clusters.push_back({covered, rows, 0, 0});
  return nullptr;
}


keops_rt_status_t runBlockSparse(const keops_rt_kernel_s &kernel,
                                 const keops_rt_run_args_t &args, int64_t rows,
                                 int64_t cols, int64_t threads) {
  std::vector<Cluster> clusters;
  if (keops_rt_status_t status = makeClusters(args, rows, cols, clusters))
    return status;

  // Work items: blocks of at most `block` rows of one cluster.
  struct Item {
    int64_t cluster, rowBegin, rowEnd;
  };
  threads = std::max<int64_t>(1, std::min(threads, rows));
  int64_t block = std::max<int64_t>(16, rows / (threads * 8));
  std::vector<Item> items;
  for (size_t c = 0; c < clusters.size(); ++c)
    for (int64_t begin = clusters[c].rowBegin; begin < clusters[c].rowEnd;
         begin += block)
      items.push_back({static_cast<int64_t>(c), begin,
                       std::min(clusters[c].rowEnd, begin + block)});

  if (kernel.stateFloats + kernel.stateInts == 0)
    return invalidArgument(kernel.name + " has no raw accumulator state: "
                                         "block-sparse reductions need one");
  StateBuffers states(kernel, rows);
  std::vector<std::unique_ptr<KernelCall>> calls;
  for (int64_t t = 0; t < threads; ++t) {
    calls.push_back(std::make_unique<KernelCall>(kernel, args, block));
    calls.back()->useStates(states);
  }
  parallelFor(threads, static_cast<int64_t>(items.size()),
              [&](int64_t n, int64_t thread) {
                const Item &item = items[n];
                const Cluster &cluster = clusters[item.cluster];
                KernelCall &call = *calls[thread];
                if (cluster.first == cluster.last) {
                  call(item.rowBegin, item.rowEnd, 0, 0);
                  return;
                }
                for (int64_t r = cluster.first; r < cluster.last; ++r)
                  call(item.rowBegin, item.rowEnd, args.col_ranges[2 * r],
                       args.col_ranges[2 * r + 1],
                       r == cluster.first ? KEOPS_RT_MODE_RAW
                                          : KEOPS_RT_MODE_RESUME,
                       0, rows);
                call.merge(item.rowBegin, item.rowEnd, 1, rows);
              },
              args);
  return isInterrupted(args) ? interrupted(kernel.name) : nullptr;
}

} // namespace keops::rt
