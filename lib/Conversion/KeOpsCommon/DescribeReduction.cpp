//===- DescribeReduction.cpp - The runtime view of a reduction -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements describeReduction: the target-independent part of a
// kernel's runtime descriptor, read from its keops.reduce and tiling. The
// compiler (JIT, keops-aot) and keops-lower-kernel-calls share it; the raw
// state is the dialect's layout of the reduction kind.
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/KeOpsCommon/DescribeReduction.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;
using namespace mlir::keops;

namespace {

keops_rt_category_t toRuntime(Category category) {
  return category == Category::i   ? KEOPS_RT_CATEGORY_I
         : category == Category::j ? KEOPS_RT_CATEGORY_J
                                   : KEOPS_RT_CATEGORY_PARAM;
}

keops_rt_dtype_t toRuntime(Type element) {
  return element.isInteger(64) ? KEOPS_RT_INT64
         : element.isF64()     ? KEOPS_RT_FLOAT64
         : element.isF16()     ? KEOPS_RT_FLOAT16
                               : KEOPS_RT_FLOAT32;
}

/// The keops.name of the function argument `value`, or "".
std::string nameOf(Value value) {
  auto argument = llvm::dyn_cast<BlockArgument>(value);
  if (!argument)
    return "";
  auto function =
      llvm::dyn_cast<func::FuncOp>(argument.getOwner()->getParentOp());
  if (!function)
    return "";
  auto name =
      function.getArgAttrOfType<StringAttr>(argument.getArgNumber(), "keops.name");
  return name ? name.str() : "";
}

} // namespace

::keops::KernelDescriptor
mlir::keops::describeReduction(ReduceOp reduce, const ReductionTiling &tiling) {
  ::keops::KernelDescriptor descriptor;
  for (auto [k, input] : llvm::enumerate(reduce.getInputs()))
    descriptor.inputs.push_back(
        {nameOf(input), toRuntime(reduce.getCategory(k)),
         llvm::cast<RankedTensorType>(input.getType()).getShape().back()});
  for (Type type : reduce.getResultTypes()) {
    auto tensor = llvm::cast<RankedTensorType>(type);
    descriptor.outputs.push_back(
        {toRuntime(tensor.getElementType()), tensor.getShape().back()});
  }
  descriptor.dtype = toRuntime(getFormulaElementType(reduce));
  descriptor.rowCategory =
      reduce.getAxis() == Axis::j ? KEOPS_RT_CATEGORY_I : KEOPS_RT_CATEGORY_J;
  // Only a sum has a value (0) on an empty set of columns.
  descriptor.allowsEmptyReduction = reduce.getKind() == ReductionKind::sum;
  descriptor.reduction = stringifyReductionKind(reduce.getKind()).str();
  descriptor.k = static_cast<int32_t>(reduce.getK().value_or(0));
  StateLayout state = tiling.getRowState(reduce);
  descriptor.stateFloats = static_cast<int32_t>(state.floats);
  descriptor.stateInts = static_cast<int32_t>(state.ints);
  descriptor.stateDtype =
      tiling.accType.isF64() ? KEOPS_RT_FLOAT64 : KEOPS_RT_FLOAT32;
  return descriptor;
}

::keops::KernelDescriptor
mlir::keops::describeCpuKernel(ReduceOp reduce, const ReductionTiling &tiling,
                               llvm::StringRef arch, int64_t lanes) {
  ::keops::KernelDescriptor descriptor = describeReduction(reduce, tiling);
  descriptor.target = KEOPS_RT_TARGET_CPU;
  descriptor.arch = arch.str();
  descriptor.lanes = static_cast<int32_t>(lanes);
  descriptor.tileRows = static_cast<int32_t>(tiling.rows);
  descriptor.tileCols = static_cast<int32_t>(tiling.cols);
  return descriptor;
}
