//===- DiskCacheTest.cpp - The on-disk kernel cache -------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// Entries round-trip, corrupt or torn entries read as missing (and are
// removed), entries that another user can have written (or that are not
// regular files) read as missing, concurrent writers leave a valid entry,
// and keys separate their parts.
//
//===----------------------------------------------------------------------===//

#include "DiskCache.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using keops::detail::DiskCache;

namespace {

class DiskCacheTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(
        llvm::sys::fs::createUniqueDirectory("keops-disk-cache", directory));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(directory); }

  std::string entryPath(llvm::StringRef key) {
    llvm::SmallString<256> path(directory);
    llvm::sys::path::append(path, key + ".kobj");
    return std::string(path);
  }

  void overwrite(llvm::StringRef key, llvm::StringRef content) {
    std::error_code error;
    llvm::raw_fd_ostream stream(entryPath(key), error);
    ASSERT_FALSE(error);
    stream << content;
  }

  llvm::SmallString<256> directory;
};

TEST_F(DiskCacheTest, StoredObjectsLoadBack) {
  DiskCache cache(directory.str().str());
  std::string object("\x7f" "ELF\0binary\nwith newlines", 24);
  EXPECT_FALSE(cache.load("k1"));
  cache.store("k1", object);
  std::optional<std::string> loaded = cache.load("k1");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, object);
}

TEST_F(DiskCacheTest, CorruptAndTornEntriesAreMissingAndRemoved) {
  DiskCache cache(directory.str().str());
  cache.store("k", "the object file");
  auto stored = llvm::MemoryBuffer::getFile(entryPath("k"));
  ASSERT_TRUE(stored);
  std::string content = (*stored)->getBuffer().str();

  std::string flipped = content;
  flipped.back() ^= 1;
  overwrite("k", flipped);
  EXPECT_FALSE(cache.load("k"));
  EXPECT_FALSE(llvm::sys::fs::exists(entryPath("k")));

  overwrite("k", llvm::StringRef(content).drop_back(3));
  EXPECT_FALSE(cache.load("k"));
  overwrite("k", "not a cache entry");
  EXPECT_FALSE(cache.load("k"));

  cache.store("k", "the object file");
  EXPECT_EQ(cache.load("k"), std::optional<std::string>("the object file"));
}

TEST_F(DiskCacheTest, ConcurrentWritersLeaveOneValidEntry) {
  DiskCache cache(directory.str().str());
  std::string object(1 << 20, 'x');
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&] { cache.store("shared", object); });
  for (std::thread &writer : writers)
    writer.join();
  EXPECT_EQ(cache.load("shared"), std::optional<std::string>(object));
  // No temporary file is left behind.
  std::error_code error;
  int files = 0;
  for (llvm::sys::fs::directory_iterator it(directory, error), end;
       it != end && !error; it.increment(error))
    ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(DiskCacheTest, DisabledCacheStoresNothing) {
  DiskCache cache("");
  EXPECT_FALSE(cache.isEnabled());
  cache.store("k", "object");
  EXPECT_FALSE(cache.load("k"));
}

TEST(DiskCacheKeyTest, KeysSeparateTheirParts) {
  EXPECT_EQ(DiskCache::key({"ab", "c"}), DiskCache::key({"ab", "c"}));
  EXPECT_NE(DiskCache::key({"ab", "c"}), DiskCache::key({"a", "bc"}));
  EXPECT_NE(DiskCache::key({"ab", "c"}), DiskCache::key({"ab", "d"}));
  EXPECT_EQ(DiskCache::key({"x"}).size(), 64u); // SHA-256 in hex
}

} // namespace

TEST_F(DiskCacheTest, OnlyEntriesThisUserAloneCanHaveWrittenLoad) {
  // Entries are the user's only whatever the umask; an entry that others
  // can write, a FIFO (which would block a read) or a link (to /dev/zero)
  // in place of an entry reads as missing, without hanging; as root, an
  // entry owned by another user too.
  DiskCache cache(directory.str().str());
  mode_t umaskBefore = ::umask(0);
  cache.store("k", "the object file");
  ::umask(umaskBefore);
  llvm::sys::fs::file_status status;
  ASSERT_FALSE(llvm::sys::fs::status(entryPath("k"), status));
  EXPECT_EQ(status.permissions(),
            llvm::sys::fs::owner_read | llvm::sys::fs::owner_write);
  ASSERT_TRUE(cache.load("k"));

  ASSERT_EQ(::chmod(entryPath("k").c_str(), 0666), 0);
  EXPECT_FALSE(cache.load("k"));

  ASSERT_EQ(::mkfifo(entryPath("fifo").c_str(), 0600), 0);
  EXPECT_FALSE(cache.load("fifo"));

  ASSERT_EQ(::symlink("/dev/zero", entryPath("link").c_str()), 0);
  EXPECT_FALSE(cache.load("link"));

  cache.store("theirs", "another object");
  ASSERT_TRUE(cache.load("theirs"));
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(entryPath("theirs").c_str(), 65534, 65534), 0);
    EXPECT_FALSE(cache.load("theirs"));
  }
}
