//===- DiskCacheTest.cpp - The on-disk kernel cache -------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// Entries round-trip, corrupt or torn entries read as missing (and are
// removed), concurrent writers leave a valid entry, and keys separate their
// parts.
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
