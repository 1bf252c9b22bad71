//===- InitAllKeOps.cpp - Register the keops dialect and passes -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements InitAllKeOps.h: the one place that lists the upstream
// dialects and passes KeOps-MLIR uses (not registerAll*, which would make
// every tool link and register all of MLIR).
//
//===----------------------------------------------------------------------===//

#include "keops/InitAllKeOps.h"

#include "keops/Dialect/KeOps/IR/KeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

void mlir::keops::registerAllKeOpsDialects(DialectRegistry &registry) {
  registry.insert<KeOpsDialect, arith::ArithDialect, func::FuncDialect,
                  math::MathDialect, tensor::TensorDialect,
                  vector::VectorDialect>();
}

void mlir::keops::registerAllKeOpsPasses() {
  registerCanonicalizerPass();
  registerCSEPass();
  registerSymbolDCEPass();
}
