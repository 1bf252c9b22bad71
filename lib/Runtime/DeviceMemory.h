//===- DeviceMemory.h - The device memory of GPU runs -----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares DeviceBuffers, the device memory of one GPU run: the
// copies of host arrays, the raw states of split columns, the block-sparse
// tables. Buffers of finished runs stay in a cache per device for the next
// runs, so that repeated small reductions do not pay cuMemAlloc and
// cuMemFree each time.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_RUNTIME_DEVICEMEMORY_H
#define KEOPS_LIB_RUNTIME_DEVICEMEMORY_H

#include "CudaDriver.h"

#include <vector>

namespace keops::rt {

/// The device memory of one run on `device`, whose context is current when
/// it allocates and when it is destroyed. A buffer is one of the cache's
/// (the smallest of at least the bytes asked for and at most twice as
/// many), else a new one (the device's cache is emptied and cuMemAlloc
/// tried again when it fails). Once the run's work on them is done
/// (`finished`), the buffers go back to the cache, which keeps up to 1 GiB
/// a device; otherwise (an error: kernels may still be running) they are
/// freed, cuMemFree waiting for the device.
class DeviceBuffers {
public:
  DeviceBuffers(const CudaDriver &cuda, int device)
      : cuda(cuda), device(device) {}
  ~DeviceBuffers();
  DeviceBuffers(const DeviceBuffers &) = delete;
  DeviceBuffers &operator=(const DeviceBuffers &) = delete;

  keops_rt_status_t allocate(size_t bytes, CUdeviceptr &pointer);
  /// The run's work on the buffers is done: they may serve later runs.
  void finished() { reusable = true; }

private:
  struct Block {
    CUdeviceptr pointer;
    size_t bytes;
  };
  const CudaDriver &cuda;
  int device;
  std::vector<Block> owned;
  bool reusable = false;
};

/// Frees the cached buffers of every device.
keops_rt_status_t releaseCachedBuffers(const CudaDriver &cuda);

} // namespace keops::rt

#endif // KEOPS_LIB_RUNTIME_DEVICEMEMORY_H
