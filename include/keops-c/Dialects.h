/*===- Dialects.h - The C API of the keops dialect ---------------*- C -*-===//
 *
 * This file is licensed under the MIT License.
 * SPDX-License-Identifier: MIT
 *
 *===----------------------------------------------------------------------===//
 *
 * The keops dialect in MLIR's C API, for bindings of other languages: the
 * dialect handle by MLIR's convention (mlirGetDialectHandle__keops__, used
 * with mlirDialectHandleRegisterDialect / LoadDialect), the dialects and
 * interfaces the keops lowerings need, and the registration of the keops
 * passes and pipelines (keops-lower-to-cpu, keops-lower-to-llvm, ...) for
 * mlirParsePassPipeline. Link KeOpsMLIR::CAPI and the MLIR C API.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KEOPS_C_DIALECTS_H
#define KEOPS_C_DIALECTS_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(KeOps, keops);

/* Inserts into `registry` the keops dialect and every dialect and interface
 * its passes and pipelines use (registerAllKeOpsDialects). */
MLIR_CAPI_EXPORTED void
mlirKeOpsRegisterAllDialects(MlirDialectRegistry registry);

/* Registers the keops passes and pipelines with the global pass registry
 * (registerAllKeOpsPasses). */
MLIR_CAPI_EXPORTED void mlirKeOpsRegisterAllPasses(void);

#ifdef __cplusplus
}
#endif

#endif /* KEOPS_C_DIALECTS_H */
