//===- GpuKernelsToHost.cpp - GPU kernels as host functions -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements convert-gpu-kernels-to-host, which makes the kernels
// of convert-keops-to-gpu runnable on the host, one call per GPU thread:
//
//   gpu.module { gpu.func @f(args) workgroup(%tile) kernel { body } }
//     --> func.func @f(%barrier: () -> (), %block_x, %block_y,
//                      %thread_x: index, %tile: memref<..>, args) { body }
//
// (at most one workgroup buffer)
//
// with gpu.thread_id x, gpu.block_id x/y replaced by the arguments (the
// other dimensions by 0) and gpu.barrier by a call of %barrier. A caller
// that runs the threads of a block concurrently, with one workgroup buffer
// for the block and a barrier that waits for all of them, runs the kernel
// as the GPU would: the tests of the GPU path run on machines without one.
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::keops {
#define GEN_PASS_DEF_CONVERTGPUKERNELSTOHOSTPASS
#include "keops/Conversion/Passes.h.inc"
} // namespace mlir::keops

using namespace mlir;

namespace {

/// The host function of `kernel`, added at the end of `module`.
LogicalResult convertKernel(gpu::GPUFuncOp kernel, ModuleOp module) {
  if (!kernel.getPrivateAttributions().empty())
    return kernel.emitOpError("has private memory attributions, which the "
                              "host form does not take");
  if (kernel.getWorkgroupAttributions().size() > 1)
    return kernel.emitOpError("has several workgroup buffers: the host form "
                              "takes one");
  MLIRContext *ctx = kernel.getContext();
  Location loc = kernel.getLoc();
  Type index = IndexType::get(ctx);
  auto barrierType = FunctionType::get(ctx, {}, {});
  llvm::SmallVector<Type> types{barrierType, index, index, index};
  llvm::SmallVector<BlockArgument> workgroup(
      kernel.getWorkgroupAttributions());
  int64_t workgroupBytes = 0;
  for (BlockArgument buffer : workgroup) {
    auto type = llvm::cast<MemRefType>(buffer.getType());
    types.push_back(MemRefType::get(type.getShape(), type.getElementType()));
    workgroupBytes = type.getNumElements() * type.getElementTypeBitWidth() / 8;
  }
  llvm::append_range(types, kernel.getArgumentTypes());

  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto function = func::FuncOp::create(b, loc, kernel.getName(),
                                       FunctionType::get(ctx, types, {}));
  for (NamedAttribute attribute : kernel->getDiscardableAttrs())
    if (attribute.getName().strref().starts_with("keops."))
      function->setAttr(attribute.getName(), attribute.getValue());
  // What the caller needs to know: the threads of a block (named as on an
  // NVVM kernel) and the bytes of the workgroup buffer.
  if (DenseI32ArrayAttr size = kernel.getKnownBlockSizeAttr())
    function->setAttr(keops::kKnownBlockSizeAttr, size);
  function->setAttr(keops::kWorkgroupBytesAttr,
                    b.getI64IntegerAttr(workgroupBytes));
  function.getBody().takeBody(kernel.getBody());
  Block &body = function.getBody().front();
  // The entry block holds the arguments, then the workgroup buffers: the
  // context and the buffers go first.
  Value barrier = body.insertArgument(0u, barrierType, loc);
  Value blockX = body.insertArgument(1u, index, loc);
  Value blockY = body.insertArgument(2u, index, loc);
  Value threadX = body.insertArgument(3u, index, loc);
  for (auto [k, buffer] : llvm::enumerate(workgroup)) {
    Value plain = body.insertArgument(4u + k, types[4 + k], loc);
    buffer.replaceAllUsesWith(plain);
  }
  body.eraseArguments(types.size(), workgroup.size());

  llvm::SmallVector<Operation *> gpuOps;
  function.walk([&](Operation *op) {
    if (llvm::isa<gpu::GPUDialect>(op->getDialect()))
      gpuOps.push_back(op);
  });
  for (Operation *op : gpuOps) {
    b.setInsertionPoint(op);
    auto zero = [&] { return arith::ConstantIndexOp::create(b, loc, 0); };
    if (auto thread = llvm::dyn_cast<gpu::ThreadIdOp>(op)) {
      thread.replaceAllUsesWith(
          thread.getDimension() == gpu::Dimension::x ? threadX : zero());
    } else if (auto block = llvm::dyn_cast<gpu::BlockIdOp>(op)) {
      Value id = block.getDimension() == gpu::Dimension::x   ? blockX
                 : block.getDimension() == gpu::Dimension::y ? blockY
                                                             : Value(zero());
      block.replaceAllUsesWith(id);
    } else if (llvm::isa<gpu::BarrierOp>(op)) {
      func::CallIndirectOp::create(b, loc, barrier, ValueRange());
    } else if (llvm::isa<gpu::ReturnOp>(op)) {
      func::ReturnOp::create(b, loc);
    } else {
      return op->emitOpError("has no host form");
    }
    op->erase();
  }
  return success();
}

struct ConvertGpuKernelsToHostPass final
    : keops::impl::ConvertGpuKernelsToHostPassBase<
          ConvertGpuKernelsToHostPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto gpuModule :
         llvm::make_early_inc_range(module.getOps<gpu::GPUModuleOp>())) {
      for (auto kernel : gpuModule.getOps<gpu::GPUFuncOp>()) {
        if (!kernel.isKernel()) {
          kernel.emitOpError("is not a kernel: only kernels have a host form");
          return signalPassFailure();
        }
        if (failed(convertKernel(kernel, module)))
          return signalPassFailure();
      }
      gpuModule.erase();
    }
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};

} // namespace
