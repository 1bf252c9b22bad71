//===- Spec.h - What a kernel library holds ---------------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the specification of a keops-aot kernel library (its
// name and kernels: name, formula, aliases, dtype), read from a JSON file or
// from the command line, and checked: names are C identifiers, unique.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_TOOLS_KEOPS_AOT_SPEC_H
#define KEOPS_TOOLS_KEOPS_AOT_SPEC_H

#include "llvm/Support/Error.h"

#include <string>
#include <utility>
#include <vector>

namespace keops::aot {

/// The gradient of a kernel with respect to one of its variables: the
/// library kernel that computes it, and what that kernel reads after the
/// forward variables.
struct GradientSpec {
  unsigned wrt = 0;
  /// Empty for a zero gradient (argmin, argmax, argkmin).
  std::string kernel;
  /// (kind, kernel): kind "eta", "output" or "column" (no kernel), or
  /// "logsumexp" or "indices" and the library kernel that computes it.
  std::vector<std::pair<std::string, std::string>> inputs;
  bool sumRows = false;
};

struct KernelSpec {
  std::string name, formula;
  std::vector<std::string> aliases;
  std::string dtype = "float32";
  /// Whether the library also holds the kernels of its gradients.
  bool gradients = false;
  /// Those kernels, by variable (set by keops-aot).
  std::vector<GradientSpec> gradientKernels;
};

struct LibrarySpec {
  std::string name;
  std::vector<KernelSpec> kernels;
};

/// Reads `{"name": LIB, "kernels": [{"name", "formula", "aliases": [...],
/// "dtype"}, ...]}` ("dtype" is optional: float32) from `path`.
llvm::Expected<LibrarySpec> readSpec(const std::string &path);

/// Checks that the library and kernel names are C identifiers (not C
/// keywords) and the kernel names unique, and that there is a kernel.
llvm::Error checkSpec(const LibrarySpec &spec);

/// Whether `name` is a C identifier that is not a keyword.
bool isCIdentifier(const std::string &name);

} // namespace keops::aot

#endif // KEOPS_TOOLS_KEOPS_AOT_SPEC_H
