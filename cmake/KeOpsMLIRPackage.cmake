# cmake/KeOpsMLIRPackage.cmake - What `cmake --install` puts in a prefix: the
# headers (generated .inc files and .td files included), the libraries, the
# tools, libKeOpsRuntime.so, and the CMake package KeOpsMLIR whose exported
# targets other MLIR projects link (examples/downstream).
# SPDX-License-Identifier: MIT
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(KEOPS_INSTALL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/KeOpsMLIR)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/keops
                  ${PROJECT_SOURCE_DIR}/include/keops-c
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
install(DIRECTORY ${PROJECT_BINARY_DIR}/include/keops
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.inc"
        PATTERN "CMakeFiles" EXCLUDE)

# add_mlir_library installs each library into the export set MLIRTargets;
# the runtime, the umbrella target and the tools join it, and the set is
# installed under the KeOpsMLIR:: namespace.
get_property(KEOPS_MLIR_LIBRARIES GLOBAL PROPERTY MLIR_EXPORTS)
foreach(_lib IN LISTS KEOPS_MLIR_LIBRARIES)
  target_include_directories(${_lib} INTERFACE
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()
set_target_properties(KeOpsCompiler PROPERTIES EXPORT_NAME Compiler)
set_target_properties(KeOpsRuntime PROPERTIES EXPORT_NAME Runtime)
set_target_properties(KeOpsCAPI PROPERTIES EXPORT_NAME CAPI)

# KeOpsMLIR::KeOpsMLIR: the dialect, its passes, conversions and pipelines,
# and their registration (keops/InitAllKeOps.h).
add_library(KeOpsMLIR INTERFACE)
target_link_libraries(KeOpsMLIR INTERFACE KeOpsRegistration)

install(TARGETS KeOpsRuntime KeOpsMLIR EXPORT MLIRTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# Installed tools find libKeOpsRuntime beside them and libMLIR where it is.
set_target_properties(keops-aot keops-opt keops-run PROPERTIES INSTALL_RPATH
  "\$ORIGIN/../${CMAKE_INSTALL_LIBDIR};${LLVM_LIBRARY_DIR}")
install(TARGETS keops-aot keops-opt keops-run EXPORT MLIRTargets
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT MLIRTargets NAMESPACE KeOpsMLIR::
        FILE KeOpsMLIRTargets.cmake DESTINATION ${KEOPS_INSTALL_CMAKE_DIR})

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/KeOpsMLIRConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/KeOpsMLIRConfig.cmake
  INSTALL_DESTINATION ${KEOPS_INSTALL_CMAKE_DIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/KeOpsMLIRConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/KeOpsMLIRConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/KeOpsMLIRConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/KeOpsAddKernelLibrary.cmake
        DESTINATION ${KEOPS_INSTALL_CMAKE_DIR})
