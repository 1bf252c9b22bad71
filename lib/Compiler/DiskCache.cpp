//===- DiskCache.cpp - The on-disk cache of kernel objects ------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements DiskCache. An entry <key>.kobj holds a header line
// "keops-object <sha256 of the payload>" and the object file. The key covers
// the build of the compiler itself (the file holding this code: its path,
// size and modification time), so that rebuilding the compiler never serves
// objects made by the previous build.
//
//===----------------------------------------------------------------------===//

#include "DiskCache.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <dlfcn.h>
#include <mutex>

namespace keops::detail {
namespace {

constexpr llvm::StringLiteral kMagic = "keops-object ";

std::string sha256Hex(llvm::StringRef data) {
  return llvm::toHex(llvm::SHA256::hash(llvm::arrayRefFromStringRef(data)),
                     /*LowerCase=*/true);
}

/// Path, size and modification time of the file holding this code.
std::string buildId() {
  Dl_info info;
  if (!dladdr(reinterpret_cast<void *>(&sha256Hex), &info) || !info.dli_fname)
    return "unknown-build";
  llvm::sys::fs::file_status status;
  if (llvm::sys::fs::status(info.dli_fname, status))
    return info.dli_fname;
  return std::string(info.dli_fname) + "|" + std::to_string(status.getSize()) +
         "|" +
         std::to_string(
             status.getLastModificationTime().time_since_epoch().count());
}

} // namespace

std::string DiskCache::defaultDirectory() {
  llvm::SmallString<256> path;
  if (std::optional<std::string> configured =
          llvm::sys::Process::GetEnv("KEOPS_CACHE_DIR")) {
    if (*configured == "off")
      return "";
    path = *configured;
  } else if (std::optional<std::string> xdg =
                 llvm::sys::Process::GetEnv("XDG_CACHE_HOME")) {
    path = *xdg;
    llvm::sys::path::append(path, "keops-mlir", KEOPS_MLIR_VERSION);
  } else if (llvm::sys::path::home_directory(path)) {
    llvm::sys::path::append(path, ".cache", "keops-mlir", KEOPS_MLIR_VERSION);
  } else {
    return "";
  }
  if (llvm::sys::fs::create_directories(path))
    return "";
  return std::string(path);
}

namespace {

/// The cache of the process, replaced by DiskCache::use.
struct CurrentCache {
  std::mutex mutex;
  std::shared_ptr<const DiskCache> cache =
      std::make_shared<const DiskCache>(DiskCache::defaultDirectory());
};

CurrentCache &currentCache() {
  static CurrentCache *instance = new CurrentCache; // used until exit
  return *instance;
}

} // namespace

std::shared_ptr<const DiskCache> DiskCache::current() {
  CurrentCache &current = currentCache();
  std::lock_guard<std::mutex> lock(current.mutex);
  return current.cache;
}

llvm::Error DiskCache::use(llvm::StringRef directory) {
  std::string chosen;
  if (!directory.empty() && directory != "off") {
    if (std::error_code error = llvm::sys::fs::create_directories(directory))
      return llvm::createStringError(error, "cannot create the cache directory '" +
                                                directory + "': " +
                                                error.message());
    // An existing file passes create_directories, and an unwritable
    // directory would drop every entry: refuse both, keeping the cache in
    // use.
    if (!llvm::sys::fs::is_directory(directory))
      return llvm::createStringError(
          std::make_error_code(std::errc::not_a_directory),
          "the cache directory '" + directory + "' is not a directory");
    if (llvm::sys::fs::access(directory, llvm::sys::fs::AccessMode::Write))
      return llvm::createStringError(
          std::make_error_code(std::errc::permission_denied),
          "the cache directory '" + directory + "' is not writable");
    chosen = directory.str();
  }
  CurrentCache &current = currentCache();
  std::lock_guard<std::mutex> lock(current.mutex);
  current.cache = std::make_shared<const DiskCache>(std::move(chosen));
  return llvm::Error::success();
}

std::string DiskCache::key(llvm::ArrayRef<llvm::StringRef> parts) {
  static const std::string build = buildId();
  llvm::SHA256 hash;
  hash.update(build);
  for (llvm::StringRef part : parts) {
    // Length-prefixed, so that no two lists of parts hash alike.
    hash.update(std::to_string(part.size()) + ":");
    hash.update(part);
  }
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

std::string DiskCache::path(llvm::StringRef key) const {
  llvm::SmallString<256> result(directory);
  llvm::sys::path::append(result, key + ".kobj");
  return std::string(result);
}

std::optional<std::string> DiskCache::load(llvm::StringRef key) const {
  if (!isEnabled())
    return std::nullopt;
  auto buffer = llvm::MemoryBuffer::getFile(path(key), /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return std::nullopt;
  auto [header, payload] = (*buffer)->getBuffer().split('\n');
  if (!header.consume_front(kMagic) || header != sha256Hex(payload)) {
    remove(key);
    return std::nullopt;
  }
  return payload.str();
}

void DiskCache::store(llvm::StringRef key, llvm::StringRef object) const {
  if (!isEnabled())
    return;
  llvm::SmallString<256> temporary;
  int fd;
  if (llvm::sys::fs::createUniqueFile(path(key) + ".%%%%%%.tmp", fd,
                                      temporary))
    return;
  {
    llvm::raw_fd_ostream stream(fd, /*shouldClose=*/true);
    stream << kMagic << sha256Hex(object) << '\n' << object;
    stream.close();
    if (stream.has_error()) {
      stream.clear_error();
      llvm::sys::fs::remove(temporary);
      return;
    }
  }
  if (llvm::sys::fs::rename(temporary, path(key)))
    llvm::sys::fs::remove(temporary);
}

void DiskCache::remove(llvm::StringRef key) const {
  if (isEnabled())
    llvm::sys::fs::remove(path(key));
}

} // namespace keops::detail
