//===- Status.cpp - Status objects of the runtime C API ---------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops_rt_status_t: a heap object with a code and a
// message, NULL meaning success.
//
//===----------------------------------------------------------------------===//

#include "Status.h"

#include <cstdarg>
#include <cstdio>

struct keops_rt_status_s {
  keops_rt_code_t code;
  std::string message;
};

keops_rt_status_t keops::rt::makeStatus(keops_rt_code_t code,
                                        std::string message) {
  return new keops_rt_status_s{code, std::move(message)};
}

extern "C" {

keops_rt_code_t keops_rt_status_code(keops_rt_status_t status) {
  return status ? status->code : KEOPS_RT_OK;
}

const char *keops_rt_status_message(keops_rt_status_t status) {
  return status ? status->message.c_str() : "ok";
}

void keops_rt_status_free(keops_rt_status_t status) { delete status; }

} // extern "C"
