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
#include "mlir/Pass/PassManager.h"

using namespace mlir;

namespace keops {
using namespace detail;

llvm::Expected<HostObject>
compileHostObject(const std::string &formula,
                  const std::vector<std::string> &aliases,
                  const CompileOptions &requested, const std::string &cpu,
                  const std::string &symbol) {
  int64_t vectorBytes = target::cpuVectorBytes(cpu);
  if (!vectorBytes)
    return makeError("unknown CPU level '" + cpu +
                     "': expected x86-64, x86-64-v2, x86-64-v3, x86-64-v4 or "
                     "native");
  CompileOptions options = requested;
  options.backend = "cpu";
  if (!options.lanes)
    options.lanes = vectorBytes / (options.dtype == "float64" ? 8 : 4);
  auto resolved = resolveTarget(options);
  if (!resolved)
    return resolved.takeError();
  MLIRContext context(registry());
  auto module = importCanonical(context, formula, aliases, *resolved);
  if (!module)
    return module.takeError();
  HostObject result;
  result.descriptor = describeKernel(**module, *resolved);
  result.descriptor.arch = cpu;
  (*(*module)->getOps<func::FuncOp>().begin()).setSymName(symbol);
  PassManager pm(&context);
  addCpuLowering(pm, *resolved);
  if (failed(pm.run(**module)))
    return makeError("internal error: lowering to the LLVM dialect failed");
  auto object = target::compileObject(**module, symbol, cpu);
  if (!object)
    return object.takeError();
  result.entry = "_mlir__mlir_ciface_" + symbol;
  result.object = std::move(*object);
  return result;
}

std::string hostCpuLevel() { return target::hostCpuLevel(); }

} // namespace keops
