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
#include <vector>

namespace keops::aot {

struct KernelSpec {
  std::string name, formula;
  std::vector<std::string> aliases;
  std::string dtype = "float32";
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
