//===- CudaDriver.cpp - The CUDA driver API, loaded at run time -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file loads libcuda.so.1 once per process and resolves the entry
// points of CudaDriver (the _v2 symbols where cuda.h maps the plain names to
// them). "No GPU" is an ordinary answer: every reason is kept as a message.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"

#include "Status.h"

#include <dlfcn.h>

using namespace keops::rt;

namespace {

constexpr CUresult kSuccess = 0;
constexpr CUresult kStubLibrary = 34;
constexpr CUresult kNoDevice = 100;

struct LoadedDriver {
  CudaDriver driver{};
  std::string error; // empty: usable
};

template <typename F>
bool resolve(void *library, const char *name, F &function,
             std::string &error) {
  function = reinterpret_cast<F>(dlsym(library, name));
  if (!function && error.empty())
    error = std::string("no GPU: libcuda.so.1 has no symbol ") + name;
  return function != nullptr;
}

LoadedDriver load() {
  LoadedDriver loaded;
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = dlerror();
    loaded.error = std::string("no GPU: the CUDA driver library could not be "
                               "loaded (") +
                   (reason ? reason : "libcuda.so.1") + ")";
    return loaded;
  }
  CudaDriver &d = loaded.driver;
  std::string &e = loaded.error;
  resolve(library, "cuInit", d.cuInit, e);
  resolve(library, "cuDeviceGetCount", d.cuDeviceGetCount, e);
  resolve(library, "cuDeviceGet", d.cuDeviceGet, e);
  resolve(library, "cuDeviceGetName", d.cuDeviceGetName, e);
  resolve(library, "cuDeviceGetAttribute", d.cuDeviceGetAttribute, e);
  resolve(library, "cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain, e);
  resolve(library, "cuCtxSetCurrent", d.cuCtxSetCurrent, e);
  resolve(library, "cuModuleLoadData", d.cuModuleLoadData, e);
  resolve(library, "cuModuleGetFunction", d.cuModuleGetFunction, e);
  resolve(library, "cuMemAlloc_v2", d.cuMemAlloc, e);
  resolve(library, "cuMemFree_v2", d.cuMemFree, e);
  resolve(library, "cuMemcpyHtoD_v2", d.cuMemcpyHtoD, e);
  resolve(library, "cuMemcpyDtoH_v2", d.cuMemcpyDtoH, e);
  resolve(library, "cuLaunchKernel", d.cuLaunchKernel, e);
  resolve(library, "cuStreamSynchronize", d.cuStreamSynchronize, e);
  resolve(library, "cuGetErrorString", d.cuGetErrorString, e);
  if (!e.empty())
    return loaded;
  CUresult init = d.cuInit(0);
  int count = 0;
  if (init == kStubLibrary)
    e = "no GPU: libcuda.so.1 is the CUDA toolkit's stub, not a driver";
  else if (init == kNoDevice ||
           (init == kSuccess && (d.cuDeviceGetCount(&count) != kSuccess ||
                                 count == 0)))
    e = "no GPU: the CUDA driver found no device";
  else if (init != kSuccess)
    e = "no GPU: cuInit failed with CUDA error " + std::to_string(init);
  return loaded;
}

} // namespace

const CudaDriver *CudaDriver::get(std::string &error) {
  static const LoadedDriver loaded = load();
  error = loaded.error;
  return error.empty() ? &loaded.driver : nullptr;
}

keops_rt_status_t CudaDriver::check(CUresult result,
                                    const std::string &what) const {
  if (result == kSuccess)
    return nullptr;
  const char *text = nullptr;
  cuGetErrorString(result, &text);
  return makeStatus(KEOPS_RT_INTERNAL,
                    what + " failed: CUDA error " + std::to_string(result) +
                        (text ? std::string(" (") + text + ")" : ""));
}

keops_rt_status_t CudaDriver::device(int device, CUdevice &handle) const {
  int count = 0;
  if (keops_rt_status_t status =
          check(cuDeviceGetCount(&count), "cuDeviceGetCount"))
    return status;
  if (device < 0 || device >= count)
    return invalidArgument("GPU device " + std::to_string(device) +
                           " does not exist (" + std::to_string(count) +
                           " device" + (count == 1 ? "" : "s") + ")");
  return check(cuDeviceGet(&handle, device), "cuDeviceGet");
}

keops_rt_status_t CudaDriver::useDevice(int device) const {
  CUdevice handle;
  CUcontext context;
  if (keops_rt_status_t status = this->device(device, handle))
    return status;
  if (keops_rt_status_t status = check(
          cuDevicePrimaryCtxRetain(&context, handle), "cuDevicePrimaryCtxRetain"))
    return status;
  return check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
}
