//===- Elements.h - Array elements of every runtime dtype -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the double-precision access to the elements of the
// runtime's dtypes (float16 through the compiler's _Float16), for the tools
// and the float64 reference that read and write arrays element by element.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_COMPILER_ELEMENTS_H
#define KEOPS_COMPILER_ELEMENTS_H

#include "keops/Runtime/KeOpsRuntime.h"

#include <cstdint>

namespace keops {

/// Element `index` of an array of `dtype`, as a double.
inline double readElement(const void *data, keops_rt_dtype_t dtype,
                          int64_t index) {
  switch (dtype) {
  case KEOPS_RT_FLOAT16:
    return static_cast<double>(static_cast<const _Float16 *>(data)[index]);
  case KEOPS_RT_FLOAT32:
    return static_cast<const float *>(data)[index];
  case KEOPS_RT_FLOAT64:
    return static_cast<const double *>(data)[index];
  case KEOPS_RT_INT64:
    return static_cast<double>(static_cast<const int64_t *>(data)[index]);
  }
  return 0;
}

/// Stores `value` (rounded to `dtype`) as element `index`.
inline void writeElement(void *data, keops_rt_dtype_t dtype, int64_t index,
                         double value) {
  switch (dtype) {
  case KEOPS_RT_FLOAT16:
    static_cast<_Float16 *>(data)[index] = static_cast<_Float16>(value);
    return;
  case KEOPS_RT_FLOAT32:
    static_cast<float *>(data)[index] = static_cast<float>(value);
    return;
  case KEOPS_RT_FLOAT64:
    static_cast<double *>(data)[index] = value;
    return;
  case KEOPS_RT_INT64:
    static_cast<int64_t *>(data)[index] = static_cast<int64_t>(value);
    return;
  }
}

/// `value` rounded to `dtype` (beyond its range: an infinity), as a double.
inline double roundToDtype(double value, keops_rt_dtype_t dtype) {
  alignas(8) char element[8];
  writeElement(element, dtype, 0, value);
  return readElement(element, dtype, 0);
}

} // namespace keops

#endif // KEOPS_COMPILER_ELEMENTS_H
