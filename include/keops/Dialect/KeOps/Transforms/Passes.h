//===- Passes.h - Passes of the keops dialect -------------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the keops passes (generated from Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_TRANSFORMS_PASSES_H
#define KEOPS_DIALECT_KEOPS_TRANSFORMS_PASSES_H

#include "keops/Dialect/KeOps/Transforms/OptionDefaults.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace keops {

#define GEN_PASS_DECL
#include "keops/Dialect/KeOps/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "keops/Dialect/KeOps/Transforms/Passes.h.inc"

} // namespace keops
} // namespace mlir

#endif // KEOPS_DIALECT_KEOPS_TRANSFORMS_PASSES_H
