//===- GpuKernel.cpp - Running GPU kernels ----------------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the GPU side of the runtime: device queries, GPU
// kernel objects (PTX loaded per device at first use) and their runs. Host
// arrays split their output rows over the devices, one host thread each:
// a device receives the reduced variables and parameters whole, and only
// its slice of the row variables and outputs. Device arrays (torch CUDA
// tensors) are used in place.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"
#include "DeviceMemory.h"
#include "Kernel.h"
#include "Status.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <thread>

using namespace keops::rt;

namespace {

keops_rt_status_t noGpu(const std::string &reason) {
  return makeStatus(KEOPS_RT_NO_GPU, reason);
}

/// The function of `kernel` on the current device `device`.
keops_rt_status_t functionOn(const CudaDriver &cuda, GpuCode &code, int device,
                             CUfunction &function) {
  std::lock_guard<std::mutex> lock(code.mutex);
  auto it = code.functions.find(device);
  if (it != code.functions.end()) {
    function = static_cast<CUfunction>(it->second);
    return nullptr;
  }
  // The cubin when the device runs it (same major, no older minor).
  bool cubin = false;
  if (code.cubinMajor) {
    int major = 0, minor = 0;
    if (keops_rt_status_t status =
            keops_rt_gpu_device_info(device, nullptr, 0, &major, &minor))
      return status;
    cubin = major == code.cubinMajor && minor >= code.cubinMinor;
  }
  CUmodule module;
  // The host kernels of the GPU emulation only load in its stand-in driver.
  bool emulated = code.ptx.rfind("keops-host-kernel ", 0) == 0;
  if (keops_rt_status_t status = cuda.check(
          cuda.cuModuleLoadData(&module, cubin ? code.cubin.data()
                                               : code.ptx.c_str()),
          std::string("loading the ") +
              (cubin ? "cubin" : emulated ? "host kernel" : "PTX") + " of " +
              code.entry + " on GPU " + std::to_string(device) +
              (emulated ? " (KEOPS_GPU_EMULATION is set: its kernels run in "
                          "the emulating driver of the tests only)"
                        : "")))
    return status;
  if (keops_rt_status_t status = cuda.check(
          cuda.cuModuleGetFunction(&function, module, code.entry.c_str()),
          "cuModuleGetFunction(" + code.entry + ")"))
    return status;
  code.functions[device] = function;
  return nullptr;
}

/// A device address shifted by `elements` of `size` bytes (negative: the
/// base of a slice that starts at a later row).
void *shifted(CUdeviceptr base, int64_t elements, size_t size) {
  return reinterpret_cast<void *>(base + static_cast<CUdeviceptr>(
                                             elements * static_cast<int64_t>(size)));
}

/// The arrays of a launch on the current device: the row strides of the
/// inputs and outputs, then the device buffers (inputs, outputs, and the
/// state and block-sparse tables).
struct DeviceArrays {
  std::vector<int64_t> strides;
  std::vector<keops_rt_buffer_t> buffers;

  /// Appends the buffers of keops_rt_kernel_buffer_t (GPU), after the
  /// inputs and outputs.
  void addKernelBuffers(keops_rt_buffer_t stateFloats,
                        keops_rt_buffer_t stateInts, keops_rt_buffer_t blocks,
                        keops_rt_buffer_t colRanges) {
    size_t first = buffers.size();
    buffers.resize(first + KEOPS_RT_NUM_GPU_BUFFERS);
    buffers[first + KEOPS_RT_BUFFER_STATE_FLOATS] = stateFloats;
    buffers[first + KEOPS_RT_BUFFER_STATE_INTS] = stateInts;
    buffers[first + KEOPS_RT_BUFFER_BLOCKS] = blocks;
    buffers[first + KEOPS_RT_BUFFER_COL_RANGES] = colRanges;
  }
};

/// The launch of one kernel mode on the current device.
struct Launch {
  int64_t rowBegin, rowEnd, cols;
  int64_t mode = 0, splits = 1, splitColumns = 0, slab = 0;
};

keops_rt_status_t launch(const CudaDriver &cuda, const keops_rt_kernel_s &kernel,
                         CUfunction function, CUstream stream,
                         const Launch &what, DeviceArrays arrays) {
  int64_t scalars[KEOPS_RT_NUM_SCALAR_ARGS] = {};
  scalars[KEOPS_RT_ARG_ROW_BEGIN] = what.rowBegin;
  scalars[KEOPS_RT_ARG_ROW_END] = what.rowEnd;
  scalars[KEOPS_RT_ARG_COL_END] = what.cols;
  scalars[KEOPS_RT_ARG_MODE] = what.mode;
  scalars[KEOPS_RT_ARG_SPLITS] = what.splits;
  scalars[KEOPS_RT_ARG_SPLIT_COLUMNS] = what.splitColumns;
  scalars[KEOPS_RT_ARG_SLAB] = what.slab;
  std::vector<void *> params;
  for (int64_t &scalar : scalars)
    params.push_back(&scalar);
  for (int64_t &stride : arrays.strides)
    params.push_back(&stride);
  for (keops_rt_buffer_t &buffer : arrays.buffers) {
    params.push_back(&buffer.allocated);
    params.push_back(&buffer.aligned);
    params.push_back(&buffer.offset);
    params.push_back(&buffer.size);
    params.push_back(&buffer.stride);
  }
  int64_t blocks = kernel.gpu->blocksFor(what.rowEnd - what.rowBegin);
  unsigned gridY =
      what.mode == KEOPS_RT_MODE_RAW ? static_cast<unsigned>(what.splits) : 1;
  return cuda.check(
      cuda.cuLaunchKernel(function, static_cast<unsigned>(blocks), gridY, 1,
                          static_cast<unsigned>(kernel.gpu->blockSize), 1, 1,
                          0, stream, params.data(), nullptr),
      "launching " + kernel.gpu->entry);
}

/// Waits for the run's work on `stream`; once done, its buffers may serve
/// later runs.
keops_rt_status_t finish(const CudaDriver &cuda,
                         const keops_rt_kernel_s &kernel, CUstream stream,
                         DeviceBuffers &memory) {
  if (keops_rt_status_t status = cuda.check(cuda.cuStreamSynchronize(stream),
                                            "running " + kernel.gpu->entry))
    return status;
  memory.finished();
  return nullptr;
}

/// Reduces rows [rowBegin, rowEnd) over [0, cols) on the current device
/// `device`, on `stream`; `arrays` holds the device addresses (inputs, then
/// outputs), each one valid at the absolute row indices the kernel uses.
/// When the rows fill few blocks, the columns are split over a second grid
/// dimension (raw states, then a merge).
keops_rt_status_t reduceOnDevice(const CudaDriver &cuda,
                                 const keops_rt_kernel_s &kernel, int device,
                                 CUstream stream, int64_t rowBegin,
                                 int64_t rowEnd, int64_t cols,
                                 DeviceArrays arrays) {
  CUfunction function;
  if (keops_rt_status_t status =
          functionOn(cuda, *kernel.gpu, device, function))
    return status;
  CUdevice handle;
  int processors = 0;
  if (keops_rt_status_t status = cuda.device(device, handle))
    return status;
  if (keops_rt_status_t status = cuda.check(
          cuda.cuDeviceGetAttribute(&processors, kMultiprocessorCount, handle),
          "cuDeviceGetAttribute"))
    return status;
  int64_t rows = rowEnd - rowBegin;
  int64_t rowBlocks = kernel.gpu->blocksFor(rows);
  int64_t splits = 1;
  // About 4 blocks per multiprocessor, each split keeping at least one tile
  // of columns (blocks of several rows per thread are few: a split of fewer
  // tiles keeps the device busy at mid sizes, N = M = 1e4).
  if (kernel.stateFloats + kernel.stateInts > 0 && rowBlocks < 2 * processors)
    splits = std::max<int64_t>(
        1, std::min((4 * processors + rowBlocks - 1) / rowBlocks,
                    cols / kernel.gpu->blockSize));
  DeviceBuffers memory(cuda, device);
  keops_rt_buffer_t floats = bufferOf(nullptr, 0), ints = bufferOf(nullptr, 0);
  if (splits > 1) {
    size_t floatSize = keops_rt_dtype_size(kernel.stateDtype);
    CUdeviceptr f, i;
    if (keops_rt_status_t status =
            memory.allocate(splits * rows * kernel.stateFloats * floatSize, f))
      return status;
    if (keops_rt_status_t status =
            memory.allocate(splits * rows * kernel.stateInts * 8, i))
      return status;
    // Slot split * rows + row, the rows counted from rowBegin.
    void *fBase = shifted(f, -rowBegin * kernel.stateFloats, floatSize);
    void *iBase = shifted(i, -rowBegin * kernel.stateInts, 8);
    floats = {fBase, fBase, 0, splits * rows * kernel.stateFloats, 1};
    ints = {iBase, iBase, 0, splits * rows * kernel.stateInts, 1};
  }
  // No block-sparse tables.
  arrays.addKernelBuffers(floats, ints, bufferOf(nullptr, 0),
                          bufferOf(nullptr, 0));
  if (splits == 1) {
    if (keops_rt_status_t status = launch(cuda, kernel, function, stream,
                                          {rowBegin, rowEnd, cols}, arrays))
      return status;
  } else {
    int64_t splitColumns = (cols + splits - 1) / splits;
    Launch raw{rowBegin, rowEnd, cols, KEOPS_RT_MODE_RAW, splits, splitColumns,
               rows};
    Launch merge{rowBegin, rowEnd, cols, KEOPS_RT_MODE_MERGE, splits,
                 splitColumns, rows};
    if (keops_rt_status_t status =
            launch(cuda, kernel, function, stream, raw, arrays))
      return status;
    if (keops_rt_status_t status =
            launch(cuda, kernel, function, stream, merge, arrays))
      return status;
  }
  return finish(cuda, kernel, stream, memory);
}

/// A block-sparse reduction of every row on the current device `device`,
/// on `stream`: one block per run of at most rowsPerBlock rows of a cluster,
/// which walks the cluster's column ranges (mode 4, the tables in device
/// memory).
keops_rt_status_t reduceRangesOnDevice(const CudaDriver &cuda,
                                       const keops_rt_kernel_s &kernel,
                                       int device, CUstream stream,
                                       const keops_rt_run_args_t &args,
                                       const std::vector<Cluster> &clusters,
                                       int64_t cols,
                                       DeviceArrays arrays) {
  CUfunction function;
  if (keops_rt_status_t status =
          functionOn(cuda, *kernel.gpu, device, function))
    return status;
  int64_t rowsPerBlock = kernel.gpu->rowsPerBlock();
  std::vector<int64_t> blocks;
  for (const Cluster &cluster : clusters)
    for (int64_t begin = cluster.rowBegin; begin < cluster.rowEnd;
         begin += rowsPerBlock)
      blocks.insert(blocks.end(),
                    {begin, std::min(cluster.rowEnd, begin + rowsPerBlock),
                     cluster.first, cluster.last});
  if (blocks.empty())
    return nullptr;
  DeviceBuffers memory(cuda, device);
  CUdeviceptr table, ranges;
  size_t tableBytes = blocks.size() * 8,
         rangeBytes = static_cast<size_t>(args.num_col_ranges) * 16;
  if (keops_rt_status_t status = memory.allocate(tableBytes, table))
    return status;
  if (keops_rt_status_t status = memory.allocate(rangeBytes, ranges))
    return status;
  if (keops_rt_status_t status = cuda.check(
          cuda.cuMemcpyHtoD(table, blocks.data(), tableBytes),
          "copying the block-sparse tables to the GPU"))
    return status;
  if (rangeBytes)
    if (keops_rt_status_t status = cuda.check(
            cuda.cuMemcpyHtoD(ranges, args.col_ranges, rangeBytes),
            "copying the block-sparse tables to the GPU"))
      return status;
  // No raw states.
  arrays.addKernelBuffers(
      bufferOf(nullptr, 0), bufferOf(nullptr, 0),
      bufferOf(reinterpret_cast<void *>(table),
               static_cast<int64_t>(blocks.size())),
      bufferOf(reinterpret_cast<void *>(ranges), 2 * args.num_col_ranges));
  // One block per table row: rows below are the launch's grid only.
  int64_t numBlocks = static_cast<int64_t>(blocks.size() / 4);
  Launch sparse{0, numBlocks * rowsPerBlock, cols, KEOPS_RT_MODE_RANGES};
  if (keops_rt_status_t status =
          launch(cuda, kernel, function, stream, sparse, arrays))
    return status;
  return finish(cuda, kernel, stream, memory);
}

/// Rows [rowBegin, rowEnd) of host arrays on `device` (every row over the
/// ranges of `clusters` when given).
keops_rt_status_t runHostSlice(const CudaDriver &cuda,
                               const keops_rt_kernel_s &kernel,
                               const keops_rt_run_args_t &args, int device,
                               int64_t rowBegin, int64_t rowEnd, int64_t cols,
                               const std::vector<Cluster> *clusters = nullptr) {
  if (keops_rt_status_t status = cuda.useDevice(device))
    return status;
  DeviceBuffers memory(cuda, device);
  DeviceArrays arrays;
  size_t size = keops_rt_dtype_size(kernel.dtype);
  for (size_t k = 0; k < kernel.categories.size(); ++k) {
    const keops_rt_array_t &array = args.inputs[k];
    int64_t stride = rowStride(array);
    bool sliced = kernel.categories[k] == kernel.rowCategory;
    int64_t firstRow = sliced ? rowBegin : 0;
    int64_t rows = sliced ? rowEnd - rowBegin : array.rows;
    // Up to the end of the last row (the gaps between rows go too).
    int64_t count = rows ? (rows - 1) * stride + array.cols : 0;
    CUdeviceptr p;
    if (keops_rt_status_t status = memory.allocate(count * size, p))
      return status;
    if (keops_rt_status_t status = cuda.check(
            cuda.cuMemcpyHtoD(p, static_cast<const char *>(array.data) +
                                     firstRow * stride * size,
                              count * size),
            "copying an input to the GPU"))
      return status;
    void *base = shifted(p, -firstRow * stride, size);
    arrays.strides.push_back(stride);
    arrays.buffers.push_back({base, base, 0, (firstRow + rows) * stride, 1});
  }
  std::vector<std::pair<CUdeviceptr, size_t>> outputs;
  for (size_t k = 0; k < kernel.outputDims.size(); ++k) {
    size_t outSize = keops_rt_dtype_size(kernel.outputDtypes[k]);
    int64_t dim = kernel.outputDims[k];
    CUdeviceptr p;
    if (keops_rt_status_t status =
            memory.allocate((rowEnd - rowBegin) * dim * outSize, p))
      return status;
    void *base = shifted(p, -rowBegin * dim, outSize);
    arrays.strides.push_back(dim);
    arrays.buffers.push_back({base, base, 0, args.outputs[k].rows * dim, 1});
    outputs.push_back({p, outSize});
  }
  if (keops_rt_status_t status =
          clusters ? reduceRangesOnDevice(cuda, kernel, device, nullptr, args,
                                          *clusters, cols, arrays)
                   : reduceOnDevice(cuda, kernel, device, nullptr, rowBegin,
                                    rowEnd, cols, arrays))
    return status;
  // The outputs come back contiguous, then go to their rows.
  for (size_t k = 0; k < outputs.size(); ++k) {
    int64_t dim = kernel.outputDims[k], stride = rowStride(args.outputs[k]);
    auto [p, outSize] = outputs[k];
    char *to = static_cast<char *>(args.outputs[k].data) +
               rowBegin * stride * outSize;
    std::vector<char> rows;
    if (stride != dim)
      rows.resize((rowEnd - rowBegin) * dim * outSize);
    if (keops_rt_status_t status = cuda.check(
            cuda.cuMemcpyDtoH(stride == dim ? to : rows.data(), p,
                              (rowEnd - rowBegin) * dim * outSize),
            "copying an output from the GPU"))
      return status;
    for (int64_t r = 0; stride != dim && r < rowEnd - rowBegin; ++r)
      std::memcpy(to + r * stride * outSize, rows.data() + r * dim * outSize,
                  dim * outSize);
  }
  memory.finished(); // the copies back waited for the kernels
  return nullptr;
}

/// The rows of host arrays that one device reduces: [rowBegin, rowEnd), and,
/// block-sparse, the clusters (or parts of clusters) that cover them.
struct HostSlice {
  int64_t rowBegin = 0, rowEnd = 0;
  std::vector<Cluster> clusters;
};

/// `rows` dense rows in `count` equal slices.
std::vector<HostSlice> denseSlices(int64_t rows, size_t count) {
  int64_t parts = static_cast<int64_t>(count);
  int64_t share = (rows + parts - 1) / parts;
  std::vector<HostSlice> slices(count);
  for (size_t n = 0; n < count; ++n) {
    slices[n].rowBegin = std::min<int64_t>(rows, n * share);
    slices[n].rowEnd = std::min<int64_t>(rows, slices[n].rowBegin + share);
  }
  return slices;
}

/// The clusters of a block-sparse run in `count` slices of consecutive rows
/// with about the same number of pairs each (a row without column ranges
/// counts as one pair); a cluster cut between two slices keeps its column
/// ranges in both.
std::vector<HostSlice> sparseSlices(std::vector<Cluster> clusters,
                                    const int64_t *colRanges, size_t count) {
  std::sort(clusters.begin(), clusters.end(),
            [](const Cluster &a, const Cluster &b) {
              return a.rowBegin < b.rowBegin;
            });
  auto pairsPerRow = [&](const Cluster &cluster) {
    int64_t columns = 0;
    for (int64_t r = cluster.first; r < cluster.last; ++r)
      columns += colRanges[2 * r + 1] - colRanges[2 * r];
    return std::max<int64_t>(1, columns);
  };
  int64_t total = 0;
  for (const Cluster &cluster : clusters)
    total += (cluster.rowEnd - cluster.rowBegin) * pairsPerRow(cluster);
  // The pairs of slices [0, n].
  int64_t parts = static_cast<int64_t>(count);
  auto quota = [&](size_t n) -> int64_t {
    return (total * static_cast<int64_t>(n + 1) + parts - 1) / parts;
  };
  std::vector<HostSlice> slices(count);
  size_t n = 0;
  int64_t done = 0;
  for (const Cluster &cluster : clusters) {
    int64_t weight = pairsPerRow(cluster);
    for (int64_t begin = cluster.rowBegin; begin < cluster.rowEnd;) {
      while (n + 1 < count && done >= quota(n))
        ++n;
      int64_t take = cluster.rowEnd - begin;
      if (n + 1 < count)
        take = std::min(take, (quota(n) - done + weight - 1) / weight);
      HostSlice &slice = slices[n];
      if (slice.clusters.empty())
        slice.rowBegin = begin;
      slice.rowEnd = begin + take;
      slice.clusters.push_back({begin, begin + take, cluster.first,
                                cluster.last});
      done += take * weight;
      begin += take;
    }
  }
  return slices;
}

/// The devices that a run on host arrays of `rows` output rows uses:
/// args.device_id, else every GPU that gets at least 16 blocks of rows.
keops_rt_status_t hostDevices(const CudaDriver &cuda,
                              const keops_rt_kernel_s &kernel,
                              const keops_rt_run_args_t &args, int64_t rows,
                              std::vector<int> &devices) {
  if (args.device_id >= 0) {
    devices.push_back(args.device_id);
    return nullptr;
  }
  int count = 0;
  if (keops_rt_status_t status =
          cuda.check(cuda.cuDeviceGetCount(&count), "cuDeviceGetCount"))
    return status;
  int64_t useful =
      std::max<int64_t>(1, rows / (kernel.gpu->rowsPerBlock() * 16));
  for (int d = 0; d < std::min<int64_t>(count, useful); ++d)
    devices.push_back(d);
  return nullptr;
}

} // namespace

keops_rt_status_t keops::rt::runGpu(const keops_rt_kernel_s &kernel,
                                    const keops_rt_run_args_t &args,
                                    int64_t rows, int64_t cols) {
  std::string reason;
  const CudaDriver *cuda = CudaDriver::get(reason);
  if (!cuda)
    return noGpu(reason);

  std::vector<Cluster> clusters;
  if (args.row_ranges)
    if (keops_rt_status_t status = makeClusters(args, rows, cols, clusters))
      return status;
  if (args.memory == KEOPS_RT_MEMORY_DEVICE) {
    int device = args.device_id >= 0 ? args.device_id : 0;
    if (keops_rt_status_t status = cuda->useDevice(device))
      return status;
    DeviceArrays arrays;
    for (int32_t k = 0; k < args.num_inputs + args.num_outputs; ++k) {
      const keops_rt_array_t &array =
          k < args.num_inputs ? args.inputs[k]
                              : args.outputs[k - args.num_inputs];
      arrays.strides.push_back(rowStride(array));
      arrays.buffers.push_back(arrayBuffer(array));
    }
    auto stream = static_cast<CUstream>(args.stream);
    if (args.row_ranges)
      return reduceRangesOnDevice(*cuda, kernel, device, stream, args, clusters,
                                  cols, arrays);
    return reduceOnDevice(*cuda, kernel, device, stream, 0, rows, cols, arrays);
  }

  // Host arrays: a slice of the rows per device, one host thread each.
  std::vector<int> devices;
  if (keops_rt_status_t status =
          hostDevices(*cuda, kernel, args, rows, devices))
    return status;
  std::vector<HostSlice> slices =
      args.row_ranges
          ? sparseSlices(std::move(clusters), args.col_ranges, devices.size())
          : denseSlices(rows, devices.size());
  std::vector<keops_rt_status_t> statuses(devices.size(), nullptr);
  auto runSlice = [&](size_t n) {
    const HostSlice &slice = slices[n];
    if (slice.rowBegin < slice.rowEnd)
      statuses[n] = runHostSlice(*cuda, kernel, args, devices[n],
                                 slice.rowBegin, slice.rowEnd, cols,
                                 args.row_ranges ? &slice.clusters : nullptr);
  };
  if (devices.size() == 1) {
    runSlice(0);
  } else {
    std::vector<std::thread> threads;
    for (size_t n = 0; n < devices.size(); ++n)
      threads.emplace_back(runSlice, n);
    for (std::thread &thread : threads)
      thread.join();
  }
  keops_rt_status_t first = nullptr;
  for (keops_rt_status_t status : statuses) {
    if (!first)
      first = status;
    else if (status)
      keops_rt_status_free(status);
  }
  return first;
}

/// XY of an architecture named sm_XY, or 0 for anything else.
static int smArch(const char *name) {
  int arch = 0;
  return name && std::sscanf(name, "sm_%d", &arch) == 1 && arch >= 10 ? arch
                                                                      : 0;
}

extern "C" {

keops_rt_status_t keops_rt_kernel_create_gpu(const keops_rt_kernel_desc_t *desc,
                                             const keops_rt_gpu_code_t *code,
                                             keops_rt_kernel_t **out_kernel) {
  if (!desc || !code || !code->ptx || !code->entry || !out_kernel)
    return invalidArgument("keops_rt_kernel_create_gpu: null argument");
  if (desc->target != KEOPS_RT_TARGET_GPU)
    return invalidArgument("keops_rt_kernel_create_gpu: the descriptor's "
                           "target is not the GPU");
  bool hasCubin = code->cubin && code->cubin_size;
  int cubinArch = hasCubin ? smArch(code->cubin_arch) : 0;
  if (hasCubin && !cubinArch)
    return invalidArgument("GPU code: a cubin needs its architecture as "
                           "sm_XY, got '" +
                           std::string(code->cubin_arch ? code->cubin_arch
                                                        : "(null)") +
                           "'");
  if (code->block_size < 1 || code->block_size > 1024)
    return invalidArgument("GPU block size must be in [1, 1024], got " +
                           std::to_string(code->block_size));
  if (code->rows_per_thread < 0 || code->rows_per_thread > 64)
    return invalidArgument("GPU rows per thread must be in [0, 64], got " +
                           std::to_string(code->rows_per_thread));
  std::string reason;
  if (!CudaDriver::get(reason))
    return noGpu(reason);
  std::unique_ptr<keops_rt_kernel_s> kernel;
  if (keops_rt_status_t status = makeKernel(*desc, kernel))
    return status;
  kernel->gpu = std::make_unique<GpuCode>();
  kernel->gpu->ptx = code->ptx;
  kernel->gpu->entry = code->entry;
  kernel->gpu->blockSize = code->block_size;
  kernel->gpu->rowsPerThread = std::max(1, code->rows_per_thread);
  if (cubinArch) {
    kernel->gpu->cubin.assign(static_cast<const char *>(code->cubin),
                              code->cubin_size);
    kernel->gpu->cubinMajor = cubinArch / 10;
    kernel->gpu->cubinMinor = cubinArch % 10;
  }
  *out_kernel = kernel.release();
  return nullptr;
}

keops_rt_status_t keops_rt_kernel_create_gpu_variants(
    int32_t count, const keops_rt_kernel_desc_t *descs,
    const keops_rt_gpu_code_t *codes, keops_rt_kernel_t **out_kernel) {
  if (count < 1 || !descs || !codes || !out_kernel)
    return invalidArgument(
        "keops_rt_kernel_create_gpu_variants: no variants or a null argument");
  int32_t devices = 0;
  if (keops_rt_status_t status = keops_rt_gpu_device_count(&devices))
    return status;
  if (devices < 1)
    return noGpu("the CUDA driver sees no device");
  int32_t major = 0, minor = 0;
  if (keops_rt_status_t status =
          keops_rt_gpu_device_info(0, nullptr, 0, &major, &minor))
    return status;
  int best = -1, bestArch = 0;
  std::string archs;
  for (int32_t v = 0; v < count; ++v) {
    const char *name = descs[v].arch ? descs[v].arch : "";
    int arch = smArch(name);
    if (!arch)
      return invalidArgument("keops_rt_kernel_create_gpu_variants: a GPU "
                             "variant's arch must be sm_XY, got '" +
                             std::string(name) + "'");
    archs += (v ? ", " : "") + std::string(name);
    if (arch <= major * 10 + minor && arch > bestArch) {
      best = v;
      bestArch = arch;
    }
  }
  if (best < 0)
    return invalidArgument(
        "kernel '" + std::string(descs[0].name ? descs[0].name : "kernel") +
        "' was compiled for " + archs + ", newer than GPU 0 (sm_" +
        std::to_string(major * 10 + minor) + ")");
  return keops_rt_kernel_create_gpu(&descs[best], &codes[best], out_kernel);
}

keops_rt_status_t keops_rt_gpu_release_memory(void) {
  std::string reason;
  const CudaDriver *cuda = CudaDriver::get(reason);
  if (!cuda)
    return noGpu(reason);
  return releaseCachedBuffers(*cuda);
}

keops_rt_status_t keops_rt_gpu_device_count(int32_t *count) {
  if (!count)
    return invalidArgument("keops_rt_gpu_device_count: null argument");
  *count = 0;
  std::string reason;
  const CudaDriver *cuda = CudaDriver::get(reason);
  if (!cuda)
    return noGpu(reason);
  int n = 0;
  if (keops_rt_status_t status =
          cuda->check(cuda->cuDeviceGetCount(&n), "cuDeviceGetCount"))
    return status;
  *count = n;
  return nullptr;
}

keops_rt_status_t keops_rt_gpu_device_info(int32_t device, char *name,
                                           int32_t nameSize, int32_t *major,
                                           int32_t *minor) {
  std::string reason;
  const CudaDriver *cuda = CudaDriver::get(reason);
  if (!cuda)
    return noGpu(reason);
  CUdevice handle;
  if (keops_rt_status_t status = cuda->device(device, handle))
    return status;
  if (name && nameSize > 0)
    if (keops_rt_status_t status = cuda->check(
            cuda->cuDeviceGetName(name, nameSize, handle), "cuDeviceGetName"))
      return status;
  int value = 0;
  if (major) {
    if (keops_rt_status_t status = cuda->check(
            cuda->cuDeviceGetAttribute(&value, kComputeCapabilityMajor, handle),
            "cuDeviceGetAttribute"))
      return status;
    *major = value;
  }
  if (minor) {
    if (keops_rt_status_t status = cuda->check(
            cuda->cuDeviceGetAttribute(&value, kComputeCapabilityMinor, handle),
            "cuDeviceGetAttribute"))
      return status;
    *minor = value;
  }
  return nullptr;
}

} // extern "C"
