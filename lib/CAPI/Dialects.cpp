//===- Dialects.cpp - The C API of the keops dialect ------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements include/keops-c/Dialects.h over the C++ registration
// of lib/Registration.
//
//===----------------------------------------------------------------------===//

#include "keops-c/Dialects.h"

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/InitAllKeOps.h"

#include "mlir/CAPI/Registration.h"

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(KeOps, keops,
                                      mlir::keops::KeOpsDialect)

void mlirKeOpsRegisterAllDialects(MlirDialectRegistry registry) {
  mlir::keops::registerAllKeOpsDialects(*unwrap(registry));
}

void mlirKeOpsRegisterAllPasses(void) { mlir::keops::registerAllKeOpsPasses(); }
