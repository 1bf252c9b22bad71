//===- CompileSteps.h - The steps every compile path shares -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the steps of lib/Compiler that the JIT (Compiler.cpp)
// and the ahead-of-time compiler (AheadOfTime.cpp) share: the compile
// options checked, resolved and turned into pipeline options
// (CompileOptions.cpp), a formula imported into its canonical module
// (Import.cpp), the runtime descriptor of a kernel (Descriptors.cpp), and
// its GPU code (Compiler.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_COMPILER_COMPILESTEPS_H
#define KEOPS_LIB_COMPILER_COMPILESTEPS_H

#include "keops/Compiler/Compiler.h"
#include "keops/Dialect/KeOps/Transforms/Passes.h"
#include "keops/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir {
class DialectRegistry;
class MLIRContext;
class PassManager;
} // namespace mlir

namespace keops::detail {

llvm::Error makeError(const llvm::Twine &message);

//===----------------------------------------------------------------------===//
// Options (CompileOptions.cpp)
//===----------------------------------------------------------------------===//

/// Checks the values of `options` (an error names the bad one).
llvm::Error checkOptions(const CompileOptions &options);

/// `options` checked, with the backend resolved ("auto": the GPU when one
/// is usable), on the GPU the architecture, on the CPU the host's lanes; an
/// error when the GPU is asked for but there is none.
llvm::Expected<CompileOptions> resolveTarget(const CompileOptions &options);

/// The options of GPU bundles, which need no GPU: `options` checked, for
/// the GPU, options.gpuArch or else sm_90.
llvm::Expected<CompileOptions> gpuBundleOptions(const CompileOptions &options);

/// The lanes that fill vectors of `vectorBytes` with elements of
/// options.dtype.
int64_t lanesFor(const CompileOptions &options, int64_t vectorBytes);

/// The options as a string, for cache keys and kernel names.
std::string optionsKey(const CompileOptions &options);

/// The keops-tile-reductions options of the compile options' target.
mlir::keops::KeOpsTileReductionsPassOptions
tilingOptions(const CompileOptions &options);

/// Lowers a canonical module to the LLVM dialect with keops-lower-to-cpu and
/// the compile options (lanes resolved).
llvm::Error lowerForCpu(mlir::ModuleOp module, const CompileOptions &options);

/// Sets the keops-lower-to-nvvm options of the compile options.
void setGpuOptions(mlir::keops::KeOpsToNVVMPipelineOptions &pipeline,
                   const CompileOptions &options);

//===----------------------------------------------------------------------===//
// Import (Import.cpp)
//===----------------------------------------------------------------------===//

/// The dialects and interfaces of every compile (registerAllKeOpsDialects).
const mlir::DialectRegistry &registry();

/// Differentiates and canonicalizes a module of kernel functions, and drops
/// their keops.formula attributes (informative only: equal IR must hash
/// equal).
llvm::Error canonicalize(mlir::ModuleOp module);

/// A kernel function alone in a canonical module of its own.
struct KernelModule {
  std::string function;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

/// Parses a keops-dialect module, outlines its reductions
/// (keops-outline-reductions), canonicalizes it, and runs `each` on its
/// kernel functions in order, each alone in a module; errors carry the
/// parser's diagnostics, and those of `each` the kernel's function.
llvm::Error
forEachKernel(llvm::StringRef text,
              llvm::function_ref<llvm::Error(KernelModule &)> each);

/// `options` with the dtype of the kernel of a canonical module (that of
/// its formula values).
CompileOptions withModuleDtype(mlir::ModuleOp module,
                               const CompileOptions &options);

/// Imports a formula, differentiates it and canonicalizes it.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importCanonical(mlir::MLIRContext &context, const std::string &formula,
                const std::vector<std::string> &aliases,
                const CompileOptions &options);

/// Gives the kernel function of a canonical module its symbol:
/// keops_<16 hex digits of a hash of the canonical IR and the options>, the
/// same in every process, unique across kernels; returns it.
std::string nameKernel(mlir::ModuleOp module, const std::string &canonical,
                       const CompileOptions &options);

//===----------------------------------------------------------------------===//
// Descriptors (Descriptors.cpp)
//===----------------------------------------------------------------------===//

/// The descriptor of the kernel of a canonical module (one function
/// returning one keops.reduce), read before lowering; on the CPU with the
/// tiles of the compile options (a GPU kernel's come with its code).
KernelDescriptor describeKernel(mlir::ModuleOp module,
                                const CompileOptions &options);

/// Creates a runtime kernel with `create` from `descriptor`.
llvm::Expected<keops_rt_kernel_t *> makeRuntimeKernel(
    const KernelDescriptor &descriptor,
    llvm::function_ref<keops_rt_status_t(const keops_rt_kernel_desc_t &,
                                         keops_rt_kernel_t **)>
        create);

//===----------------------------------------------------------------------===//
// GPU code (Compiler.cpp)
//===----------------------------------------------------------------------===//

/// The GPU kernel of a canonical module for options.gpuArch, as a bundle
/// (PTX, and a cubin when ptxas is found and options.gpuCubin; with an
/// `emulatedSymbol`, the host object of the GPU emulation instead).
llvm::Expected<GpuKernelBundle>
gpuBundleOf(mlir::ModuleOp module, const CompileOptions &options,
            const std::string *emulatedSymbol = nullptr);

} // namespace keops::detail

#endif // KEOPS_LIB_COMPILER_COMPILESTEPS_H
