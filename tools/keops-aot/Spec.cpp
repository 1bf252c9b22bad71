//===- Spec.cpp - What a kernel library holds -------------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file reads and checks keops-aot library specifications with
// llvm::json; errors name the file and the JSON path of the bad value.
//
//===----------------------------------------------------------------------===//

#include "Spec.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cctype>

namespace keops::aot {
namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

} // namespace

// llvm::json finds these by argument-dependent lookup.

bool fromJSON(const llvm::json::Value &value, KernelSpec &kernel,
              llvm::json::Path path) {
  llvm::json::ObjectMapper mapper(value, path);
  return mapper && mapper.map("name", kernel.name) &&
         mapper.map("formula", kernel.formula) &&
         mapper.map("aliases", kernel.aliases) &&
         mapper.mapOptional("dtype", kernel.dtype) &&
         mapper.mapOptional("gradients", kernel.gradients);
}

bool fromJSON(const llvm::json::Value &value, LibrarySpec &spec,
              llvm::json::Path path) {
  llvm::json::ObjectMapper mapper(value, path);
  return mapper && mapper.map("name", spec.name) &&
         mapper.map("kernels", spec.kernels);
}

bool isCIdentifier(const std::string &name) {
  static const char *const keywords[] = {
      "auto",     "break",   "case",     "char",   "const",    "continue",
      "default",  "do",      "double",   "else",   "enum",     "extern",
      "float",    "for",     "goto",     "if",     "inline",   "int",
      "long",     "register", "restrict", "return", "short",   "signed",
      "sizeof",   "static",  "struct",   "switch", "typedef",  "union",
      "unsigned", "void",    "volatile", "while",  "_Bool",    "bool"};
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return !llvm::is_contained(keywords, name);
}

llvm::Expected<LibrarySpec> readSpec(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError("cannot read the spec " + path + ": " +
                     buffer.getError().message());
  auto json = llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return makeError(path + ": " + llvm::toString(json.takeError()));
  LibrarySpec spec;
  llvm::json::Path::Root root("spec");
  if (!fromJSON(*json, spec, root)) {
    std::string message;
    llvm::raw_string_ostream stream(message);
    root.printErrorContext(*json, stream);
    return makeError(path + ": " + llvm::toString(root.getError()) + "\n" +
                     message);
  }
  return spec;
}

llvm::Error checkSpec(const LibrarySpec &spec) {
  if (!isCIdentifier(spec.name))
    return makeError("the library name '" + spec.name +
                     "' is not a C identifier");
  if (spec.kernels.empty())
    return makeError("the library '" + spec.name + "' has no kernels");
  llvm::StringSet<> names;
  for (const KernelSpec &kernel : spec.kernels) {
    if (!isCIdentifier(kernel.name))
      return makeError("the kernel name '" + kernel.name +
                       "' is not a C identifier");
    if (!names.insert(kernel.name).second)
      return makeError("two kernels are named '" + kernel.name + "'");
  }
  return llvm::Error::success();
}

} // namespace keops::aot
