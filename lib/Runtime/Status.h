//===- Status.h - Making runtime status objects -----------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the constructor of keops_rt_status_t used inside the
// runtime.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_LIB_RUNTIME_STATUS_H
#define KEOPS_LIB_RUNTIME_STATUS_H

#include "keops/Runtime/KeOpsRuntime.h"

#include <string>

namespace keops::rt {

/// A failed status with `code` and `message`.
keops_rt_status_t makeStatus(keops_rt_code_t code, std::string message);

inline keops_rt_status_t invalidArgument(std::string message) {
  return makeStatus(KEOPS_RT_INVALID_ARGUMENT, std::move(message));
}

/// Whether the caller of a run asked it to stop (args.interrupt).
inline bool isInterrupted(const keops_rt_run_args_t &args) {
  return args.interrupt && *args.interrupt;
}

/// The status of a run of `name` that its interrupt flag stopped.
inline keops_rt_status_t interrupted(const std::string &name) {
  return makeStatus(KEOPS_RT_INTERRUPTED,
                    name + ": interrupted (the outputs are incomplete)");
}

} // namespace keops::rt

#endif // KEOPS_LIB_RUNTIME_STATUS_H
