//===- Npy.cpp - Reading and writing NumPy .npy files -----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the .npy format (version 1.0 and 2.0 headers): magic
// "\x93NUMPY", version, header length, then a Python dict literal with
// 'descr', 'fortran_order' and 'shape', padded to 64 bytes.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace keops;

static llvm::Error npyError(const std::string &path, const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + what);
}

/// The value of `key` in the header dict (text up to the next ',' or '}';
/// for the shape, up to the closing ')').
static llvm::StringRef headerValue(llvm::StringRef header, llvm::StringRef key) {
  size_t at = header.find("'" + key.str() + "'");
  if (at == llvm::StringRef::npos)
    return {};
  llvm::StringRef rest = header.drop_front(at).split(':').second.trim();
  if (rest.starts_with("("))
    return rest.take_until([](char c) { return c == ')'; }).drop_front();
  return rest.take_until([](char c) { return c == ',' || c == '}'; }).trim();
}

llvm::Expected<npy::Array> npy::read(const std::string &path) {
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!file)
    return npyError(path, "cannot read: " + file.getError().message());
  llvm::StringRef data = (*file)->getBuffer();
  if (!data.starts_with("\x93NUMPY") || data.size() < 10)
    return npyError(path, "not a .npy file");
  unsigned major = static_cast<unsigned char>(data[6]);
  size_t lengthBytes = major == 1 ? 2 : 4;
  size_t headerLength = 0;
  for (size_t k = 0; k < lengthBytes; ++k)
    headerLength |= static_cast<size_t>(static_cast<unsigned char>(data[8 + k]))
                    << (8 * k);
  size_t offset = 8 + lengthBytes + headerLength;
  if (offset > data.size())
    return npyError(path, "truncated header");
  llvm::StringRef header = data.slice(8 + lengthBytes, offset);

  Array array;
  llvm::StringRef descr = headerValue(header, "descr").trim("'\"");
  if (descr == "<f2")
    array.dtype = KEOPS_RT_FLOAT16;
  else if (descr == "<f4")
    array.dtype = KEOPS_RT_FLOAT32;
  else if (descr == "<f8")
    array.dtype = KEOPS_RT_FLOAT64;
  else if (descr == "<i8")
    array.dtype = KEOPS_RT_INT64;
  else
    return npyError(path, "unsupported dtype '" + descr +
                              "' (expected float16, float32, float64 or int64)");
  if (headerValue(header, "fortran_order") != "False")
    return npyError(path, "Fortran-ordered arrays are not supported");
  llvm::SmallVector<llvm::StringRef> dims;
  headerValue(header, "shape").split(dims, ',', -1, /*KeepEmpty=*/false);
  int64_t count = 1;
  for (llvm::StringRef dim : dims) {
    int64_t value;
    if (dim.trim().getAsInteger(10, value) || value < 0)
      return npyError(path, "bad shape in header");
    array.shape.push_back(value);
    // The element count and the bytes, without wrapping around: no file
    // holds more bytes than the data read.
    if (value && count > static_cast<int64_t>(data.size()) / value)
      return npyError(path, "shape in header larger than the file");
    count *= value;
  }
  size_t bytes = static_cast<size_t>(count) * keops_rt_dtype_size(array.dtype);
  if (data.size() - offset < bytes)
    return npyError(path, "truncated data: expected " + llvm::Twine(bytes) +
                              " bytes");
  array.bytes.assign(data.begin() + offset, data.begin() + offset + bytes);
  return std::move(array);
}

llvm::Error npy::write(const std::string &path, keops_rt_dtype_t dtype,
                       int64_t rows, int64_t cols, const void *data) {
  std::string header = std::string("{'descr': '") +
                       (dtype == KEOPS_RT_FLOAT16   ? "<f2"
                        : dtype == KEOPS_RT_FLOAT32 ? "<f4"
                        : dtype == KEOPS_RT_FLOAT64 ? "<f8"
                                                    : "<i8") +
                       "', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows) + ", " + std::to_string(cols) +
                       "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::error_code error;
  llvm::raw_fd_ostream out(path, error);
  if (error)
    return npyError(path, "cannot write: " + error.message());
  out << "\x93NUMPY" << '\x01' << '\x00';
  out << static_cast<char>(header.size() & 0xff)
      << static_cast<char>(header.size() >> 8) << header;
  out.write(static_cast<const char *>(data),
            rows * cols * keops_rt_dtype_size(dtype));
  return llvm::Error::success();
}
