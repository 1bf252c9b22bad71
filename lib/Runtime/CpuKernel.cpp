//===- CpuKernel.cpp - Checking and running CPU kernels ---------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the kernel objects of the runtime C API and
// keops_rt_kernel_run on the CPU: it checks every array against the kernel's
// descriptor (with messages naming the input and what was expected),
// transposes the reduced variables to the component-major layout of the
// kernel ABI, and splits the output rows over threads.
//
//===----------------------------------------------------------------------===//

#include "Kernel.h"
#include "Status.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using keops::rt::bufferOf;
using keops::rt::dtypeSize;
using keops::rt::invalidArgument;

namespace {

const char *dtypeName(keops_rt_dtype_t dtype) {
  switch (dtype) {
  case KEOPS_RT_FLOAT32:
    return "float32";
  case KEOPS_RT_FLOAT64:
    return "float64";
  case KEOPS_RT_INT64:
    return "int64";
  }
  return "unknown dtype";
}

const char *categoryName(keops_rt_category_t category) {
  return category == KEOPS_RT_CATEGORY_I   ? "i"
         : category == KEOPS_RT_CATEGORY_J ? "j"
                                           : "param";
}

std::string describeInput(const keops_rt_kernel_s &kernel, size_t k) {
  std::string text = "input " + std::to_string(k);
  if (!kernel.inputNames[k].empty())
    text += " ('" + kernel.inputNames[k] + "')";
  return text;
}

/// Checks one array's pointer, dtype and shape.
keops_rt_status_t checkArray(const keops_rt_array_t &array,
                             const std::string &what,
                             keops_rt_dtype_t dtype, int64_t rows,
                             int64_t cols) {
  if (array.dtype != dtype)
    return invalidArgument(what + " must be " + dtypeName(dtype) + ", got " +
                           dtypeName(array.dtype));
  if (array.cols != cols || (rows >= 0 && array.rows != rows))
    return invalidArgument(
        what + " must have shape (" +
        (rows >= 0 ? std::to_string(rows) : std::string("rows")) + ", " +
        std::to_string(cols) + "), got (" + std::to_string(array.rows) +
        ", " + std::to_string(array.cols) + ")");
  if (array.rows < 0)
    return invalidArgument(what + " has a negative number of rows");
  if (!array.data && array.rows * array.cols > 0)
    return invalidArgument(what + " has a null data pointer");
  return nullptr;
}

/// Rows of the variables of `category` (all must agree), or `fallback`.
keops_rt_status_t axisRows(const keops_rt_kernel_s &kernel,
                           const keops_rt_run_args_t &args,
                           keops_rt_category_t category, int64_t requested,
                           int64_t &rows) {
  rows = requested;
  int64_t source = -1;
  for (size_t k = 0; k < kernel.categories.size(); ++k) {
    if (kernel.categories[k] != category)
      continue;
    int64_t inputRows = args.inputs[k].rows;
    if (rows < 0) {
      rows = inputRows;
      source = static_cast<int64_t>(k);
    } else if (inputRows != rows) {
      return invalidArgument(
          describeInput(kernel, k) + " has " + std::to_string(inputRows) +
          " rows but " +
          (source >= 0 ? describeInput(kernel, source) + ", also indexed by " +
                             categoryName(category) + ", has "
                       : std::string("the ") + categoryName(category) +
                             " axis has ") +
          std::to_string(rows));
    }
  }
  if (rows < 0)
    rows = 1;
  return nullptr;
}

/// Copies rows [begin, end) of a row-major (rows x dim) array into
/// component-major (dim x rows).
template <typename T>
void transpose(const T *in, int64_t rows, int64_t dim, int64_t begin,
               int64_t end, T *out) {
  for (int64_t r = begin; r < end; ++r)
    for (int64_t d = 0; d < dim; ++d)
      out[d * rows + r] = in[r * dim + d];
}

} // namespace

keops_rt_status_t
keops::rt::makeKernel(const keops_rt_kernel_desc_t &desc,
                      std::unique_ptr<keops_rt_kernel_s> &kernel) {
  if (desc.dtype != KEOPS_RT_FLOAT32 && desc.dtype != KEOPS_RT_FLOAT64)
    return invalidArgument("kernel dtype must be float32 or float64");
  kernel = std::make_unique<keops_rt_kernel_s>();
  kernel->name = desc.name ? desc.name : "kernel";
  kernel->dtype = desc.dtype;
  kernel->rowCategory = desc.row_category;
  kernel->categories.assign(desc.categories,
                            desc.categories + desc.num_inputs);
  kernel->dims.assign(desc.dims, desc.dims + desc.num_inputs);
  for (int32_t k = 0; k < desc.num_inputs; ++k)
    kernel->inputNames.push_back(
        desc.input_names && desc.input_names[k] ? desc.input_names[k] : "");
  kernel->outputDims.assign(desc.output_dims,
                            desc.output_dims + desc.num_outputs);
  kernel->outputDtypes.assign(desc.output_dtypes,
                              desc.output_dtypes + desc.num_outputs);
  kernel->allowsEmptyReduction = desc.allows_empty_reduction != 0;
  if (desc.state_floats < 0 || desc.state_ints < 0 ||
      (desc.state_floats && desc.state_dtype != KEOPS_RT_FLOAT32 &&
       desc.state_dtype != KEOPS_RT_FLOAT64))
    return invalidArgument("kernel state: counts must be >= 0 and the float "
                           "values float32 or float64");
  kernel->stateFloats = desc.state_floats;
  kernel->stateInts = desc.state_ints;
  kernel->stateDtype = desc.state_dtype;
  return nullptr;
}

extern "C" {

keops_rt_status_t keops_rt_kernel_create_cpu(
    const keops_rt_kernel_desc_t *desc, keops_rt_cpu_entry_t entry,
    void *owner, void (*release)(void *), keops_rt_kernel_t **out_kernel) {
  if (!desc || !entry || !out_kernel)
    return invalidArgument("keops_rt_kernel_create_cpu: null argument");
  std::unique_ptr<keops_rt_kernel_s> kernel;
  if (keops_rt_status_t status = keops::rt::makeKernel(*desc, kernel))
    return status;
  kernel->entry = entry;
  kernel->owner = owner;
  kernel->release = release;
  *out_kernel = kernel.release();
  return nullptr;
}

void keops_rt_kernel_destroy(keops_rt_kernel_t *kernel) { delete kernel; }

void keops_rt_run_args_initialize(keops_rt_run_args_t *args) {
  *args = keops_rt_run_args_t{0,       nullptr, 0,       nullptr,
                               -1,      -1,      0,       0,
                               nullptr, nullptr, 0,       nullptr,
                               KEOPS_RT_MEMORY_HOST, -1};
}

keops_rt_status_t keops_rt_kernel_run(const keops_rt_kernel_t *kernel,
                                      const keops_rt_run_args_t *args) {
  if (!kernel || !args)
    return invalidArgument("keops_rt_kernel_run: null argument");
  size_t numInputs = kernel->categories.size();
  if (static_cast<size_t>(args->num_inputs) != numInputs ||
      (numInputs && !args->inputs))
    return invalidArgument(kernel->name + " takes " +
                           std::to_string(numInputs) + " inputs, got " +
                           std::to_string(args->num_inputs));
  if (static_cast<size_t>(args->num_outputs) != kernel->outputDims.size() ||
      !args->outputs)
    return invalidArgument(kernel->name + " has " +
                           std::to_string(kernel->outputDims.size()) +
                           " outputs, got " +
                           std::to_string(args->num_outputs));

  // Shapes of the inputs, then the sizes of both axes.
  for (size_t k = 0; k < numInputs; ++k) {
    bool isParam = kernel->categories[k] == KEOPS_RT_CATEGORY_PARAM;
    std::string what = describeInput(*kernel, k) + " (category " +
                       categoryName(kernel->categories[k]) + ")";
    if (keops_rt_status_t status =
            checkArray(args->inputs[k], what, kernel->dtype, isParam ? 1 : -1,
                       kernel->dims[k]))
      return status;
  }
  int64_t rowsI, rowsJ;
  if (keops_rt_status_t status = axisRows(*kernel, *args, KEOPS_RT_CATEGORY_I,
                                          args->rows_i, rowsI))
    return status;
  if (keops_rt_status_t status = axisRows(*kernel, *args, KEOPS_RT_CATEGORY_J,
                                          args->rows_j, rowsJ))
    return status;
  bool rowsAreI = kernel->rowCategory == KEOPS_RT_CATEGORY_I;
  int64_t rows = rowsAreI ? rowsI : rowsJ;
  int64_t cols = rowsAreI ? rowsJ : rowsI;
  keops_rt_category_t colCategory =
      rowsAreI ? KEOPS_RT_CATEGORY_J : KEOPS_RT_CATEGORY_I;
  for (size_t k = 0; k < kernel->outputDims.size(); ++k)
    if (keops_rt_status_t status = checkArray(
            args->outputs[k], "output " + std::to_string(k),
            kernel->outputDtypes[k], rows, kernel->outputDims[k]))
      return status;
  if (args->memory != KEOPS_RT_MEMORY_HOST && !kernel->gpu)
    return invalidArgument(kernel->name +
                           " is a CPU kernel: its arrays must be in host "
                           "memory, not on a GPU");
  if (rows == 0)
    return nullptr;
  if (!args->row_ranges && cols == 0 && !kernel->allowsEmptyReduction)
    return invalidArgument(kernel->name + " reduces over " +
                           categoryName(colCategory) +
                           " but that axis has 0 rows: this reduction has no "
                           "value on an empty set");
  if (kernel->gpu) {
    if (args->row_ranges)
      return invalidArgument(kernel->name + ": block-sparse ranges are not "
                                            "supported on the GPU yet");
    return keops::rt::runGpu(*kernel, *args, rows, cols);
  }
  int64_t threads = args->num_threads > 0
                        ? args->num_threads
                        : std::max(1u, std::thread::hardware_concurrency());
  std::vector<keops_rt_buffer_t> buffers;
  for (size_t k = 0; k < numInputs; ++k)
    buffers.push_back(bufferOf(args->inputs[k].data,
                               args->inputs[k].rows * args->inputs[k].cols));
  for (size_t k = 0; k < kernel->outputDims.size(); ++k)
    buffers.push_back(bufferOf(args->outputs[k].data,
                               args->outputs[k].rows * args->outputs[k].cols));

  // Reduced variables go component-major, in chunks of columns on all
  // threads; the rest is passed as is.
  size_t elementSize = dtypeSize(kernel->dtype);
  std::vector<std::unique_ptr<char[]>> scratch(numInputs);
  for (size_t k = 0; k < numInputs; ++k) {
    if (kernel->categories[k] != colCategory)
      continue;
    const keops_rt_array_t &array = args->inputs[k];
    scratch[k].reset(
        new char[std::max<int64_t>(array.rows * array.cols, 1) * elementSize]);
    buffers[k].allocated = buffers[k].aligned = scratch[k].get();
  }
  constexpr int64_t kTransposeChunk = 1 << 14;
  int64_t chunks = (cols + kTransposeChunk - 1) / kTransposeChunk;
  keops::rt::parallelFor(
      std::min(threads, chunks), chunks, [&](int64_t chunk, int64_t) {
        int64_t begin = chunk * kTransposeChunk;
        int64_t end = std::min(cols, begin + kTransposeChunk);
        for (size_t k = 0; k < numInputs; ++k) {
          if (!scratch[k])
            continue;
          int64_t dim = args->inputs[k].cols;
          if (kernel->dtype == KEOPS_RT_FLOAT32)
            transpose(static_cast<const float *>(args->inputs[k].data), cols,
                      dim, begin, end,
                      reinterpret_cast<float *>(scratch[k].get()));
          else
            transpose(static_cast<const double *>(args->inputs[k].data), cols,
                      dim, begin, end,
                      reinterpret_cast<double *>(scratch[k].get()));
        }
      });
  if (args->row_ranges)
    return keops::rt::runBlockSparse(*kernel, *args, rows, cols, threads,
                                     buffers);

  // Threads take work items in order: blocks of rows, or, when the rows
  // alone cannot keep every thread busy, column splits of blocks of rows
  // (few enough that the split's columns stay in cache while its rows
  // reduce them), whose raw states are merged afterwards. A thread costs
  // about as much to wake as reducing kPairsPerThread pairs, so small
  // problems use fewer.
  constexpr int64_t kPairsPerThread = 1 << 15;
  constexpr int64_t kItemsPerThread = 8;
  constexpr int64_t kMinSplitColumns = 4096;
  constexpr int64_t kSplitColumns = 1 << 15;
  constexpr int64_t kSplitRows = 64;
  threads = std::min(threads, std::max<int64_t>(1, rows * std::max<int64_t>(
                                                              cols, 1) /
                                                       kPairsPerThread));
  int64_t block = std::max<int64_t>(1, rows / (threads * kItemsPerThread));
  int64_t splits = 1;
  if (kernel->stateFloats + kernel->stateInts > 0 && threads > 1 &&
      rows < threads * kItemsPerThread && cols >= 2 * kMinSplitColumns) {
    block = std::min(rows, kSplitRows);
    int64_t rowBlocks = (rows + block - 1) / block;
    splits = std::min(
        std::max((threads * kItemsPerThread + rowBlocks - 1) / rowBlocks,
                 (cols + kSplitColumns - 1) / kSplitColumns),
        cols / kMinSplitColumns);
  } else {
    threads = std::min(threads, rows);
  }
  int64_t rowBlocks = (rows + block - 1) / block;
  int64_t splitColumns = (cols + splits - 1) / splits;

  std::optional<keops::rt::StateBuffers> states;
  if (splits > 1)
    states.emplace(*kernel, splits * rows);
  std::vector<std::unique_ptr<keops::rt::KernelCall>> calls;
  for (int64_t t = 0; t < threads; ++t) {
    calls.push_back(std::make_unique<keops::rt::KernelCall>(*kernel, buffers));
    if (states)
      calls.back()->useStates(*states);
  }
  keops::rt::parallelFor(
      threads, rowBlocks * splits, [&](int64_t item, int64_t thread) {
        int64_t begin = (item / splits) * block, split = item % splits;
        int64_t end = std::min(rows, begin + block);
        if (splits == 1) {
          (*calls[thread])(begin, end, 0, cols, cols);
          return;
        }
        int64_t colBegin = std::min(cols, split * splitColumns);
        (*calls[thread])(begin, end, colBegin,
                         std::min(cols, colBegin + splitColumns), cols,
                         keops::rt::KernelMode::Raw, split, rows);
      });
  if (splits > 1)
    keops::rt::parallelFor(threads, rowBlocks, [&](int64_t item, int64_t thread) {
      int64_t begin = item * block;
      calls[thread]->merge(begin, std::min(rows, begin + block), splits, rows);
    });
  return nullptr;
}

} // extern "C"
