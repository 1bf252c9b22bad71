//===- BlockSparse.cpp - Block-sparse reductions on the CPU -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements block-sparse reductions with the dense kernel ABI:
// for each cluster of output rows, the columns of its ranges are gathered
// into a contiguous, component-major buffer (once per thread and cluster),
// the kernel reduces the cluster's rows over that buffer, and index outputs
// are mapped back from gathered positions to column indices. Rows outside
// every cluster are reduced over no column.
//
//===----------------------------------------------------------------------===//

#include "Kernel.h"
#include "Status.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace keops::rt {
namespace {

/// Output rows [rowBegin, rowEnd) reduced over col ranges [first, last).
struct Cluster {
  int64_t rowBegin, rowEnd;
  int64_t first, last;
};

std::string rangeText(const int64_t *range) {
  return "[" + std::to_string(range[0]) + ", " + std::to_string(range[1]) +
         ")";
}

/// Checks the ranges of `args` and lists the clusters, including the rows
/// that no cluster covers (with no column range).
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

/// Gathers the columns of `ranges` of a row-major (rows x dim) array into
/// `out`, component-major with leading dimension `count`.
template <typename T>
void gather(const T *in, int64_t dim, const std::vector<int64_t> &starts,
            const int64_t *ranges, int64_t count, T *out) {
  for (size_t r = 0; r + 1 < starts.size(); ++r)
    for (int64_t c = ranges[2 * r], p = starts[r]; c < ranges[2 * r + 1];
         ++c, ++p)
      for (int64_t d = 0; d < dim; ++d)
        out[d * count + p] = in[c * dim + d];
}

/// What one thread keeps between work items: its call, and the gathered
/// columns of the cluster it last worked on.
struct Worker {
  std::unique_ptr<KernelCall> call;
  std::vector<std::vector<char>> gathered; // per input
  int64_t cluster = -1;
  std::vector<int64_t> starts; // gathered position of each range, then total
};

} // namespace

keops_rt_status_t runBlockSparse(const keops_rt_kernel_s &kernel,
                                 const keops_rt_run_args_t &args, int64_t rows,
                                 int64_t cols,
                                 int64_t threads,
                                 const std::vector<keops_rt_buffer_t> &buffers) {
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

  keops_rt_category_t colCategory = kernel.rowCategory == KEOPS_RT_CATEGORY_I
                                        ? KEOPS_RT_CATEGORY_J
                                        : KEOPS_RT_CATEGORY_I;
  size_t numInputs = kernel.categories.size();
  size_t elementSize = kernel.dtype == KEOPS_RT_FLOAT32 ? 4 : 8;
  std::vector<Worker> workers(threads);
  for (Worker &worker : workers) {
    worker.call = std::make_unique<KernelCall>(kernel, buffers);
    worker.gathered.resize(numInputs);
  }

  // Gathers the reduced variables of cluster c into the worker's buffers.
  auto gatherCluster = [&](Worker &worker, int64_t c) {
    const Cluster &cluster = clusters[c];
    const int64_t *ranges = args.col_ranges + 2 * cluster.first;
    worker.starts.assign(1, 0);
    for (int64_t r = cluster.first; r < cluster.last; ++r)
      worker.starts.push_back(worker.starts.back() + args.col_ranges[2 * r + 1] -
                              args.col_ranges[2 * r]);
    int64_t count = worker.starts.back();
    for (size_t k = 0; k < numInputs; ++k) {
      if (kernel.categories[k] != colCategory)
        continue;
      int64_t dim = kernel.dims[k];
      std::vector<char> &data = worker.gathered[k];
      data.resize(std::max<int64_t>(count * dim, 1) * elementSize);
      if (kernel.dtype == KEOPS_RT_FLOAT32)
        gather(static_cast<const float *>(args.inputs[k].data), dim,
               worker.starts, ranges, count,
               reinterpret_cast<float *>(data.data()));
      else
        gather(static_cast<const double *>(args.inputs[k].data), dim,
               worker.starts, ranges, count,
               reinterpret_cast<double *>(data.data()));
      worker.call->buffer(k) = bufferOf(data.data(), count * dim);
    }
    worker.cluster = c;
  };

  // Maps gathered positions in the index outputs back to column indices.
  auto mapIndices = [&](const Worker &worker, const Item &item) {
    const int64_t *ranges = args.col_ranges + 2 * clusters[item.cluster].first;
    int64_t count = worker.starts.back();
    for (size_t k = 0; k < kernel.outputDims.size(); ++k) {
      if (kernel.outputDtypes[k] != KEOPS_RT_INT64)
        continue;
      int64_t dim = kernel.outputDims[k];
      auto *out = static_cast<int64_t *>(args.outputs[k].data);
      for (int64_t n = item.rowBegin * dim; n < item.rowEnd * dim; ++n) {
        if (out[n] < 0 || out[n] >= count)
          continue;
        size_t r = std::upper_bound(worker.starts.begin(), worker.starts.end(),
                                    out[n]) -
                   worker.starts.begin() - 1;
        out[n] = ranges[2 * r] + out[n] - worker.starts[r];
      }
    }
  };

  parallelFor(threads, static_cast<int64_t>(items.size()),
              [&](int64_t n, int64_t thread) {
                Worker &worker = workers[thread];
                const Item &item = items[n];
                if (worker.cluster != item.cluster)
                  gatherCluster(worker, item.cluster);
                int64_t count = worker.starts.back();
                (*worker.call)(item.rowBegin, item.rowEnd, 0, count, count);
                mapIndices(worker, item);
              });
  return nullptr;
}

} // namespace keops::rt
