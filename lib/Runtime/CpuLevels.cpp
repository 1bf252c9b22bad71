//===- CpuLevels.cpp - CPU kernels compiled for several CPUs ----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops_rt_cpu_runs and
// keops_rt_kernel_create_cpu_variants: the kernels of an AOT library come
// compiled for x86-64 microarchitecture levels, and the runtime picks the
// best one this CPU runs, so that code for a CPU the machine lacks is never
// entered (a clear status, not SIGILL).
//
//===----------------------------------------------------------------------===//

#include "Status.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

/// The names of the levels: 0 is "native" (a CPU that is not x86-64, or
/// code for this one, unchecked), N the x86-64 level N.
constexpr const char *kLevelNames[] = {"native", "x86-64", "x86-64-v2",
                                       "x86-64-v3", "x86-64-v4"};

/// The level of `arch`, -1 for an arch this runtime does not know.
int levelOf(const char *arch) {
  if (!arch)
    return -1;
  for (int level = 0; level < 5; ++level)
    if (!std::strcmp(arch, kLevelNames[level]))
      return level;
  return -1;
}

/// The highest x86-64 level this CPU runs (its features, and the OS's
/// support of their registers, as __builtin_cpu_supports checks them), at
/// most $KEOPS_RT_MAX_CPU_LEVEL (a level name) when that is set.
int hostLevel() {
#if defined(__x86_64__)
  // __builtin_cpu_supports takes string literals only.
  int level = __builtin_cpu_supports("x86-64-v4")   ? 4
              : __builtin_cpu_supports("x86-64-v3") ? 3
              : __builtin_cpu_supports("x86-64-v2") ? 2
                                                    : 1;
  if (const char *cap = std::getenv("KEOPS_RT_MAX_CPU_LEVEL"))
    if (levelOf(cap) > 0)
      level = std::min(level, levelOf(cap));
  return level;
#else
  return 0;
#endif
}

std::string levelName(int level) {
  return level <= 0 ? std::string("a CPU that is not x86-64")
                    : kLevelNames[level];
}

} // namespace

extern "C" {

const char *keops_rt_cpu_level(void) { return kLevelNames[hostLevel()]; }

int32_t keops_rt_cpu_runs(const char *arch) {
  int level = levelOf(arch);
  if (level == 0)
    return 1;
  return level > 0 && level <= hostLevel();
}

keops_rt_status_t keops_rt_kernel_create_cpu_variants(
    int32_t count, const keops_rt_kernel_desc_t *descs,
    const keops_rt_cpu_entry_t *entries, keops_rt_kernel_t **out_kernel) {
  if (count < 1 || !descs || !entries || !out_kernel)
    return keops::rt::invalidArgument(
        "keops_rt_kernel_create_cpu_variants: no variants or a null argument");
  std::string archs;
  for (int32_t v = 0; v < count; ++v) {
    const char *arch = descs[v].arch ? descs[v].arch : "";
    if (levelOf(arch) < 0)
      return keops::rt::invalidArgument(
          "keops_rt_kernel_create_cpu_variants: unknown CPU level '" +
          std::string(arch) +
          "' (expected x86-64, x86-64-v2, x86-64-v3, x86-64-v4 or native)");
    if (keops_rt_cpu_runs(arch))
      return keops_rt_kernel_create_cpu(&descs[v], entries[v], nullptr,
                                        nullptr, out_kernel);
    archs += (v ? ", " : "") + std::string(arch);
  }
  return keops::rt::makeStatus(
      KEOPS_RT_UNSUPPORTED_CPU,
      "kernel '" + std::string(descs[0].name ? descs[0].name : "kernel") +
          "' was compiled for " + archs + ", which this CPU (" +
          levelName(hostLevel()) +
          ") does not run; rebuild it for this CPU's level (keops-aot "
          "--cpu)");
}

} // extern "C"
