//===- Kernel.h - Runtime kernel objects and their calls --------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares what the dense and block-sparse schedules share: the
// kernel object behind keops_rt_kernel_t, a reusable packed call of its entry
// point, and a parallel loop over work items.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_RUNTIME_KERNEL_H
#define KEOPS_LIB_RUNTIME_KERNEL_H

#include "keops/Runtime/KeOpsRuntime.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace keops::rt {
/// The code of a GPU kernel and the functions loaded from it, per device.
struct GpuCode {
  std::string ptx, entry, cubin;
  int cubinMajor = 0, cubinMinor = 0; // its architecture (0: no cubin)
  int32_t blockSize;
  int32_t rowsPerThread = 1;
  /// The rows of a block of threads.
  int64_t rowsPerBlock() const {
    return static_cast<int64_t>(blockSize) * rowsPerThread;
  }
  /// The blocks that cover `rows` rows.
  int64_t blocksFor(int64_t rows) const {
    return (rows + rowsPerBlock() - 1) / rowsPerBlock();
  }
  std::mutex mutex;
  std::map<int, void *> functions; // CUfunction by device
};
} // namespace keops::rt

struct keops_rt_kernel_s {
  std::string name;
  keops_rt_dtype_t dtype;
  keops_rt_category_t rowCategory;
  std::vector<keops_rt_category_t> categories;
  std::vector<int64_t> dims;
  std::vector<std::string> inputNames;
  std::vector<int64_t> outputDims;
  std::vector<keops_rt_dtype_t> outputDtypes;
  bool allowsEmptyReduction;
  int32_t stateFloats = 0, stateInts = 0;
  keops_rt_dtype_t stateDtype = KEOPS_RT_FLOAT32;
  std::string reduction, arch;
  int32_t k = 0, lanes = 0, tileRows = 0, tileCols = 0;
  std::vector<const char *> inputNamePointers; // into inputNames
  keops_rt_cpu_entry_t entry = nullptr;
  void *owner = nullptr;
  void (*release)(void *) = nullptr;
  std::unique_ptr<keops::rt::GpuCode> gpu; // null for CPU kernels

  ~keops_rt_kernel_s() {
    if (release)
      release(owner);
  }
};

namespace keops::rt {

inline keops_rt_buffer_t bufferOf(void *data, int64_t size) {
  return {data, data, 0, size, 1};
}

/// Raw accumulator states of `slots` rows for `kernel`.
struct StateBuffers {
  StateBuffers(const keops_rt_kernel_s &kernel, int64_t slots);
  std::vector<char> floats;
  std::vector<int64_t> ints;
};

/// The most rows one call of a CPU kernel computes: its scratch (the lane
/// states of the rows between j-tiles) stays within 4 MiB.
int64_t maxRowsPerCall(const keops_rt_kernel_s &kernel);

/// The elements from a row of `array` to the next.
int64_t rowStride(const keops_rt_array_t &array);

/// The cores this process may run on (its CPU affinity, as taskset, a batch
/// scheduler or an MPI launcher sets it; all the machine's where unknown):
/// the default thread count of a CPU run.
int64_t availableCores();

/// The buffer of `array`: its elements up to the end of its last row.
keops_rt_buffer_t arrayBuffer(const keops_rt_array_t &array);

/// The packed argument list of a CPU kernel entry point over the arrays of
/// a run (with their row strides) and the state, scratch and staging
/// buffers, reused across calls by one thread.
class KernelCall {
public:
  /// `rows`: the most output rows the run computes (the scratch holds the
  /// states of no more).
  KernelCall(const keops_rt_kernel_s &kernel, const keops_rt_run_args_t &args,
             int64_t rows);
  KernelCall(const KernelCall &) = delete;
  KernelCall &operator=(const KernelCall &) = delete;

  /// The raw states the Raw, Resume and Merge modes use.
  void useStates(StateBuffers &states);
  void useStates(void *floats, int64_t floatCount, int64_t *ints,
                 int64_t intCount);

  /// Computes rows [rowBegin, rowEnd) over columns [colBegin, colEnd) (in
  /// calls of at most maxRowsPerCall rows); the raw modes use state slots
  /// split * slab + row.
  void operator()(int64_t rowBegin, int64_t rowEnd, int64_t colBegin,
                  int64_t colEnd,
                  keops_rt_mode_t mode = KEOPS_RT_MODE_FINALIZE,
                  int64_t split = 0, int64_t slab = 0);
  /// Merges the states of `splits` slabs of `slab` rows and finalizes rows
  /// [rowBegin, rowEnd).
  void merge(int64_t rowBegin, int64_t rowEnd, int64_t splits, int64_t slab);

private:
  keops_rt_cpu_entry_t entry;
  const keops_rt_run_args_t *args; // for its interrupt flag
  int64_t maxRows;
  StateBuffers scratch;
  std::vector<char> tile; // the staged columns of a j-tile
  /// Sets the scalars of keops_rt_kernel_arg_t.
  void setScalars(int64_t rowBegin, int64_t rowEnd, int64_t colBegin,
                  int64_t colEnd, keops_rt_mode_t mode, int64_t split,
                  int64_t splits, int64_t slab);

  std::vector<int64_t> scalars; // keops_rt_kernel_arg_t, then the strides
  std::vector<keops_rt_buffer_t> buffers;
  size_t firstBuffer; // of keops_rt_kernel_buffer_t in `buffers`
  std::vector<keops_rt_buffer_t *> pointers;
  std::vector<void *> packed;
};

/// Runs body(item, thread) for every item of [0, count) on `threads` threads
/// (thread in [0, threads)), which take the items in order; no item starts
/// once `args` is interrupted (isInterrupted).
void parallelFor(int64_t threads, int64_t count,
                 const std::function<void(int64_t, int64_t)> &body,
                 const keops_rt_run_args_t &args);

/// A kernel object with the descriptor's fields copied (no code yet).
keops_rt_status_t makeKernel(const keops_rt_kernel_desc_t &desc,
                             std::unique_ptr<keops_rt_kernel_s> &kernel);

/// Runs a reduction of `rows` output rows over `cols` columns (> 0 unless
/// the kind allows empty reductions; block-sparse when args.row_ranges is
/// set) with a GPU kernel.
keops_rt_status_t runGpu(const keops_rt_kernel_s &kernel,
                         const keops_rt_run_args_t &args, int64_t rows,
                         int64_t cols);

/// Runs a dense reduction of `rows` output rows over `cols` columns on the
/// CPU.
keops_rt_status_t runDense(const keops_rt_kernel_s &kernel,
                           const keops_rt_run_args_t &args, int64_t rows,
                           int64_t cols, int64_t threads);

/// Reduces every output row over the columns [colBegin, colEnd) into raw
/// states (floats, ints: row r at r * stateFloats, r * stateInts).
keops_rt_status_t runPartial(const keops_rt_kernel_s &kernel,
                             const keops_rt_run_args_t &args, int64_t rows,
                             int64_t threads, int64_t colBegin, int64_t colEnd,
                             void *floats, int64_t *ints);

/// Merges `count` partials of the `rows` output rows (one after the other)
/// into the outputs.
keops_rt_status_t mergePartials(const keops_rt_kernel_s &kernel,
                                const keops_rt_run_args_t &args, int64_t rows,
                                int64_t threads, int32_t count,
                                const void *floats, const int64_t *ints);

/// Output rows [rowBegin, rowEnd) reduced over the column ranges
/// [first, last) of a block-sparse reduction.
struct Cluster {
  int64_t rowBegin, rowEnd;
  int64_t first, last;
};

/// Checks the ranges of `args` (of `rows` output rows over `cols` columns)
/// and lists the clusters, including the rows that no cluster covers (with
/// no column range).
keops_rt_status_t makeClusters(const keops_rt_run_args_t &args, int64_t rows,
                               int64_t cols, std::vector<Cluster> &clusters);

/// Runs a block-sparse reduction (args->row_ranges not NULL) of `rows` output
/// rows over `cols` columns. Checks the ranges first.
keops_rt_status_t runBlockSparse(const keops_rt_kernel_s &kernel,
                                 const keops_rt_run_args_t &args, int64_t rows,
                                 int64_t cols, int64_t threads);

} // namespace keops::rt

#endif // KEOPS_LIB_RUNTIME_KERNEL_H
