//===- KernelDescriptor.cpp - What the runtime knows of a kernel -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements RuntimeDescriptor (a KernelDescriptor as the
// runtime's keops_rt_kernel_desc_t) and toJson.
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/KeOpsCommon/KernelDescriptor.h"

namespace keops {

RuntimeDescriptor::RuntimeDescriptor(const KernelDescriptor &descriptor,
                                     const char *name)
    : desc{} {
  for (const KernelInput &input : descriptor.inputs) {
    categories.push_back(input.category);
    dims.push_back(input.dim);
    names.push_back(input.name.c_str());
  }
  for (const KernelOutput &output : descriptor.outputs) {
    outputDims.push_back(output.dim);
    outputDtypes.push_back(output.dtype);
  }
  desc.abi_version = KEOPS_RT_KERNEL_ABI_VERSION;
  desc.name = name;
  desc.dtype = descriptor.dtype;
  desc.row_category = descriptor.rowCategory;
  desc.num_inputs = static_cast<int32_t>(descriptor.inputs.size());
  desc.categories = categories.data();
  desc.dims = dims.data();
  desc.input_names = names.data();
  desc.num_outputs = static_cast<int32_t>(descriptor.outputs.size());
  desc.output_dims = outputDims.data();
  desc.output_dtypes = outputDtypes.data();
  desc.allows_empty_reduction = descriptor.allowsEmptyReduction;
  desc.state_floats = descriptor.stateFloats;
  desc.state_ints = descriptor.stateInts;
  desc.state_dtype = descriptor.stateDtype;
  desc.reduction = descriptor.reduction.c_str();
  desc.k = descriptor.k;
  desc.target = descriptor.target;
  desc.arch = descriptor.arch.c_str();
  desc.lanes = descriptor.lanes;
  desc.tile_rows = descriptor.tileRows;
  desc.tile_cols = descriptor.tileCols;
}

llvm::json::Object toJson(const KernelDescriptor &descriptor) {
  llvm::json::Array inputs, outputs;
  for (const KernelInput &input : descriptor.inputs)
    inputs.push_back(llvm::json::Object{
        {"name", input.name},
        {"category", static_cast<int64_t>(input.category)},
        {"dim", input.dim}});
  for (const KernelOutput &output : descriptor.outputs)
    outputs.push_back(llvm::json::Object{
        {"dtype", static_cast<int64_t>(output.dtype)}, {"dim", output.dim}});
  return llvm::json::Object{
      {"abi_version", KEOPS_RT_KERNEL_ABI_VERSION},
      {"dtype", static_cast<int64_t>(descriptor.dtype)},
      {"row_category", static_cast<int64_t>(descriptor.rowCategory)},
      {"inputs", std::move(inputs)},
      {"outputs", std::move(outputs)},
      {"allows_empty_reduction", descriptor.allowsEmptyReduction},
      {"state_floats", descriptor.stateFloats},
      {"state_ints", descriptor.stateInts},
      {"state_dtype", static_cast<int64_t>(descriptor.stateDtype)},
      {"reduction", descriptor.reduction},
      {"k", descriptor.k},
      {"target", static_cast<int64_t>(descriptor.target)},
      {"arch", descriptor.arch},
      {"lanes", descriptor.lanes},
      {"tile_rows", descriptor.tileRows},
      {"tile_cols", descriptor.tileCols}};
}

} // namespace keops
