//===- HostCode.h - Host machine code of kernels ----------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the host target of KeOps-MLIR: the three ways to get a
// kernel's machine code (JIT-compile a module in the LLVM dialect, optionally
// keeping its object file for the disk cache; load an object file compiled
// before; or compile a position-independent object for a named CPU, for a
// kernel library of keops-aot), and what identifies the host's code.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_TARGET_HOSTCODE_H
#define KEOPS_TARGET_HOSTCODE_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace keops::target {

/// A kernel's packed entry point and the JIT that owns its code;
/// `release(owner)` frees the code.
struct JitCode {
  void (*entry)(void **);
  void *owner;
  void (*release)(void *);
};

/// JIT-compiles `module` (LLVM dialect, host target, O3) whose kernel
/// function is `name`, entered through its C interface (memref descriptors
/// by pointer) or, without `cInterface`, with its arguments as they are
/// (memrefs as their 5 fields); when `object` is not null, also returns the
/// object file of the code.
llvm::Expected<JitCode> jitModule(mlir::ModuleOp module, llvm::StringRef name,
                                  std::string *object, bool cInterface = true);

/// Links an object file returned by jitModule for kernel `name` into a new
/// JIT.
llvm::Expected<JitCode> loadObject(llvm::StringRef object,
                                   llvm::StringRef name);

/// Compiles `module` (LLVM dialect) into a relocatable, position-independent
/// object file for the host's architecture and the CPU `cpu` (an LLVM CPU
/// name such as "x86-64-v4"; "native": the host's CPU with all its
/// features), at O3. The object defines one symbol, hidden: `entry`, the
/// packed entry point of the LLVM function `function` (for a kernel `K`
/// with its C interface: `_mlir__mlir_ciface_K` of `_mlir_ciface_K`, as
/// jitModule's code has).
llvm::Expected<std::string> compileObject(mlir::ModuleOp module,
                                          llvm::StringRef function,
                                          llvm::StringRef entry,
                                          llvm::StringRef cpu);

/// The width in bytes of the vector registers of `cpu` (see compileObject):
/// 64 for x86-64-v4, 32 for x86-64-v3, 16 for the older levels, the host's
/// for "native".
int64_t cpuVectorBytes(llvm::StringRef cpu);

/// The width in bytes of the host's widest vector registers: 64 with
/// AVX-512, 32 with AVX, else 16 (SSE, NEON).
int64_t hostVectorBytes();

/// The host's architecture and CPU, e.g. "x86_64 znver3".
std::string hostCpuName();

/// What identifies the code generator: the LLVM version and the host CPU
/// with its features (an object file is only valid for the same).
std::string codeGeneratorId();

} // namespace keops::target

#endif // KEOPS_TARGET_HOSTCODE_H
