//===- MlirCalls.cpp - Reductions called from compiled modules --*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the keops_rt_mlir_* calls that modules lowered by
// keops-lower-to-llvm make: a kernel per descriptor, created once and kept
// for the process; the arrays read from MLIR memref descriptors; failures
// reported on stderr before abort (the module has no error channel).
//
//===----------------------------------------------------------------------===//

#include "keops/Runtime/KeOpsRuntime.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

struct keops_rt_mlir_call_s {
  const keops_rt_kernel_t *kernel;
  std::vector<keops_rt_array_t> arrays; // inputs, then outputs
};

namespace {

[[noreturn]] void abortWith(const std::string &message) {
  std::fprintf(stderr, "keops: %s\n", message.c_str());
  std::abort();
}

void abortOn(keops_rt_status_t status) {
  if (status)
    abortWith(keops_rt_status_message(status));
}

/// The kernel of `desc`, created at its first use.
const keops_rt_kernel_t *kernelOf(const keops_rt_kernel_desc_t *desc,
                                  keops_rt_cpu_entry_t entry) {
  static std::mutex mutex;
  static auto *kernels =
      new std::unordered_map<const keops_rt_kernel_desc_t *, keops_rt_kernel_t *>;
  std::lock_guard<std::mutex> lock(mutex);
  keops_rt_kernel_t *&kernel = (*kernels)[desc];
  if (!kernel)
    abortOn(keops_rt_kernel_create_cpu(desc, entry, nullptr, nullptr, &kernel));
  return kernel;
}

/// Appends the array of an unranked memref of `dtype` to `call`.
void addArray(keops_rt_mlir_call_t *call,
              const keops_rt_unranked_memref_t *memref, keops_rt_dtype_t dtype) {
  if (memref->rank != 1 && memref->rank != 2)
    abortWith("an array of a reduction has rank " +
              std::to_string(memref->rank) + ", expected 1 or 2");
  struct Header {
    char *allocated, *aligned;
    int64_t offset;
  };
  const auto *header = static_cast<const Header *>(memref->descriptor);
  const auto *sizes = reinterpret_cast<const int64_t *>(header + 1);
  const int64_t *strides = sizes + memref->rank;
  bool matrix = memref->rank == 2;
  int64_t cols = sizes[matrix ? 1 : 0];
  if (strides[matrix ? 1 : 0] != 1 && cols > 1)
    abortWith("array " + std::to_string(call->arrays.size()) +
              " of a reduction has a column stride of " +
              std::to_string(strides[matrix ? 1 : 0]) + ", expected 1");
  keops_rt_array_t array{};
  array.data = header->aligned + header->offset * keops_rt_dtype_size(dtype);
  array.dtype = dtype;
  array.rows = matrix ? sizes[0] : 1;
  array.cols = cols;
  array.row_stride = matrix ? strides[0] : cols;
  call->arrays.push_back(array);
}

} // namespace

extern "C" {

keops_rt_mlir_call_t *keops_rt_mlir_begin(const keops_rt_kernel_desc_t *desc,
                                          keops_rt_cpu_entry_t entry) {
  return new keops_rt_mlir_call_s{kernelOf(desc, entry), {}};
}

void _mlir_ciface_keops_rt_mlir_arg_f32(keops_rt_mlir_call_t *call,
                                        const keops_rt_unranked_memref_t *array) {
  addArray(call, array, KEOPS_RT_FLOAT32);
}

void _mlir_ciface_keops_rt_mlir_arg_f64(keops_rt_mlir_call_t *call,
                                        const keops_rt_unranked_memref_t *array) {
  addArray(call, array, KEOPS_RT_FLOAT64);
}

void _mlir_ciface_keops_rt_mlir_arg_i64(keops_rt_mlir_call_t *call,
                                        const keops_rt_unranked_memref_t *array) {
  addArray(call, array, KEOPS_RT_INT64);
}

void keops_rt_mlir_end(keops_rt_mlir_call_t *call) {
  keops_rt_kernel_desc_t desc;
  keops_rt_kernel_describe(call->kernel, &desc);
  if (call->arrays.size() !=
      static_cast<size_t>(desc.num_inputs + desc.num_outputs))
    abortWith("kernel '" + std::string(desc.name) + "' takes " +
              std::to_string(desc.num_inputs + desc.num_outputs) +
              " arrays, got " + std::to_string(call->arrays.size()));
  keops_rt_run_args_t args;
  keops_rt_run_args_initialize(&args);
  args.num_inputs = desc.num_inputs;
  args.inputs = call->arrays.data();
  args.num_outputs = desc.num_outputs;
  args.outputs = call->arrays.data() + desc.num_inputs;
  keops_rt_status_t status = keops_rt_kernel_run(call->kernel, &args);
  delete call;
  abortOn(status);
}

} // extern "C"
