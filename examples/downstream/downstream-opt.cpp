//===- downstream-opt.cpp - An opt tool that embeds keops -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file is a downstream compiler's opt tool: the upstream dialects it
// needs, plus the keops dialect, passes and pipelines of an installed
// KeOps-MLIR (find_package(KeOpsMLIR), KeOpsMLIR::KeOpsMLIR).
//
//===----------------------------------------------------------------------===//

#include "keops/InitAllKeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::arith::ArithDialect, mlir::func::FuncDialect,
                  mlir::tensor::TensorDialect>();
  mlir::keops::registerAllKeOpsDialects(registry);
  mlir::keops::registerAllKeOpsPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "A downstream compiler with the keops dialect\n", registry));
}
