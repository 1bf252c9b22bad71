//===- LibraryWriter.h - Kernel libraries on disk ---------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares what keops-aot writes for a library NAME of compiled
// kernels: the C header NAME.h, the C source of the glue (each kernel's
// descriptors, its handle and its plain-array call), the manifest NAME.json,
// and libNAME.so and libNAME.a, built with the system C compiler and
// linked with libKeOpsRuntime only.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_TOOLS_KEOPS_AOT_LIBRARYWRITER_H
#define KEOPS_TOOLS_KEOPS_AOT_LIBRARYWRITER_H

#include "Spec.h"

#include "keops/Compiler/AheadOfTime.h"

namespace keops::aot {

/// A kernel of the library, compiled for each CPU level (best first) and,
/// when asked, each GPU architecture.
struct CompiledKernel {
  KernelSpec spec;
  std::vector<HostObject> variants;
  std::vector<GpuKernelBundle> gpuVariants;
};

/// Where the runtime's header and library are (the keops/ include root and
/// the directory of libKeOpsRuntime.so), and the C compiler.
struct Toolchain {
  std::string includeDir, libraryDir, cc;
};

/// The name of the PTX file of a GPU variant: LIB_KERNEL_ARCH.ptx.
std::string ptxFile(const std::string &library, const CompiledKernel &kernel,
                    const GpuKernelBundle &gpu);

/// The text of NAME.h: the runtime header, then for each kernel its
/// plain-array function and its handle function, documented.
std::string writeHeader(const std::string &library,
                        const std::vector<CompiledKernel> &kernels);

/// The C source of the glue that implements NAME.h.
std::string writeGlue(const std::string &library,
                      const std::vector<CompiledKernel> &kernels);

/// The text of NAME.json: the library, its CPU levels and kernels (spec and
/// the runtime descriptor of each variant).
std::string writeManifest(const std::string &library,
                          const std::vector<std::string> &cpus,
                          const std::vector<CompiledKernel> &kernels);

/// Writes NAME.h, libNAME.so, libNAME.a, NAME.json and the PTX of each GPU
/// variant, NAME_KERNEL_ARCH.ptx, into `directory`
/// (created if needed): all are built in a temporary directory there first,
/// so that a failure leaves nothing behind.
llvm::Error writeLibrary(const std::string &directory,
                         const std::string &library,
                         const std::vector<std::string> &cpus,
                         const std::vector<CompiledKernel> &kernels,
                         const Toolchain &toolchain);

} // namespace keops::aot

#endif // KEOPS_TOOLS_KEOPS_AOT_LIBRARYWRITER_H
