//===- Descriptors.cpp - Runtime descriptors of compiled kernels -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the descriptor steps of CompileSteps.h: the
// descriptor of a canonical module's kernel (describeReduction with the
// tiling of the compile options' target), and a runtime kernel made from
// one.
//
//===----------------------------------------------------------------------===//

#include "CompileSteps.h"

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Conversion/KeOpsCommon/DescribeReduction.h"
#include "keops/Dialect/KeOps/Transforms/Tiling.h"
#include "keops/Target/HostCode.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;
namespace mk = mlir::keops;

namespace keops::detail {

KernelDescriptor describeKernel(ModuleOp module, const CompileOptions &options) {
  auto function = *module.getOps<func::FuncOp>().begin();
  auto reduce = *function.getOps<mk::ReduceOp>().begin();
  std::string error;
  FailureOr<mk::ReductionTiling> tiling =
      mk::chooseTiling(reduce, tilingOptions(options), error);
  assert(succeeded(tiling) && "the compile options were checked");
  if (options.backend != "gpu")
    return mk::describeCpuKernel(reduce, *tiling, target::hostCpuName(),
                                 options.lanes);
  KernelDescriptor descriptor = mk::describeReduction(reduce, *tiling);
  descriptor.target = KEOPS_RT_TARGET_GPU;
  descriptor.arch = options.gpuArch;
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
