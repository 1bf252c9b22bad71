//===- KernelDescriptor.h - What the runtime knows of a kernel --*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares KernelDescriptor, the compiler's owned form of the
// runtime's keops_rt_kernel_desc_t (what a kernel computes and how it was
// compiled, besides its code), and RuntimeDescriptor, the C view of one.
// The JIT, keops-aot and the GPU bundles all describe kernels with it.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_COMPILER_KERNELDESCRIPTOR_H
#define KEOPS_COMPILER_KERNELDESCRIPTOR_H

#include "keops/Runtime/KeOpsRuntime.h"

#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace keops {

/// One variable of a kernel.
struct KernelInput {
  std::string name; // empty for unnamed aliases
  keops_rt_category_t category;
  int64_t dim;
};

/// One result of a kernel.
struct KernelOutput {
  keops_rt_dtype_t dtype;
  int64_t dim;
};

/// The fields of keops_rt_kernel_desc_t, owned (see KeOpsRuntime.h).
struct KernelDescriptor {
  std::vector<KernelInput> inputs;
  std::vector<KernelOutput> outputs;
  keops_rt_dtype_t dtype = KEOPS_RT_FLOAT32;
  keops_rt_category_t rowCategory = KEOPS_RT_CATEGORY_I;
  bool allowsEmptyReduction = false;
  /// The raw accumulator state of a row.
  int32_t stateFloats = 0, stateInts = 0;
  keops_rt_dtype_t stateDtype = KEOPS_RT_FLOAT32;
  /// How it is compiled.
  std::string reduction;
  int32_t k = 0;
  keops_rt_target_t target = KEOPS_RT_TARGET_CPU;
  std::string arch;
  int32_t lanes = 1, tileRows = 0, tileCols = 0;
};

/// The keops_rt_kernel_desc_t of a KernelDescriptor, which must outlive it.
class RuntimeDescriptor {
public:
  explicit RuntimeDescriptor(const KernelDescriptor &descriptor,
                             const char *name = "keops_kernel");
  RuntimeDescriptor(const RuntimeDescriptor &) = delete;
  RuntimeDescriptor &operator=(const RuntimeDescriptor &) = delete;

  const keops_rt_kernel_desc_t &get() const { return desc; }

private:
  std::vector<keops_rt_category_t> categories;
  std::vector<int64_t> dims, outputDims;
  std::vector<const char *> names;
  std::vector<keops_rt_dtype_t> outputDtypes;
  keops_rt_kernel_desc_t desc;
};

/// The descriptor as JSON (for keops-run --emit=bundle and the manifests
/// of keops-aot): abi_version, dtype, row_category, inputs (name, category,
/// dim), outputs (dtype, dim), allows_empty_reduction, state_floats,
/// state_ints, state_dtype, reduction, k, target, arch, lanes, tile_rows,
/// tile_cols; the enums as their runtime values.
llvm::json::Object toJson(const KernelDescriptor &descriptor);

} // namespace keops

#endif // KEOPS_COMPILER_KERNELDESCRIPTOR_H
