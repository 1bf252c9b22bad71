//===- keops-opt.cpp - mlir-opt for the keops dialect -----------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops-opt: the MLIR optimizer driver with the keops
// dialect, its passes and pipelines, and the upstream dialects and passes
// they use.
//
//===----------------------------------------------------------------------===//

#include "keops/InitAllKeOps.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::keops::registerAllKeOpsDialects(registry);
  mlir::keops::registerAllKeOpsPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "KeOps-MLIR optimizer driver\n", registry));
}
