//===- KernelCall.cpp - Packed kernel calls and the parallel loop -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements KernelCall, which packs the arguments of a kernel
// entry point once per thread, and parallelFor, which hands work items to
// threads from a shared counter.
//
//===----------------------------------------------------------------------===//

#include "Kernel.h"

#include <atomic>
#include <thread>

namespace keops::rt {

KernelCall::KernelCall(const keops_rt_kernel_s &kernel,
                       std::vector<keops_rt_buffer_t> buffers)
    : entry(kernel.entry), buffers(std::move(buffers)) {
  for (keops_rt_buffer_t &buffer : this->buffers)
    pointers.push_back(&buffer);
  for (int64_t &scalar : scalars)
    packed.push_back(&scalar);
  for (keops_rt_buffer_t *&pointer : pointers)
    packed.push_back(&pointer);
}

void KernelCall::operator()(int64_t rowBegin, int64_t rowEnd,
                            int64_t colBegin, int64_t colEnd, int64_t ld) {
  scalars[0] = rowBegin;
  scalars[1] = rowEnd;
  scalars[2] = colBegin;
  scalars[3] = colEnd;
  scalars[4] = ld;
  entry(packed.data());
}

void parallelFor(int64_t threads, int64_t count,
                 const std::function<void(int64_t, int64_t)> &body) {
  std::atomic<int64_t> next{0};
  auto work = [&](int64_t thread) {
    for (int64_t item; (item = next.fetch_add(1)) < count;)
      body(item, thread);
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t)
    pool.emplace_back(work, t);
  work(0);
  for (std::thread &thread : pool)
    thread.join();
}

} // namespace keops::rt
