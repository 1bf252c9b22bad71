# KeOpsAddKernelLibrary.cmake - keops_add_kernel_library, part of the
# KeOpsMLIR CMake package:
#
#   keops_add_kernel_library(<target> SPEC <spec.json> [CPU <level>...])
#
# builds, at build time, the kernel library of a keops-aot spec
# ({"name": LIB, "kernels": [...]}) into ${CMAKE_CURRENT_BINARY_DIR}/<target>
# and defines <target>, which a program links to call the kernels through
# LIB.h (the static libLIB.a and KeOpsMLIR::Runtime). CPU: the levels to
# compile for (default: the build machine's).
# SPDX-License-Identifier: MIT
function(keops_add_kernel_library target)
  cmake_parse_arguments(ARG "" "SPEC" "CPU" ${ARGN})
  if(NOT ARG_SPEC)
    message(FATAL_ERROR "keops_add_kernel_library(${target}): SPEC is required")
  endif()
  get_filename_component(spec "${ARG_SPEC}" ABSOLUTE)
  file(READ "${spec}" json)
  string(JSON name ERROR_VARIABLE error GET "${json}" name)
  if(error)
    message(FATAL_ERROR "keops_add_kernel_library(${target}): ${spec}: ${error}")
  endif()
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/${target}")
  set(cpu)
  if(ARG_CPU)
    list(JOIN ARG_CPU "," levels)
    set(cpu "--cpu=${levels}")
  endif()
  set(outputs "${dir}/${name}.h" "${dir}/lib${name}.a" "${dir}/lib${name}.so"
              "${dir}/${name}.json")
  add_custom_command(OUTPUT ${outputs}
    COMMAND KeOpsMLIR::keops-aot --spec "${spec}" -o "${dir}" ${cpu}
    DEPENDS "${spec}"
    COMMENT "keops-aot: kernel library ${name}"
    VERBATIM)
  add_custom_target(${target}-build DEPENDS ${outputs})
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}-build)
  target_include_directories(${target} INTERFACE "${dir}")
  target_link_libraries(${target} INTERFACE "${dir}/lib${name}.a"
                        KeOpsMLIR::Runtime m)
endfunction()
