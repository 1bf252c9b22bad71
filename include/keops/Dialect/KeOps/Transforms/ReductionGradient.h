//===- ReductionGradient.h - Backward reductions ----------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the construction of the backward reduction of a
// keops.reduce: given the gradient eta of the loss with respect to the
// reduction's output, the gradient with respect to one input is itself a
// lazy sum reduction of a keops.grad formula:
//
//   sum               g_v = sum Grad(F, v, eta)
//   logsumexp         g_v = sum Grad(F, v, eta exp(F - L))             (L: output)
//   logsumexp weight  g_v = sum Grad(F, v, sum_k eta_k exp(F - L_k) G_k)
//                           + Grad(G, v, eta exp(F - L))
//   sumsoftmaxweight  g_v = sum Grad(F, v, exp(F - Z) (eta . (G - S)))
//                           + Grad(G, v, eta exp(F - Z))
//                     (S: output, Z = logsumexp of F: a second forward pass)
//   min, max, kmin    g_v = sum Grad(F, v, sum_s eta_s (c == J_s))
//   (and *_arg*)      (J_s: the forward indices of slot s, as floats; c: the
//                     column index, an input 0, 1, ... of the reduced axis):
//                     the subgradient at the selected columns, which KeOps
//                     refuses to compute
//
// The sum runs over the axis that v is not indexed by (for a parameter:
// over the forward axis, then over the rows, by the caller).
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_TRANSFORMS_REDUCTIONGRADIENT_H
#define KEOPS_DIALECT_KEOPS_TRANSFORMS_REDUCTIONGRADIENT_H

#include "keops/Dialect/KeOps/IR/KeOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace mlir::keops {

/// The extra inputs of a backward (or tangent) reduction, appended in this
/// order after the forward inputs; all are indexed like the forward output
/// rows, but the column index.
struct BackwardInputs {
  /// eta: the gradient with respect to the forward output.
  bool eta = true;
  /// The forward output (logsumexp, sumsoftmaxweight).
  bool forwardOutput = false;
  /// The log-sum-exp of the formula (sumsoftmaxweight).
  bool logSumExp = false;
  /// The forward indices, as floats (min, max, kmin and their arg forms).
  bool forwardIndices = false;
  /// The column index 0, 1, ..., M - 1 of the reduced axis, as a variable
  /// of dimension 1 indexed like the reduced axis (appended last).
  bool columnIndex = false;
};

/// A module computing the gradient with respect to input `wrt` of the one
/// keops.reduce of `forward` (of its value output), or failure with `error`
/// set (the arg kinds have a zero gradient, computed by the caller).
/// `sumRows` tells whether the caller must sum the rows (parameters).
FailureOr<OwningOpRef<ModuleOp>>
buildGradientModule(ModuleOp forward, unsigned wrt, BackwardInputs &inputs,
                    bool &sumRows, std::string &error);

/// A module computing the tangent (the forward-mode derivative) of the
/// value output of the one keops.reduce of `forward` along tangents of its
/// inputs at `positions`: a sum reduction over the forward axis whose inputs
/// are the forward ones, then one tangent per position (like that input),
/// then the saved values `inputs` flags (no eta), with dF = sum_k Diff(F,
/// v_k, t_k):
///   sum               dF
///   logsumexp         exp(F - L) dF, or exp(F - L) (dF G + dG) with weight
///   sumsoftmaxweight  exp(F - Z) (dF (G - S) + dG)
///   min, max, kmin    per slot s: dF (c == J_s)
/// or failure with `error` set (the arg kinds have a zero tangent).
FailureOr<OwningOpRef<ModuleOp>>
buildTangentModule(ModuleOp forward, llvm::ArrayRef<unsigned> positions,
                   BackwardInputs &inputs, std::string &error);

/// Replaces `forward` (a Sum or LogSumExp reduction returned by its
/// function) by its backward reduction with respect to input `wrt`, reading
/// eta from input `etaInput` and the saved output (LogSumExp) from input
/// `outputInput`: the Grad_WithSavedForward of KeOps formulas. The function
/// then returns the gradient rows (to be summed for a parameter).
LogicalResult replaceByBackward(ReduceOp forward, unsigned wrt,
                                unsigned etaInput,
                                std::optional<unsigned> outputInput,
                                std::string &error);

/// The kind of the sibling reduction whose indices the backward reduction
/// of `kind` reads (argmin for min and min_argmin, argmax for max and
/// max_argmax, argkmin for kmin and kmin_argkmin), or nullopt.
std::optional<ReductionKind> getSelectionIndicesKind(ReductionKind kind);

/// A copy of `forward` whose reduction of the same formula, over the same
/// axis, has kind `kind` (logsumexp, argmin, argmax or argkmin with the
/// same K): the saved values that backward reductions need.
OwningOpRef<ModuleOp> buildSiblingReductionModule(ModuleOp forward,
                                                  ReductionKind kind);

} // namespace mlir::keops

#endif // KEOPS_DIALECT_KEOPS_TRANSFORMS_REDUCTIONGRADIENT_H
