//===- AheadOfTime.cpp - Kernels compiled for kernel libraries --*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements compileHostObject: the JIT's steps (import, options,
// descriptor, keops-lower-to-cpu), then a position-independent object for a
// named CPU level instead of the host's JIT.
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/AheadOfTime.h"

#include "CompileSteps.h"

#include "keops/Target/HostCode.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

using namespace mlir;

namespace keops {
using namespace detail;

/// The CPU options of `cpu` (its vector width unless the lanes are set),
/// resolved; `cpu` must be a level compileObject knows.
static llvm::Expected<CompileOptions>
cpuOptions(const CompileOptions &requested, const std::string &cpu) {
  int64_t vectorBytes = target::cpuVectorBytes(cpu);
  if (!vectorBytes)
    return makeError("unknown CPU level '" + cpu +
                     "': expected x86-64, x86-64-v2, x86-64-v3, x86-64-v4 or "
                     "native");
  CompileOptions options = requested;
  options.backend = "cpu";
  if (!options.lanes)
    options.lanes = lanesFor(options, vectorBytes);
  return resolveTarget(options);
}

/// The object of the kernel of a canonical module for `cpu`.
static llvm::Expected<HostObject> hostObjectOf(ModuleOp module,
                                               const CompileOptions &options,
                                               const std::string &cpu,
                                               const std::string &symbol) {
  HostObject result;
  result.descriptor = describeKernel(module, options);
  result.descriptor.arch = cpu;
  (*module.getOps<func::FuncOp>().begin()).setSymName(symbol);
  if (llvm::Error error = lowerForCpu(module, options))
    return std::move(error);
  result.entry = "_mlir__mlir_ciface_" + symbol;
  auto object = target::compileObject(module, "_mlir_ciface_" + symbol,
                                      result.entry, cpu);
  if (!object)
    return object.takeError();
  result.object = std::move(*object);
  return result;
}

llvm::Expected<HostObject>
compileHostObject(const std::string &formula,
                  const std::vector<std::string> &aliases,
                  const CompileOptions &requested, const std::string &cpu,
                  const std::string &symbol) {
  auto options = cpuOptions(requested, cpu);
  if (!options)
    return options.takeError();
  MLIRContext context(registry());
  auto module = importCanonical(context, formula, aliases, *options);
  if (!module)
    return module.takeError();
  return hostObjectOf(**module, *options, cpu, symbol);
}

llvm::Expected<std::vector<ModuleHostObject>>
compileModuleHostObjects(llvm::StringRef text, const CompileOptions &requested,
                         const std::string &cpu,
                         const std::string &symbolPrefix) {
  std::vector<ModuleHostObject> result;
  auto each = [&](KernelModule &kernel) -> llvm::Error {
    auto options =
        cpuOptions(withModuleDtype(*kernel.module, requested), cpu);
    if (!options)
      return options.takeError();
    auto object = hostObjectOf(*kernel.module, *options, cpu,
                               symbolPrefix + kernel.function);
    if (!object)
      return object.takeError();
    result.push_back({kernel.function, std::move(*object)});
    return llvm::Error::success();
  };
  if (llvm::Error error = forEachKernel(text, each))
    return std::move(error);
  return std::move(result);
}

llvm::Expected<std::vector<ModuleGpuBundle>>
buildModuleGpuBundles(llvm::StringRef text, const CompileOptions &requested) {
  std::vector<ModuleGpuBundle> result;
  auto each = [&](KernelModule &kernel) -> llvm::Error {
    auto options =
        gpuBundleOptions(withModuleDtype(*kernel.module, requested));
    if (!options)
      return options.takeError();
    auto bundle = gpuBundleOf(*kernel.module, *options);
    if (!bundle)
      return bundle.takeError();
    result.push_back({kernel.function, std::move(*bundle)});
    return llvm::Error::success();
  };
  if (llvm::Error error = forEachKernel(text, each))
    return std::move(error);
  return std::move(result);
}

std::string hostCpuLevel() { return keops_rt_cpu_level(); }

} // namespace keops
