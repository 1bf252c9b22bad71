//===- KeOps.h - The keops dialect: attributes, interfaces, ops -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file is the umbrella header of the keops dialect: include it to use the
// dialect, its enums, attributes and types, FormulaOpInterface and every op.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_IR_KEOPS_H
#define KEOPS_DIALECT_KEOPS_IR_KEOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "keops/Dialect/KeOps/IR/KeOpsOpsDialect.h.inc"
#include "keops/Dialect/KeOps/IR/KeOpsEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "keops/Dialect/KeOps/IR/KeOpsAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "keops/Dialect/KeOps/IR/KeOpsOpsTypes.h.inc"

#include "keops/Dialect/KeOps/IR/KeOpsInterfaces.h.inc"
#include "keops/Dialect/KeOps/IR/KeOpsTraits.h"
#include "keops/Dialect/KeOps/IR/ScalarMath.h"
#include "keops/Dialect/KeOps/IR/ShapeRules.h"
#include "keops/Dialect/KeOps/IR/TensorDotMap.h"

#define GET_OP_CLASSES
#include "keops/Dialect/KeOps/IR/KeOpsOps.h.inc"

#endif // KEOPS_DIALECT_KEOPS_IR_KEOPS_H
