/* fake_cuda.c - A stand-in libcuda.so.1 for the tests of the runtime's
 * driver loading: cuInit returns $FAKE_CUDA_INIT (default 34, what the CUDA
 * toolkit's stub library returns) and there is no device.
 * SPDX-License-Identifier: MIT */
#include <stddef.h>
#include <stdlib.h>

typedef int CUresult;

CUresult cuInit(unsigned flags) {
  const char *value = getenv("FAKE_CUDA_INIT");
  (void)flags;
  return value ? atoi(value) : 34;
}
CUresult cuDeviceGetCount(int *count) {
  *count = 0;
  return 0;
}
CUresult cuGetErrorString(CUresult result, const char **text) {
  (void)result;
  *text = "fake";
  return 0;
}
/* Resolved by the loader, never called without a device. */
CUresult cuDeviceGet(void) { return 100; }
CUresult cuDeviceGetName(void) { return 100; }
CUresult cuDeviceGetAttribute(void) { return 100; }
CUresult cuDevicePrimaryCtxRetain(void) { return 100; }
CUresult cuCtxSetCurrent(void) { return 100; }
CUresult cuModuleLoadData(void) { return 100; }
CUresult cuModuleGetFunction(void) { return 100; }
CUresult cuMemAlloc_v2(void) { return 100; }
CUresult cuMemFree_v2(void) { return 100; }
CUresult cuMemcpyHtoD_v2(void) { return 100; }
CUresult cuMemcpyDtoH_v2(void) { return 100; }
CUresult cuLaunchKernel(void) { return 100; }
#ifndef FAKE_CUDA_INCOMPLETE
CUresult cuStreamSynchronize(void) { return 100; }
#endif
