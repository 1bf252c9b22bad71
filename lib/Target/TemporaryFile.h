//===- TemporaryFile.h - Files that code generators go through --*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file defines the temporary files of lib/Target: ExecutionEngine only
// dumps its object to a file, and ptxas reads and writes files.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_TARGET_TEMPORARYFILE_H
#define KEOPS_LIB_TARGET_TEMPORARYFILE_H

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <string>

namespace keops::target {

/// A temporary file, removed at scope exit; `error` says why it could not
/// be created.
struct TemporaryFile {
  explicit TemporaryFile(llvm::StringRef suffix) {
    error = llvm::sys::fs::createTemporaryFile("keops-kernel", suffix, path);
  }
  ~TemporaryFile() { llvm::sys::fs::remove(path); }
  TemporaryFile(const TemporaryFile &) = delete;
  TemporaryFile &operator=(const TemporaryFile &) = delete;

  llvm::SmallString<128> path;
  std::error_code error;
};

/// The bytes of the file at `path`.
inline llvm::Expected<std::string> readFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::errorCodeToError(buffer.getError());
  return (*buffer)->getBuffer().str();
}

} // namespace keops::target

#endif // KEOPS_LIB_TARGET_TEMPORARYFILE_H
