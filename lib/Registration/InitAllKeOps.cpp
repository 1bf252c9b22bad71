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
#include "keops/Dialect/KeOps/Transforms/Passes.h"
#include "keops/Pipelines/Pipelines.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

void mlir::keops::registerAllKeOpsDialects(DialectRegistry &registry) {
  registry.insert<KeOpsDialect, arith::ArithDialect, cf::ControlFlowDialect,
                  func::FuncDialect, LLVM::LLVMDialect, math::MathDialect,
                  memref::MemRefDialect, scf::SCFDialect,
                  tensor::TensorDialect, vector::VectorDialect>();
}

void mlir::keops::registerAllKeOpsPasses() {
  registerCanonicalizerPass();
  registerCSEPass();
  registerSymbolDCEPass();
  registerLoopInvariantCodeMotionPass();
  registerKeOpsPasses();
  registerKeOpsPipelines();
}
