//===- Passes.td - Passes of the keops dialect -------------*- tablegen -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// Declares the transformation passes of the keops dialect.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_TRANSFORMS_PASSES_TD
#define KEOPS_DIALECT_KEOPS_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Differentiation
//===----------------------------------------------------------------------===//

def KeOpsAutodiffPass : Pass<"keops-autodiff", "::mlir::func::FuncOp"> {
  let summary = "Expand keops.grad into formula ops by reverse-mode rules";
  let description = [{
    Replaces every `keops.grad %f wrt %v along %e` by its symbolic value:
    the ops between `%v` and `%f` are walked backwards from `%f` with the
    adjoint `%e`, each contributing its derivative rule (a dimension-1
    operand that was broadcast gets the sum of its adjoint). Grads are
    expanded in program order, so a grad of a grad differentiates the
    expansion of the inner one: any order works. Run canonicalize and cse
    afterwards to share the forward values (a Gaussian kernel's gradient
    computes its exp once).

    ```mlir
    %e = keops.exp %x : vector<1xf32>
    %g = keops.grad %e wrt %x along %u : vector<1xf32>, vector<1xf32>, vector<1xf32>
    // becomes
    %g = keops.mul %u, %e : vector<1xf32>, vector<1xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Cleanup
//===----------------------------------------------------------------------===//

def KeOpsApproximateMathPass : Pass<"keops-approximate-math"> {
  let summary = "Replace f32 math functions by vectorizable polynomials";
  let description = [{
    Rewrites `math.exp`, `math.log`, `math.sin`, `math.cos`, ... on f32
    scalars and vectors into polynomial approximations made of arith ops
    (MLIR's math polynomial approximation), so that the CPU code vectorizes
    instead of calling scalar libm functions. f64 is left to libm.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // KEOPS_DIALECT_KEOPS_TRANSFORMS_PASSES_TD
