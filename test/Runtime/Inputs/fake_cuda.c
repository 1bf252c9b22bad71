/* fake_cuda.c - A stand-in libcuda.so.1 for the tests of the runtime's
 * driver loading and GPU scheduling, and the GPU emulation.
 * - By default cuInit returns $FAKE_CUDA_INIT (default 34, what the CUDA
 *   toolkit's stub library returns) and there is no device.
 * - With $FAKE_CUDA_DEVICE=XY, cuInit succeeds and there are
 *   $FAKE_CUDA_DEVICES (default 1) devices of compute capability X.Y and
 *   $FAKE_CUDA_SMS (default 1) multiprocessors, whose memory is host
 *   memory. They refuse every module image (CUDA error 200), so that a test
 *   sees which image the runtime chose,
 * - unless $FAKE_CUDA_LOG names a file: then images load, and every module
 *   load, launch and stream synchronization is appended to it as a line
 *   (the launch with its grid, block, stream and the 8 index arguments of
 *   the kernel ABI), so that a test sees how the runtime schedules a run;
 *   with $FAKE_CUDA_LOG_MEMORY set, every allocation and free too. The
 *   devices hold $FAKE_CUDA_MEMORY bytes (default: no limit; beyond, an
 *   allocation fails with CUDA error 2, out of memory).
 *   Launches compute nothing,
 * - except those of the host kernels of the GPU emulation
 *   ($KEOPS_GPU_EMULATION=1 in the compiling process: the image text
 *   "keops-host-kernel ENTRY PARAMETERS WORKGROUP_BYTES", see
 *   include/keops/Target/GpuEmulation.h), which every device loads: a
 *   launch runs its blocks one after the other (launches one at a time),
 *   each with one fiber per GPU thread and a workgroup buffer of its own,
 *   as a GPU would.
 * SPDX-License-Identifier: MIT */
#include "keops/Runtime/KeOpsRuntime.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

typedef int CUresult;

static int env_int(const char *name, int fallback) {
  const char *value = getenv(name);
  return value ? atoi(value) : fallback;
}
static int device_arch(void) { return env_int("FAKE_CUDA_DEVICE", 0); }

/* The device of the current context (contexts are device + 1). */
static __thread int current_device = -1;

/* Appends one line to $FAKE_CUDA_LOG (one write: lines of concurrent
 * threads do not mix). */
static void log_line(const char *format, ...) {
  const char *path = getenv("FAKE_CUDA_LOG");
  char line[512];
  va_list args;
  int fd, length;
  if (!path)
    return;
  va_start(args, format);
  length = vsnprintf(line, sizeof line, format, args);
  va_end(args);
  fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0)
    return;
  if (write(fd, line, (size_t)length) != length)
    abort();
  close(fd);
}

CUresult cuInit(unsigned flags) {
  (void)flags;
  if (device_arch())
    return 0;
  return env_int("FAKE_CUDA_INIT", 34);
}
CUresult cuDeviceGetCount(int *count) {
  *count = device_arch() ? env_int("FAKE_CUDA_DEVICES", 1) : 0;
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
           : attribute == 16 ? env_int("FAKE_CUDA_SMS", 1)
                             : 1;
  return 0;
}
CUresult cuDevicePrimaryCtxRetain(void **context, int device) {
  *context = (void *)(intptr_t)(device + 1);
  return 0;
}
CUresult cuCtxSetCurrent(void *context) {
  current_device = (int)(intptr_t)context - 1;
  return 0;
}
/* A kernel of the GPU emulation: its packed entry (arguments through
 * pointers: the barrier function, block x, block y, thread x, the 5 fields
 * of the workgroup buffer when it has bytes, then the kernel's parameters). */
typedef struct {
  void (*entry)(void **);
  int parameters;
  long long workgroup_bytes;
} host_kernel_t;

static const char host_kernel_prefix[] = "keops-host-kernel ";

CUresult cuModuleLoadData(void **module, const void *image) {
  host_kernel_t *kernel;
  unsigned long long entry;
  if (strncmp(image, host_kernel_prefix, sizeof host_kernel_prefix - 1) == 0) {
    kernel = calloc(1, sizeof *kernel);
    if (sscanf((const char *)image + sizeof host_kernel_prefix - 1,
               "%llu %d %lld", &entry, &kernel->parameters,
               &kernel->workgroup_bytes) != 3) {
      free(kernel);
      return 200;
    }
    kernel->entry = (void (*)(void **))(uintptr_t)entry;
    log_line("load device=%d image=host\n", current_device);
    *module = kernel; /* never unloaded, like the runtime's modules */
    return 0;
  }
  if (!getenv("FAKE_CUDA_LOG"))
    return 200;
  log_line("load device=%d image=%s\n", current_device,
           memcmp(image, "\177ELF", 4) == 0 ? "cubin" : "ptx");
  *module = (void *)1;
  return 0;
}
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  (void)name;
  *function = module;
  return 0;
}
/* Device memory: host memory after a header that holds its size. */
static pthread_mutex_t memory_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t memory_in_use;
enum { kHeader = 64 };

CUresult cuMemAlloc_v2(uintptr_t *pointer, size_t bytes) {
  const char *limit = getenv("FAKE_CUDA_MEMORY");
  char *block;
  pthread_mutex_lock(&memory_lock);
  if (limit && memory_in_use + bytes > (size_t)atoll(limit)) {
    pthread_mutex_unlock(&memory_lock);
    return 2; /* CUDA_ERROR_OUT_OF_MEMORY */
  }
  memory_in_use += bytes;
  pthread_mutex_unlock(&memory_lock);
  block = calloc(1, kHeader + bytes);
  memcpy(block, &bytes, sizeof bytes);
  *pointer = (uintptr_t)(block + kHeader);
  if (getenv("FAKE_CUDA_LOG_MEMORY"))
    log_line("alloc device=%d bytes=%zu\n", current_device, bytes);
  return 0;
}
CUresult cuMemFree_v2(uintptr_t pointer) {
  char *block = (char *)pointer - kHeader;
  size_t bytes;
  memcpy(&bytes, block, sizeof bytes);
  pthread_mutex_lock(&memory_lock);
  memory_in_use -= bytes;
  pthread_mutex_unlock(&memory_lock);
  free(block);
  if (getenv("FAKE_CUDA_LOG_MEMORY"))
    log_line("free device=%d\n", current_device);
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
/* The GPU threads of the block being emulated, as fibers on the launching
 * host thread: the scheduler resumes each in turn until it reaches the next
 * barrier (or returns), so that no thread passes a barrier before all have
 * reached it, as on a GPU (whose kernels reach every barrier uniformly). */
typedef struct {
  ucontext_t context;
  const host_kernel_t *kernel;
  void **params;
  int64_t block_x, block_y, thread_x;
  char *workgroup;
  int done;
} host_thread_t;

static pthread_mutex_t launch_lock = PTHREAD_MUTEX_INITIALIZER;
static ucontext_t scheduler;
static host_thread_t *running;

static void block_barrier(void) { swapcontext(&running->context, &scheduler); }

static void run_host_thread(void) {
  host_thread_t *thread = running;
  const host_kernel_t *kernel = thread->kernel;
  void (*barrier)(void) = block_barrier;
  int64_t offset = 0, size = kernel->workgroup_bytes, stride = 1;
  void **args = malloc((size_t)(kernel->parameters + 9) * sizeof(void *));
  int n = 0, k;
  args[n++] = &barrier;
  args[n++] = &thread->block_x;
  args[n++] = &thread->block_y;
  args[n++] = &thread->thread_x;
  if (kernel->workgroup_bytes) {
    args[n++] = &thread->workgroup;
    args[n++] = &thread->workgroup;
    args[n++] = &offset;
    args[n++] = &size;
    args[n++] = &stride;
  }
  for (k = 0; k < kernel->parameters; ++k)
    args[n++] = thread->params[k];
  kernel->entry(args);
  free(args);
  thread->done = 1; /* back to the scheduler (uc_link) */
}

enum { kFiberStack = 512 << 10 };

/* Runs the blocks of a launch one after the other (launches one at a time),
 * each as `threads` fibers sharing a workgroup buffer. */
static CUresult run_host_kernel(const host_kernel_t *kernel, unsigned gridX,
                                unsigned gridY, unsigned threads,
                                void **params) {
  host_thread_t *fibers = calloc(threads, sizeof *fibers);
  char *stacks = malloc((size_t)threads * kFiberStack);
  char *workgroup = malloc((size_t)kernel->workgroup_bytes + 1);
  unsigned x, y, t, alive;
  pthread_mutex_lock(&launch_lock);
  for (y = 0; y < gridY; ++y)
    for (x = 0; x < gridX; ++x) {
      memset(workgroup, 0, (size_t)kernel->workgroup_bytes + 1);
      for (t = 0; t < threads; ++t) {
        host_thread_t *fiber = &fibers[t];
        fiber->kernel = kernel;
        fiber->params = params;
        fiber->block_x = x;
        fiber->block_y = y;
        fiber->thread_x = t;
        fiber->workgroup = workgroup;
        fiber->done = 0;
        getcontext(&fiber->context);
        fiber->context.uc_stack.ss_sp = stacks + (size_t)t * kFiberStack;
        fiber->context.uc_stack.ss_size = kFiberStack;
        fiber->context.uc_link = &scheduler;
        makecontext(&fiber->context, run_host_thread, 0);
      }
      do {
        alive = 0;
        for (t = 0; t < threads; ++t) {
          if (fibers[t].done)
            continue;
          running = &fibers[t];
          swapcontext(&scheduler, &fibers[t].context);
          alive += !fibers[t].done;
        }
      } while (alive);
    }
  pthread_mutex_unlock(&launch_lock);
  free(workgroup);
  free(stacks);
  free(fibers);
  return 0;
}

CUresult cuLaunchKernel(void *function, unsigned gridX, unsigned gridY,
                        unsigned gridZ, unsigned blockX, unsigned blockY,
                        unsigned blockZ, unsigned sharedBytes, void *stream,
                        void **params, void **extra) {
  int64_t index[KEOPS_RT_NUM_SCALAR_ARGS];
  int k;
  (void)function;
  (void)blockY;
  (void)blockZ;
  (void)sharedBytes;
  (void)extra;
  for (k = 0; k < KEOPS_RT_NUM_SCALAR_ARGS; ++k)
    index[k] = *(const int64_t *)params[k];
  log_line("launch device=%d grid=%u,%u,%u block=%u stream=%p rows=[%lld,%lld) "
           "cols=[%lld,%lld) mode=%lld splits=%lld split_columns=%lld "
           "slab=%lld\n",
           current_device, gridX, gridY, gridZ, blockX, stream,
           (long long)index[KEOPS_RT_ARG_ROW_BEGIN],
           (long long)index[KEOPS_RT_ARG_ROW_END],
           (long long)index[KEOPS_RT_ARG_COL_BEGIN],
           (long long)index[KEOPS_RT_ARG_COL_END],
           (long long)index[KEOPS_RT_ARG_MODE],
           (long long)index[KEOPS_RT_ARG_SPLITS],
           (long long)index[KEOPS_RT_ARG_SPLIT_COLUMNS],
           (long long)index[KEOPS_RT_ARG_SLAB]);
  if (function != (void *)1)
    return run_host_kernel(function, gridX, gridY, blockX, params);
  return 0;
}
#ifndef FAKE_CUDA_INCOMPLETE
CUresult cuStreamSynchronize(void *stream) {
  log_line("sync device=%d stream=%p\n", current_device, stream);
  return 0;
}
#endif
