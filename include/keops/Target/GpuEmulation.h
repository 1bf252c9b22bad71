//===- GpuEmulation.h - GPU kernels run on the host -------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the GPU emulation of the tests: with
// $KEOPS_GPU_EMULATION=1, GPU compiles give the kernel of
// keops-lower-to-gpu-emulation JIT-compiled for the host instead of PTX,
// which the emulating libcuda.so.1 of the tests
// (test/Runtime/Inputs/fake_cuda.c) runs, one fiber per GPU thread.
// The runtime's GPU path, its schedules and the kernels' logic then run on
// machines without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_TARGET_GPUEMULATION_H
#define KEOPS_TARGET_GPUEMULATION_H

#include "keops/Target/NvptxCode.h"

namespace keops::target {

/// Whether $KEOPS_GPU_EMULATION asks for the GPU emulation (set, not "0").
bool gpuEmulationRequested();

/// The GPU kernel of `module` (one keops.reduce function) as host code:
/// its `ptx` is the image text
///   keops-host-kernel <packed entry address> <kernel parameters>
///                     <workgroup bytes>
/// of code that stays in this process; the entry takes, through pointers,
/// the barrier function, the block x, block y and thread x indices, the 5
/// fields of the workgroup buffer (when it has bytes) and the kernel's
/// parameters (convert-gpu-kernels-to-host).
llvm::Expected<NvptxCode>
emulateOnHost(mlir::ModuleOp module,
              const mlir::keops::KeOpsToNVVMPipelineOptions &options);

/// The same kernel compiled into a host object for a kernel library (the
/// GPU emulation of keops-aot's tests): its `entry` is the object's one
/// symbol, hidden, the packed entry; the library's code writes the image
/// text with that symbol's address when it creates its kernel.
struct EmulatedObject {
  NvptxCode code; // no ptx
  std::string object;
  int64_t parameters = 0, workgroupBytes = 0;
};
llvm::Expected<EmulatedObject>
compileEmulatedObject(mlir::ModuleOp module,
                      const mlir::keops::KeOpsToNVVMPipelineOptions &options,
                      llvm::StringRef symbol);

} // namespace keops::target

#endif // KEOPS_TARGET_GPUEMULATION_H
