//===- KeOpsDialect.cpp - The keops dialect ---------------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the keops dialect: registration of its ops,
// attributes and types, and the materialization of folded constants.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/IR/KeOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::keops;

#include "keops/Dialect/KeOps/IR/KeOpsEnums.cpp.inc"
#include "keops/Dialect/KeOps/IR/KeOpsOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "keops/Dialect/KeOps/IR/KeOpsAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "keops/Dialect/KeOps/IR/KeOpsOpsTypes.cpp.inc"

void KeOpsDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "keops/Dialect/KeOps/IR/KeOpsAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "keops/Dialect/KeOps/IR/KeOpsOpsTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "keops/Dialect/KeOps/IR/KeOpsOps.cpp.inc"
      >();
}

Operation *KeOpsDialect::materializeConstant(OpBuilder &builder,
                                             Attribute value, Type type,
                                             Location loc) {
  auto dense = llvm::dyn_cast<DenseFPElementsAttr>(value);
  if (!dense || dense.getType() != type || !llvm::isa<VectorType>(type))
    return nullptr;
  return ConstantOp::create(builder, loc, type, dense);
}
