//===- ReducedColumns.cpp - The reduced variables, component-major -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements ReducedColumns: the copies of the reduced variables
// in the component-major layout of the CPU kernel ABI, either whole (on all
// threads, in chunks of columns) or one column slice at a time into a
// thread's own buffer (which then stays in cache while the kernel reads it).
// Variables of dimension 1 need no copy: both layouts are the same.
//
//===----------------------------------------------------------------------===//

#include "Kernel.h"

#include <algorithm>

namespace keops::rt {
namespace {

/// Copies rows [begin, end) of a row-major (rows x dim) array into
/// component-major `out` with leading dimension `ld`, row r at r - begin.
template <typename T>
void transpose(const T *in, int64_t dim, int64_t begin, int64_t end,
               int64_t ld, T *out) {
  for (int64_t r = begin; r < end; ++r)
    for (int64_t d = 0; d < dim; ++d)
      out[d * ld + (r - begin)] = in[r * dim + d];
}

} // namespace

ReducedColumns::ReducedColumns(const keops_rt_kernel_s &kernel,
                               const keops_rt_run_args_t &args, int64_t cols)
    : kernel(kernel), args(args), cols(cols),
      elementSize(keops_rt_dtype_size(kernel.dtype)) {
  keops_rt_category_t colCategory = kernel.rowCategory == KEOPS_RT_CATEGORY_I
                                        ? KEOPS_RT_CATEGORY_J
                                        : KEOPS_RT_CATEGORY_I;
  for (size_t k = 0; k < kernel.categories.size(); ++k)
    if (kernel.categories[k] == colCategory && kernel.dims[k] > 1) {
      wide.push_back(k);
      sliceDims += kernel.dims[k];
    }
}

void ReducedColumns::copy(size_t k, int64_t begin, int64_t end, int64_t ld,
                          char *out) const {
  const void *in = args.inputs[k].data;
  int64_t dim = kernel.dims[k];
  if (kernel.dtype == KEOPS_RT_FLOAT32)
    transpose(static_cast<const float *>(in), dim, begin, end, ld,
              reinterpret_cast<float *>(out));
  else
    transpose(static_cast<const double *>(in), dim, begin, end, ld,
              reinterpret_cast<double *>(out));
}

void ReducedColumns::transposeAll(std::vector<keops_rt_buffer_t> &buffers,
                                  int64_t threads) {
  for (size_t k : wide) {
    whole.emplace_back(std::max<int64_t>(cols * kernel.dims[k], 1) *
                       elementSize);
    buffers[k] = bufferOf(whole.back().data(), cols * kernel.dims[k]);
  }
  constexpr int64_t kChunk = 1 << 14;
  int64_t chunks = (cols + kChunk - 1) / kChunk;
  parallelFor(std::min(threads, chunks), chunks, [&](int64_t chunk, int64_t) {
    int64_t begin = chunk * kChunk, end = std::min(cols, begin + kChunk);
    for (size_t n = 0; n < wide.size(); ++n)
      copy(wide[n], begin, end, cols,
           whole[n].data() + begin * elementSize);
  });
}

void ReducedColumns::transposeSlice(KernelCall &call, std::vector<char> &slice,
                                    int64_t begin, int64_t end) const {
  int64_t count = end - begin;
  slice.resize(std::max<int64_t>(count * sliceDims, 1) * elementSize);
  char *next = slice.data();
  for (size_t k : wide) {
    copy(k, begin, end, count, next);
    // The kernel reads column c at c: the base sits `begin` columns before.
    char *base = next - begin * static_cast<int64_t>(elementSize);
    call.buffer(k) = {base, base, 0, cols * kernel.dims[k], 1};
    next += count * kernel.dims[k] * elementSize;
  }
}

} // namespace keops::rt
