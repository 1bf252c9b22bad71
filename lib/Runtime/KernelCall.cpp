//===- KernelCall.cpp - Packed kernel calls and the parallel loop -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements KernelCall, which packs the arguments of a kernel
// entry point once per thread, and parallelFor, which hands work items to
// threads from a shared counter: the caller and the workers of a persistent
// pool (created threads when the pool is taken by a concurrent call).
//
//===----------------------------------------------------------------------===//

#include "Kernel.h"
#include "Status.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <pthread.h>
#include <sched.h>

namespace keops::rt {

StateBuffers::StateBuffers(const keops_rt_kernel_s &kernel, int64_t slots)
    : floats(std::max<int64_t>(1, slots * kernel.stateFloats) *
             keops_rt_dtype_size(kernel.stateDtype)),
      ints(std::max<int64_t>(1, slots * kernel.stateInts)) {}

int64_t maxRowsPerCall(const keops_rt_kernel_s &kernel) {
  constexpr int64_t kScratchBytes = 4 << 20, kMaxRows = 4096;
  int64_t perRow = std::max<int64_t>(
      1, kernel.lanes * (kernel.stateFloats *
                             static_cast<int64_t>(
                                 keops_rt_dtype_size(kernel.stateDtype)) +
                         kernel.stateInts * 8));
  return std::max<int64_t>(1, std::min(kMaxRows, kScratchBytes / perRow));
}

/// The elements of the staging buffer of a j-tile: tile_cols columns of the
/// reduced variables.
static int64_t stagedElements(const keops_rt_kernel_s &kernel) {
  int64_t dims = 0;
  for (size_t k = 0; k < kernel.categories.size(); ++k)
    if (kernel.categories[k] != kernel.rowCategory &&
        kernel.categories[k] != KEOPS_RT_CATEGORY_PARAM)
      dims += kernel.dims[k];
  return std::max<int64_t>(1, dims * kernel.tileCols);
}

int64_t availableCores() {
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) > 0)
    return CPU_COUNT(&cpus);
  return std::max(1u, std::thread::hardware_concurrency());
}

int64_t rowStride(const keops_rt_array_t &array) {
  return array.row_stride ? array.row_stride : array.cols;
}

keops_rt_buffer_t arrayBuffer(const keops_rt_array_t &array) {
  return bufferOf(array.data,
                  array.rows ? (array.rows - 1) * rowStride(array) + array.cols
                             : 0);
}

KernelCall::KernelCall(const keops_rt_kernel_s &kernel,
                       const keops_rt_run_args_t &args, int64_t rows)
    : entry(kernel.entry), args(&args),
      maxRows(std::clamp<int64_t>(rows, 1, maxRowsPerCall(kernel))),
      scratch(kernel, maxRows * kernel.lanes),
      tile(stagedElements(kernel) * keops_rt_dtype_size(kernel.dtype)),
      scalars(KEOPS_RT_NUM_SCALAR_ARGS) {
  for (int32_t k = 0; k < args.num_inputs; ++k) {
    scalars.push_back(rowStride(args.inputs[k]));
    buffers.push_back(arrayBuffer(args.inputs[k]));
  }
  for (int32_t k = 0; k < args.num_outputs; ++k) {
    scalars.push_back(rowStride(args.outputs[k]));
    buffers.push_back(arrayBuffer(args.outputs[k]));
  }
  firstBuffer = buffers.size();
  buffers.resize(firstBuffer + KEOPS_RT_NUM_CPU_BUFFERS, bufferOf(nullptr, 0));
  buffers[firstBuffer + KEOPS_RT_BUFFER_SCRATCH_FLOATS] =
      bufferOf(scratch.floats.data(),
               static_cast<int64_t>(scratch.floats.size() /
                                    keops_rt_dtype_size(kernel.stateDtype)));
  buffers[firstBuffer + KEOPS_RT_BUFFER_SCRATCH_INTS] =
      bufferOf(scratch.ints.data(), static_cast<int64_t>(scratch.ints.size()));
  buffers[firstBuffer + KEOPS_RT_BUFFER_TILE] = bufferOf(
      tile.data(),
      static_cast<int64_t>(tile.size() / keops_rt_dtype_size(kernel.dtype)));
  for (keops_rt_buffer_t &buffer : buffers)
    pointers.push_back(&buffer);
  for (int64_t &scalar : scalars)
    packed.push_back(&scalar);
  for (keops_rt_buffer_t *&pointer : pointers)
    packed.push_back(&pointer);
}

void KernelCall::useStates(StateBuffers &states) {
  useStates(states.floats.data(),
            static_cast<int64_t>(states.floats.size()),
            states.ints.data(), static_cast<int64_t>(states.ints.size()));
}

void KernelCall::useStates(void *floats, int64_t floatCount, int64_t *ints,
                           int64_t intCount) {
  buffers[firstBuffer + KEOPS_RT_BUFFER_STATE_FLOATS] =
      bufferOf(floats, floatCount);
  buffers[firstBuffer + KEOPS_RT_BUFFER_STATE_INTS] = bufferOf(ints, intCount);
}

void KernelCall::setScalars(int64_t rowBegin, int64_t rowEnd,
                            int64_t colBegin, int64_t colEnd,
                            keops_rt_mode_t mode, int64_t split,
                            int64_t splits, int64_t slab) {
  scalars[KEOPS_RT_ARG_ROW_BEGIN] = rowBegin;
  scalars[KEOPS_RT_ARG_ROW_END] = rowEnd;
  scalars[KEOPS_RT_ARG_COL_BEGIN] = colBegin;
  scalars[KEOPS_RT_ARG_COL_END] = colEnd;
  scalars[KEOPS_RT_ARG_MODE] = static_cast<int64_t>(mode);
  scalars[KEOPS_RT_ARG_SPLIT] = split;
  scalars[KEOPS_RT_ARG_SPLITS] = splits;
  scalars[KEOPS_RT_ARG_SPLIT_COLUMNS] = 0;
  scalars[KEOPS_RT_ARG_SLAB] = slab;
}

void KernelCall::operator()(int64_t rowBegin, int64_t rowEnd,
                            int64_t colBegin, int64_t colEnd,
                            keops_rt_mode_t mode, int64_t split, int64_t slab) {
  for (; rowBegin < rowEnd && !isInterrupted(*args); rowBegin += maxRows) {
    setScalars(rowBegin, std::min(rowEnd, rowBegin + maxRows), colBegin,
               colEnd, mode, split, 1, slab);
    entry(packed.data());
  }
}

void KernelCall::merge(int64_t rowBegin, int64_t rowEnd, int64_t splits,
                       int64_t slab) {
  setScalars(rowBegin, rowEnd, 0, 0, KEOPS_RT_MODE_MERGE, 0, splits, slab);
  entry(packed.data());
}

namespace {

/// Worker threads kept across calls, so that a call does not pay for
/// creating threads. One call uses the pool at a time; a concurrent call (or
/// one asking for more threads than the pool has) creates its own threads.
class ThreadPool {
public:
  explicit ThreadPool(int64_t workers) {
    for (int64_t w = 0; w < workers; ++w)
      threads.emplace_back([this, w] { serve(w + 1); });
  }

  /// The pool of this process, made at first use (again in a forked child,
  /// which has none of its parent's threads). Never destroyed: its threads
  /// wait until the process ends.
  static ThreadPool &get() {
    static std::once_flag atfork;
    std::call_once(atfork, [] {
      pthread_atfork(nullptr, nullptr, [] { instance().store(nullptr); });
    });
    ThreadPool *pool = instance().load();
    if (!pool) {
      static std::mutex creation;
      std::lock_guard<std::mutex> lock(creation);
      pool = instance().load();
      if (!pool) {
        pool = new ThreadPool(availableCores() - 1);
        instance().store(pool);
      }
    }
    return *pool;
  }

  /// Runs work(thread) for thread in [0, count) on the caller and count - 1
  /// workers; false (nothing run) when the pool is busy or too small.
  bool run(int64_t count, const std::function<void(int64_t)> &work) {
    if (count - 1 > static_cast<int64_t>(threads.size()))
      return false;
    std::unique_lock<std::mutex> busy(runMutex, std::try_to_lock);
    if (!busy.owns_lock())
      return false;
    {
      std::lock_guard<std::mutex> lock(mutex);
      job = &work;
      jobThreads = count;
      pending = count - 1;
      ++generation;
    }
    started.notify_all();
    work(0);
    std::unique_lock<std::mutex> lock(mutex);
    finished.wait(lock, [this] { return pending == 0; });
    job = nullptr;
    return true;
  }

private:
  static std::atomic<ThreadPool *> &instance() {
    static std::atomic<ThreadPool *> pool{nullptr};
    return pool;
  }

  void serve(int64_t index) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int64_t)> *work;
      {
        std::unique_lock<std::mutex> lock(mutex);
        started.wait(lock, [&] { return generation != seen; });
        seen = generation;
        if (index >= jobThreads)
          continue;
        work = job;
      }
      (*work)(index);
      std::lock_guard<std::mutex> lock(mutex);
      if (--pending == 0)
        finished.notify_one();
    }
  }

  std::vector<std::thread> threads;
  std::mutex runMutex; // held by the call using the pool
  std::mutex mutex;    // guards the job fields
  std::condition_variable started, finished;
  const std::function<void(int64_t)> *job = nullptr;
  int64_t jobThreads = 0, pending = 0;
  uint64_t generation = 0;
};

} // namespace

void parallelFor(int64_t threads, int64_t count,
                 const std::function<void(int64_t, int64_t)> &body,
                 const keops_rt_run_args_t &args) {
  threads = std::max<int64_t>(1, std::min(threads, count));
  std::atomic<int64_t> next{0};
  std::function<void(int64_t)> work = [&](int64_t thread) {
    for (int64_t item;
         !isInterrupted(args) && (item = next.fetch_add(1)) < count;)
      body(item, thread);
  };
  if (threads == 1) {
    work(0);
    return;
  }
  if (ThreadPool::get().run(threads, work))
    return;
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t)
    pool.emplace_back(work, t);
  work(0);
  for (std::thread &thread : pool)
    thread.join();
}

} // namespace keops::rt
