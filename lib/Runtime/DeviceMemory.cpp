//===- DeviceMemory.cpp - The device memory of GPU runs ---------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements DeviceBuffers and the cache of device buffers that
// finished runs leave for the next ones.
//
//===----------------------------------------------------------------------===//

#include "DeviceMemory.h"

#include <algorithm>
#include <map>
#include <mutex>

using namespace keops::rt;

namespace {

constexpr size_t kCachedBytesPerDevice = size_t(1) << 30;

/// The free buffers of every device, by size. Never destroyed: the driver
/// releases the memory when the process ends.
struct DeviceCache {
  std::mutex mutex;
  std::map<int, std::multimap<size_t, CUdeviceptr>> buffers;
  std::map<int, size_t> bytes;

  static DeviceCache &get() {
    static DeviceCache *cache = new DeviceCache;
    return *cache;
  }
};

} // namespace

keops_rt_status_t DeviceBuffers::allocate(size_t bytes, CUdeviceptr &pointer) {
  bytes = std::max<size_t>(bytes, 1);
  DeviceCache &cache = DeviceCache::get();
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto &free = cache.buffers[device];
    auto it = free.lower_bound(bytes);
    if (it != free.end() && it->first <= 2 * bytes) {
      owned.push_back({it->second, it->first});
      pointer = it->second;
      cache.bytes[device] -= it->first;
      free.erase(it);
      return nullptr;
    }
  }
  if (cuda.cuMemAlloc(&pointer, bytes) != 0) {
    // Give the device the cached buffers back, then try again.
    std::lock_guard<std::mutex> lock(cache.mutex);
    for (auto &[size, buffer] : cache.buffers[device])
      cuda.cuMemFree(buffer);
    cache.buffers[device].clear();
    cache.bytes[device] = 0;
    if (keops_rt_status_t status =
            cuda.check(cuda.cuMemAlloc(&pointer, bytes),
                       "allocating " + std::to_string(bytes) +
                           " bytes of GPU memory"))
      return status;
  }
  owned.push_back({pointer, bytes});
  return nullptr;
}

keops_rt_status_t keops::rt::releaseCachedBuffers(const CudaDriver &cuda) {
  DeviceCache &cache = DeviceCache::get();
  std::lock_guard<std::mutex> lock(cache.mutex);
  for (auto &[device, buffers] : cache.buffers) {
    if (buffers.empty())
      continue;
    if (keops_rt_status_t status = cuda.useDevice(device))
      return status;
    for (auto &[size, buffer] : buffers)
      cuda.cuMemFree(buffer);
    buffers.clear();
    cache.bytes[device] = 0;
  }
  return nullptr;
}

DeviceBuffers::~DeviceBuffers() {
  DeviceCache &cache = DeviceCache::get();
  std::lock_guard<std::mutex> lock(cache.mutex);
  for (const Block &block : owned) {
    if (reusable && cache.bytes[device] + block.bytes <= kCachedBytesPerDevice) {
      cache.buffers[device].insert({block.bytes, block.pointer});
      cache.bytes[device] += block.bytes;
      continue;
    }
    cuda.cuMemFree(block.pointer);
  }
}
