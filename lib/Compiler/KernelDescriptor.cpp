//===- KernelDescriptor.cpp - Runtime descriptors of kernels ----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements RuntimeDescriptor and the descriptor steps of
// CompileSteps.h: a kernel's descriptor read from its canonical module (the
// raw state from the accumulator of its reduction kind, in the schedule's
// accumulator type), and a runtime kernel made from one.
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/KernelDescriptor.h"

#include "CompileSteps.h"

#include "keops/Conversion/KeOpsCommon/KernelFormula.h"
#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Dialect/KeOps/Transforms/Tiling.h"
#include "keops/Target/HostCode.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;
namespace mk = mlir::keops;

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

namespace keops::detail {
namespace {

keops_rt_category_t toRuntime(mk::Category category) {
  return category == mk::Category::i   ? KEOPS_RT_CATEGORY_I
         : category == mk::Category::j ? KEOPS_RT_CATEGORY_J
                                       : KEOPS_RT_CATEGORY_PARAM;
}

keops_rt_dtype_t toRuntime(Type element) {
  return element.isInteger(64) ? KEOPS_RT_INT64
         : element.isF64()     ? KEOPS_RT_FLOAT64
         : element.isF16()     ? KEOPS_RT_FLOAT16
                               : KEOPS_RT_FLOAT32;
}

/// Sets the raw state of one row of the kernel of `reduce`: what the
/// Accumulator of its kind holds, in the accumulator type of the schedule
/// that keops-tile-reductions gives it with the target's options; and the
/// tiles of a CPU kernel.
void setState(KernelDescriptor &descriptor, mk::ReduceOp reduce,
              const CompileOptions &options) {
  std::string error;
  FailureOr<mk::ReductionTiling> tiling =
      mk::chooseTiling(reduce, tilingOptions(options), error);
  assert(succeeded(tiling) && "the compile options were checked");
  std::unique_ptr<mk::Accumulator> acc = mk::createAccumulator(reduce, *tiling);
  mk::StateLayout state = mk::getStateLayout(*acc);
  descriptor.stateFloats =
      static_cast<int32_t>(state.floats * tiling->chunks.count());
  descriptor.stateInts = static_cast<int32_t>(state.ints * tiling->chunks.count());
  descriptor.stateDtype =
      tiling->accType.isF64() ? KEOPS_RT_FLOAT64 : KEOPS_RT_FLOAT32;
  if (options.backend == "gpu") {
    descriptor.target = KEOPS_RT_TARGET_GPU;
    descriptor.arch = options.gpuArch;
    return;
  }
  descriptor.arch = target::hostCpuName();
  descriptor.lanes = static_cast<int32_t>(options.lanes);
  descriptor.tileRows = static_cast<int32_t>(tiling->rows);
  descriptor.tileCols = static_cast<int32_t>(tiling->cols);
}

} // namespace

KernelDescriptor describeKernel(ModuleOp module, const CompileOptions &options) {
  auto function = *module.getOps<func::FuncOp>().begin();
  auto reduce = *function.getOps<mk::ReduceOp>().begin();
  KernelDescriptor descriptor;
  for (auto [k, input] : llvm::enumerate(reduce.getInputs())) {
    auto name = function.getArgAttrOfType<StringAttr>(k, "keops.name");
    descriptor.inputs.push_back(
        {name ? name.str() : "", toRuntime(reduce.getCategory(k)),
         llvm::cast<RankedTensorType>(input.getType()).getShape().back()});
  }
  for (Type type : reduce.getResultTypes()) {
    auto tensor = llvm::cast<RankedTensorType>(type);
    descriptor.outputs.push_back(
        {toRuntime(tensor.getElementType()), tensor.getShape().back()});
  }
  descriptor.dtype = options.dtype == "float64"   ? KEOPS_RT_FLOAT64
                     : options.dtype == "float16" ? KEOPS_RT_FLOAT16
                                                  : KEOPS_RT_FLOAT32;
  descriptor.rowCategory = reduce.getAxis() == mk::Axis::j
                               ? KEOPS_RT_CATEGORY_I
                               : KEOPS_RT_CATEGORY_J;
  // Only a sum has a value (0) on an empty set of columns.
  descriptor.allowsEmptyReduction =
      reduce.getKind() == mk::ReductionKind::sum;
  descriptor.reduction = mk::stringifyReductionKind(reduce.getKind()).str();
  descriptor.k = static_cast<int32_t>(reduce.getK().value_or(0));
  setState(descriptor, reduce, options);
  return descriptor;
}

llvm::Expected<keops_rt_kernel_t *> makeRuntimeKernel(
    const KernelDescriptor &descriptor,
    llvm::function_ref<keops_rt_status_t(const keops_rt_kernel_desc_t &,
                                         keops_rt_kernel_t **)>
        create) {
  RuntimeDescriptor desc(descriptor);
  keops_rt_kernel_t *kernel = nullptr;
  if (keops_rt_status_t status = create(desc.get(), &kernel)) {
    llvm::Error error = makeError(keops_rt_status_message(status));
    keops_rt_status_free(status);
    return std::move(error);
  }
  return kernel;
}

} // namespace keops::detail
