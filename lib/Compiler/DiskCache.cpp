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
// Loading an entry runs its code, so only entries that this user alone can
// have written load: regular files (not a link, a FIFO or a device, opened
// without following links or blocking) owned by the effective user and not
// writable by the group or others. Entries and the directories the cache
// creates are the user's only (0600, 0700), whatever the umask.
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
#include <fcntl.h>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

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

/// The content of the file at `path` when this user alone can have written
/// it (see the file comment); none otherwise.
std::optional<std::string> readTrustedFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  struct stat status;
  std::optional<std::string> content;
  if (::fstat(fd, &status) == 0 && S_ISREG(status.st_mode) &&
      status.st_uid == ::geteuid() &&
      !(status.st_mode & (S_IWGRP | S_IWOTH))) {
    content.emplace(static_cast<size_t>(status.st_size), '\0');
    size_t done = 0;
    while (done < content->size()) {
      ssize_t got = ::read(fd, content->data() + done, content->size() - done);
      if (got <= 0)
        break;
      done += static_cast<size_t>(got);
    }
    if (done != content->size())
      content.reset();
  }
  ::close(fd);
  return content;
}

const llvm::sys::fs::perms kDirectoryPerms = llvm::sys::fs::owner_all;
const unsigned kEntryPerms =
    llvm::sys::fs::owner_read | llvm::sys::fs::owner_write;

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
  if (llvm::sys::fs::create_directories(path, /*IgnoreExisting=*/true,
                                        kDirectoryPerms))
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
    if (std::error_code error = llvm::sys::fs::create_directories(
            directory, /*IgnoreExisting=*/true, kDirectoryPerms))
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
  if (!llvm::sys::fs::exists(path(key)))
    return std::nullopt;
  std::optional<std::string> content = readTrustedFile(path(key));
  llvm::StringRef header, payload;
  if (content)
    std::tie(header, payload) = llvm::StringRef(*content).split('\n');
  if (!content || !header.consume_front(kMagic) ||
      header != sha256Hex(payload)) {
    remove(key); // (fails, harmlessly, for another user's entry)
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
                                      temporary, llvm::sys::fs::OF_None,
                                      kEntryPerms))
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
