/* fake_cuda.c - A stand-in libcuda.so.1 for the tests of the runtime's
 * driver loading: cuInit returns $FAKE_CUDA_INIT (default 34, what the CUDA
 * toolkit's stub library returns) and there is no device. With
 * $FAKE_CUDA_DEVICE=XY, cuInit succeeds and there is one device of compute
 * capability X.Y whose memory is host memory and which refuses every module
 * image (CUDA error 200), so that a test sees which image the runtime chose.
 * SPDX-License-Identifier: MIT */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;

static int device_arch(void) {
  const char *value = getenv("FAKE_CUDA_DEVICE");
  return value ? atoi(value) : 0;
}

CUresult cuInit(unsigned flags) {
  const char *value = getenv("FAKE_CUDA_INIT");
  (void)flags;
  if (device_arch())
    return 0;
  return value ? atoi(value) : 34;
}
CUresult cuDeviceGetCount(int *count) {
  *count = device_arch() ? 1 : 0;
  return 0;
}
CUresult cuGetErrorString(CUresult result, const char **text) {
  *text = result == 200 ? "fake: invalid image" : "fake";
  return 0;
}
CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return 0;
}
CUresult cuDeviceGetName(char *name, int size, int device) {
  (void)device;
  strncpy(name, "Fake GPU", (size_t)size);
  return 0;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
  (void)device;
  *value = attribute == 75   ? device_arch() / 10 /* major */
           : attribute == 76 ? device_arch() % 10 /* minor */
                             : 1;
  return 0;
}
CUresult cuDevicePrimaryCtxRetain(void **context, int device) {
  (void)device;
  *context = (void *)1;
  return 0;
}
CUresult cuCtxSetCurrent(void *context) {
  (void)context;
  return 0;
}
CUresult cuModuleLoadData(void **module, const void *image) {
  (void)module;
  (void)image;
  return 200;
}
CUresult cuMemAlloc_v2(uintptr_t *pointer, size_t bytes) {
  *pointer = (uintptr_t)malloc(bytes);
  return 0;
}
CUresult cuMemFree_v2(uintptr_t pointer) {
  free((void *)pointer);
  return 0;
}
CUresult cuMemcpyHtoD_v2(uintptr_t to, const void *from, size_t bytes) {
  memcpy((void *)to, from, bytes);
  return 0;
}
CUresult cuMemcpyDtoH_v2(void *to, uintptr_t from, size_t bytes) {
  memcpy(to, (const void *)from, bytes);
  return 0;
}
/* Resolved by the loader, never reached: every module image is refused. */
CUresult cuModuleGetFunction(void) { return 100; }
CUresult cuLaunchKernel(void) { return 100; }
#ifndef FAKE_CUDA_INCOMPLETE
CUresult cuStreamSynchronize(void) { return 0; }
#endif
