//===- Npy.h - Reading and writing NumPy .npy files -------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the .npy reader and writer of keops-run: C-contiguous,
// little-endian float32, float64 and int64 arrays of rank 1 or 2.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_TOOLS_KEOPS_RUN_NPY_H
#define KEOPS_TOOLS_KEOPS_RUN_NPY_H

#include "keops/Runtime/KeOpsRuntime.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace keops::npy {

struct Array {
  keops_rt_dtype_t dtype;
  std::vector<int64_t> shape;
  std::vector<char> bytes;
};

/// Reads a .npy file; errors name the file and the problem.
llvm::Expected<Array> read(const std::string &path);
/// Writes `rows x cols` elements of `dtype` from `data` as a rank-2 array.
llvm::Error write(const std::string &path, keops_rt_dtype_t dtype,
                  int64_t rows, int64_t cols, const void *data);

} // namespace keops::npy

#endif // KEOPS_TOOLS_KEOPS_RUN_NPY_H
