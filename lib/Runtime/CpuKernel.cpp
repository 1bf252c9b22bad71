//===- CpuKernel.cpp - Checking and running CPU kernels ---------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the kernel objects of the runtime C API and
// keops_rt_kernel_run: it checks every array against the kernel's
// descriptor (with messages naming the input and what was expected), then
// hands the run to the GPU, the dense CPU schedule or the block-sparse one.
//
//===----------------------------------------------------------------------===//

#include "Kernel.h"
#include "Status.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using keops::rt::bufferOf;
using keops::rt::invalidArgument;

extern "C" size_t keops_rt_dtype_size(keops_rt_dtype_t dtype) {
  return dtype == KEOPS_RT_FLOAT16 ? 2 : dtype == KEOPS_RT_FLOAT32 ? 4 : 8;
}

extern "C" const char *keops_rt_dtype_name(keops_rt_dtype_t dtype) {
  switch (dtype) {
  case KEOPS_RT_FLOAT32:
    return "float32";
  case KEOPS_RT_FLOAT64:
    return "float64";
  case KEOPS_RT_INT64:
    return "int64";
  case KEOPS_RT_FLOAT16:
    return "float16";
  }
  return "unknown dtype";
}

namespace {

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
    return invalidArgument(what + " must be " + keops_rt_dtype_name(dtype) + ", got " +
                           keops_rt_dtype_name(array.dtype));
  if (array.cols != cols || (rows >= 0 && array.rows != rows))
    return invalidArgument(
        what + " must have shape (" +
        (rows >= 0 ? std::to_string(rows) : std::string("rows")) + ", " +
        std::to_string(cols) + "), got (" + std::to_string(array.rows) +
        ", " + std::to_string(array.cols) + ")");
  if (array.rows < 0)
    return invalidArgument(what + " has a negative number of rows");
  if (array.row_stride != 0 && array.row_stride < array.cols)
    return invalidArgument(what + " has a row stride of " +
                           std::to_string(array.row_stride) +
                           " elements, fewer than its " +
                           std::to_string(array.cols) + " columns");
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

} // namespace

keops_rt_status_t
keops::rt::makeKernel(const keops_rt_kernel_desc_t &desc,
                      std::unique_ptr<keops_rt_kernel_s> &kernel) {
  if (desc.abi_version != KEOPS_RT_KERNEL_ABI_VERSION)
    return invalidArgument(
        "the kernel was built for kernel ABI version " +
        std::to_string(desc.abi_version) + "; this runtime implements version " +
        std::to_string(KEOPS_RT_KERNEL_ABI_VERSION));
  if (desc.dtype != KEOPS_RT_FLOAT32 && desc.dtype != KEOPS_RT_FLOAT64 &&
      desc.dtype != KEOPS_RT_FLOAT16)
    return invalidArgument("kernel dtype must be float16, float32 or float64");
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
  kernel->reduction = desc.reduction ? desc.reduction : "";
  kernel->k = desc.k;
  kernel->arch = desc.arch ? desc.arch : "";
  kernel->lanes = desc.lanes;
  kernel->tileRows = desc.tile_rows;
  kernel->tileCols = desc.tile_cols;
  for (const std::string &name : kernel->inputNames)
    kernel->inputNamePointers.push_back(name.c_str());
  return nullptr;
}

extern "C" {

keops_rt_status_t keops_rt_kernel_create_cpu(
    const keops_rt_kernel_desc_t *desc, keops_rt_cpu_entry_t entry,
    void *owner, void (*release)(void *), keops_rt_kernel_t **out_kernel) {
  if (!desc || !entry || !out_kernel)
    return invalidArgument("keops_rt_kernel_create_cpu: null argument");
  if (desc->target != KEOPS_RT_TARGET_CPU)
    return invalidArgument("keops_rt_kernel_create_cpu: the descriptor's "
                           "target is not the CPU");
  if (desc->dtype == KEOPS_RT_FLOAT16)
    return invalidArgument("float16 kernels run on the GPU only");
  if (desc->lanes < 1 || desc->tile_cols < 1)
    return invalidArgument("keops_rt_kernel_create_cpu: the descriptor's "
                           "lanes and tile_cols must be >= 1, got " +
                           std::to_string(desc->lanes) + " and " +
                           std::to_string(desc->tile_cols));
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

void keops_rt_kernel_describe(const keops_rt_kernel_t *kernel,
                              keops_rt_kernel_desc_t *desc) {
  if (!kernel || !desc)
    return;
  *desc = keops_rt_kernel_desc_t{};
  desc->abi_version = KEOPS_RT_KERNEL_ABI_VERSION;
  desc->name = kernel->name.c_str();
  desc->dtype = kernel->dtype;
  desc->row_category = kernel->rowCategory;
  desc->num_inputs = static_cast<int32_t>(kernel->categories.size());
  desc->categories = kernel->categories.data();
  desc->dims = kernel->dims.data();
  desc->input_names = kernel->inputNamePointers.data();
  desc->num_outputs = static_cast<int32_t>(kernel->outputDims.size());
  desc->output_dims = kernel->outputDims.data();
  desc->output_dtypes = kernel->outputDtypes.data();
  desc->allows_empty_reduction = kernel->allowsEmptyReduction;
  desc->state_floats = kernel->stateFloats;
  desc->state_ints = kernel->stateInts;
  desc->state_dtype = kernel->stateDtype;
  desc->reduction = kernel->reduction.c_str();
  desc->k = kernel->k;
  desc->target = kernel->gpu ? KEOPS_RT_TARGET_GPU : KEOPS_RT_TARGET_CPU;
  desc->arch = kernel->arch.c_str();
  desc->lanes = kernel->lanes;
  desc->tile_rows = kernel->tileRows;
  desc->tile_cols = kernel->tileCols;
}

void keops_rt_run_args_initialize(keops_rt_run_args_t *args) {
  *args = keops_rt_run_args_t{0,       nullptr, 0,       nullptr,
                               -1,      -1,      0,       0,
                               nullptr, nullptr, 0,       nullptr,
                               KEOPS_RT_MEMORY_HOST, -1, nullptr,
                               nullptr};
}

/// Checks `args` against `kernel` (null arguments, counts, shapes, dtypes,
/// memory) and gives the output rows and the reduced columns.
static keops_rt_status_t checkRun(const keops_rt_kernel_t *kernel,
                                  const keops_rt_run_args_t *args,
                                  int64_t &rows, int64_t &cols) {
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
  rows = rowsAreI ? rowsI : rowsJ;
  cols = rowsAreI ? rowsJ : rowsI;
  for (size_t k = 0; k < kernel->outputDims.size(); ++k)
    if (keops_rt_status_t status = checkArray(
            args->outputs[k], "output " + std::to_string(k),
            kernel->outputDtypes[k], rows, kernel->outputDims[k]))
      return status;
  if (args->memory != KEOPS_RT_MEMORY_HOST && !kernel->gpu)
    return invalidArgument(kernel->name +
                           " is a CPU kernel: its arrays must be in host "
                           "memory, not on a GPU");
  if (args->stream && args->memory != KEOPS_RT_MEMORY_DEVICE)
    return invalidArgument(kernel->name +
                           ": a CUDA stream is for arrays on a GPU; host "
                           "arrays take none");
  return nullptr;
}

/// The CPU threads a run of `args` takes.
static int64_t threadsOf(const keops_rt_run_args_t &args) {
  return args.num_threads > 0 ? args.num_threads : keops::rt::availableCores();
}

keops_rt_status_t keops_rt_kernel_run(const keops_rt_kernel_t *kernel,
                                      const keops_rt_run_args_t *args) {
  int64_t rows, cols;
  if (keops_rt_status_t status = checkRun(kernel, args, rows, cols))
    return status;
  if (rows == 0)
    return nullptr;
  if (!args->row_ranges && cols == 0 && !kernel->allowsEmptyReduction)
    return invalidArgument(
        kernel->name + " reduces over " +
        categoryName(kernel->rowCategory == KEOPS_RT_CATEGORY_I
                         ? KEOPS_RT_CATEGORY_J
                         : KEOPS_RT_CATEGORY_I) +
        " but that axis has 0 rows: this reduction has no value on an empty "
        "set");
  if (kernel->gpu)
    return keops::rt::runGpu(*kernel, *args, rows, cols);
  if (!args->row_ranges)
    return keops::rt::runDense(*kernel, *args, rows, cols, threadsOf(*args));
  return keops::rt::runBlockSparse(*kernel, *args, rows, cols,
                                   threadsOf(*args));
}

/// Checks a partial run or merge of `kernel`: a CPU kernel with raw states,
/// dense, and state buffers where it has states.
static keops_rt_status_t checkPartials(const keops_rt_kernel_t *kernel,
                                       const keops_rt_run_args_t *args,
                                       const void *floats, const void *ints,
                                       int64_t &rows, int64_t &cols) {
  if (keops_rt_status_t status = checkRun(kernel, args, rows, cols))
    return status;
  if (kernel->gpu || args->row_ranges)
    return invalidArgument(kernel->name +
                           ": partial reductions run CPU kernels, dense (no "
                           "ranges)");
  if (kernel->stateFloats + kernel->stateInts == 0)
    return invalidArgument(kernel->name + " has no raw accumulator state");
  if ((kernel->stateFloats && !floats) || (kernel->stateInts && !ints))
    return invalidArgument(kernel->name + ": null state buffer (" +
                           std::to_string(kernel->stateFloats) +
                           " values and " + std::to_string(kernel->stateInts) +
                           " indices per row)");
  return nullptr;
}

keops_rt_status_t keops_rt_kernel_run_partial(const keops_rt_kernel_t *kernel,
                                              const keops_rt_run_args_t *args,
                                              int64_t col_begin,
                                              int64_t col_end, void *floats,
                                              int64_t *ints) {
  int64_t rows, cols;
  if (keops_rt_status_t status =
          checkPartials(kernel, args, floats, ints, rows, cols))
    return status;
  if (col_begin < 0 || col_end < col_begin || col_end > cols)
    return invalidArgument(kernel->name + ": the columns [" +
                           std::to_string(col_begin) + ", " +
                           std::to_string(col_end) + ") are not within [0, " +
                           std::to_string(cols) + ")");
  if (rows == 0)
    return nullptr;
  return keops::rt::runPartial(*kernel, *args, rows, threadsOf(*args),
                               col_begin, col_end, floats, ints);
}

keops_rt_status_t keops_rt_kernel_merge_partials(
    const keops_rt_kernel_t *kernel, const keops_rt_run_args_t *args,
    int32_t count, const void *floats, const int64_t *ints) {
  int64_t rows, cols;
  if (keops_rt_status_t status =
          checkPartials(kernel, args, floats, ints, rows, cols))
    return status;
  if (count < 1)
    return invalidArgument(kernel->name + ": merging " +
                           std::to_string(count) +
                           " partials (at least 1)");
  if (rows == 0)
    return nullptr;
  return keops::rt::mergePartials(*kernel, *args, rows, threadsOf(*args),
                                  count, floats, ints);
}

} // extern "C"
