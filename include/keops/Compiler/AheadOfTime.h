//===- AheadOfTime.h - Kernels compiled for kernel libraries ----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the ahead-of-time side of the C++ API, which keops-aot
// builds kernel libraries with: a formula's CPU kernel compiled, for a named
// CPU level, into a position-independent object file with its runtime
// descriptor. Such an object runs with libKeOpsRuntime alone (no LLVM or
// MLIR at run time).
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_COMPILER_AHEADOFTIME_H
#define KEOPS_COMPILER_AHEADOFTIME_H

#include "keops/Compiler/Compiler.h"

namespace keops {

/// A kernel compiled ahead of time for one CPU level.
struct HostObject {
  /// Its descriptor; arch is the CPU level, which the runtime checks before
  /// it runs the code (keops_rt_kernel_create_cpu_variants).
  KernelDescriptor descriptor;
  /// The symbol of its packed entry point (a keops_rt_cpu_entry_t), hidden.
  std::string entry;
  /// A relocatable, position-independent ELF object file.
  std::string object;
};

/// Compiles the CPU kernel of a formula for `cpu`: "x86-64", "x86-64-v2",
/// "x86-64-v3", "x86-64-v4" (the x86-64 microarchitecture levels, with
/// their vector width unless options.lanes is set) or "native" (this
/// machine's CPU and all its features, unchecked at run time). The entry
/// point is named after `symbol`, which must be unique in the library.
llvm::Expected<HostObject>
compileHostObject(const std::string &formula,
                  const std::vector<std::string> &aliases,
                  const CompileOptions &options, const std::string &cpu,
                  const std::string &symbol);

/// A kernel of a module compiled ahead of time, and its function.
struct ModuleHostObject {
  std::string function;
  HostObject object;
};

/// Compiles the CPU kernels of a keops-dialect module (as compileModule
/// finds them) for `cpu`, each in the dtype of its IR; the entry point of a
/// kernel is named after `symbolPrefix` and its function.
llvm::Expected<std::vector<ModuleHostObject>>
compileModuleHostObjects(llvm::StringRef module, const CompileOptions &options,
                         const std::string &cpu,
                         const std::string &symbolPrefix);

/// A GPU kernel of a module, and its function.
struct ModuleGpuBundle {
  std::string function;
  GpuKernelBundle bundle;
};

/// The GPU kernels of a keops-dialect module (as compileModule finds them)
/// for options.gpuArch (default sm_90), each in the dtype of its IR; needs
/// no GPU.
llvm::Expected<std::vector<ModuleGpuBundle>>
buildModuleGpuBundles(llvm::StringRef module, const CompileOptions &options);

/// The highest x86-64 level this machine runs ("x86-64-v4", ...), or
/// "native" on other architectures: the runtime's keops_rt_cpu_level.
/// The GPU kernel of a formula for options.gpuArch, as the GPU emulation
/// of the tests runs it (GpuKernelBundle::hostObject, whose symbol is
/// `symbol`): what keops-aot --gpu-emulation puts in a library so that its
/// GPU variants run without a GPU.
llvm::Expected<GpuKernelBundle>
buildEmulatedGpuBundle(const std::string &formula,
                       const std::vector<std::string> &aliases,
                       const CompileOptions &options, const std::string &symbol);

std::string hostCpuLevel();

} // namespace keops

#endif // KEOPS_COMPILER_AHEADOFTIME_H
