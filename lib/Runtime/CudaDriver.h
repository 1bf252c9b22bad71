//===- CudaDriver.h - The CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the few CUDA driver entry points the runtime uses,
// resolved from libcuda.so.1 with dlopen: building and running the CPU path
// needs no CUDA toolkit or driver. Signatures follow cuda.h (CUDA 12/13).
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_RUNTIME_CUDADRIVER_H
#define KEOPS_LIB_RUNTIME_CUDADRIVER_H

#include "keops/Runtime/KeOpsRuntime.h"

#include <cstddef>
#include <string>

namespace keops::rt {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;

/// cuDeviceGetAttribute codes.
constexpr int kComputeCapabilityMajor = 75;
constexpr int kComputeCapabilityMinor = 76;
constexpr int kMultiprocessorCount = 16;

struct CudaDriver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CUstream,
                             void **, void **);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuGetErrorString)(CUresult, const char **);

  /// The driver with cuInit done, or null with `error` saying why there is
  /// no usable GPU (no libcuda.so.1, a stub library, no device).
  static const CudaDriver *get(std::string &error);

  /// A status for a failed call `what`, or null when `result` is success.
  keops_rt_status_t check(CUresult result, const std::string &what) const;

  /// The handle of device number `device`; an error naming the devices
  /// there are when it does not exist.
  keops_rt_status_t device(int device, CUdevice &handle) const;

  /// Makes the primary context of `device` current on this thread.
  keops_rt_status_t useDevice(int device) const;
};

} // namespace keops::rt

#endif // KEOPS_LIB_RUNTIME_CUDADRIVER_H
