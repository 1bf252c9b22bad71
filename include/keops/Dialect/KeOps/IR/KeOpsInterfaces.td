//===- KeOpsInterfaces.td - Interfaces of keops formula ops -*- tablegen -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// Declares FormulaOpInterface, implemented by every formula op: a float64
// evaluation of the op on concrete operand rows. It drives constant folding
// and the reference evaluator that checks compiled kernels.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_IR_KEOPSINTERFACES_TD
#define KEOPS_DIALECT_KEOPS_IR_KEOPSINTERFACES_TD

include "mlir/IR/OpBase.td"

def KeOps_FormulaOpInterface : OpInterface<"FormulaOpInterface"> {
  let cppNamespace = "::mlir::keops";
  let description = [{
    A formula op computes a vector<D x T> from vector operands for one
    (i, j) pair. `evaluate` computes the same function in float64 on concrete
    operand rows (dimension-1 operands broadcast), with the op's attributes.
    (Each formula op also has `emitLanes`, a template member that the kernel
    generators instantiate with their LaneEmitter: see
    keops/Conversion/KeOpsCommon/LaneEmitter.h.)
  }];
  let methods = [
    InterfaceMethod<[{
        Evaluates the op in float64. `operands[k]` holds the components of
        operand k; `result` receives the components of the result.
      }],
      "void", "evaluate",
      (ins "::llvm::ArrayRef<::llvm::SmallVector<double>>":$operands,
           "::llvm::SmallVectorImpl<double> &":$result)>
  ];
}

#endif // KEOPS_DIALECT_KEOPS_IR_KEOPSINTERFACES_TD
