//===- DiskCache.h - The on-disk cache of kernel objects --------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the cache of compiled kernel object files that
// processes share: entries are named by a SHA-256 key, written atomically
// (temporary file + rename), and checked by a digest of their content when
// read, so that a torn or corrupt entry is detected and rebuilt.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_COMPILER_DISKCACHE_H
#define KEOPS_LIB_COMPILER_DISKCACHE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>

namespace keops::detail {

class DiskCache {
public:
  /// The cache of this process: $KEOPS_CACHE_DIR if set ("off" disables
  /// it), else $XDG_CACHE_HOME/keops-mlir/<version>, else
  /// ~/.cache/keops-mlir/<version>; disabled when it cannot be created.
  /// Later calls see the directory chosen by `use`.
  static std::shared_ptr<const DiskCache> current();

  /// The directory `current` starts with (created; "" when none).
  static std::string defaultDirectory();

  /// Makes `directory` (created if needed; "" or "off": no cache) the cache
  /// of this process.
  static llvm::Error use(llvm::StringRef directory);

  explicit DiskCache(std::string directory) : directory(std::move(directory)) {}

  bool isEnabled() const { return !directory.empty(); }
  const std::string &getDirectory() const { return directory; }

  /// A key for `parts`, which also covers this build of the compiler.
  static std::string key(llvm::ArrayRef<llvm::StringRef> parts);

  /// The object stored under `key`, or nothing when there is none, it is
  /// corrupt, or another user can have written it (then it is removed,
  /// where this user may).
  std::optional<std::string> load(llvm::StringRef key) const;

  /// Stores `object` under `key`; failures leave the cache unchanged (it is
  /// only an optimization).
  void store(llvm::StringRef key, llvm::StringRef object) const;

  /// Removes the entry of `key`, if any.
  void remove(llvm::StringRef key) const;

private:
  std::string path(llvm::StringRef key) const;

  std::string directory; // empty: disabled
};

} // namespace keops::detail

#endif // KEOPS_LIB_COMPILER_DISKCACHE_H
