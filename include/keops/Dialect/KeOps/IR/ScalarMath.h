//===- ScalarMath.h - float64 semantics of KeOps functions -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the float64 definitions of the KeOps functions that the
// C++ standard library lacks or defines differently (rsqrt(0) = 0, step,
// sign, ...), and helpers on vectors of components. Formula ops use them in
// FormulaOpInterface::evaluate, so constant folding and the reference
// evaluator share one definition of every op.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_IR_SCALARMATH_H
#define KEOPS_DIALECT_KEOPS_IR_SCALARMATH_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>

namespace mlir::keops::scalar {

/// 1/sqrt(x), and 0 for x == 0 (KeOps's convention).
double rsqrt(double x);
/// -1, 0 or 1.
double sign(double x);
/// 0 for x < 0, else 1.
double step(double x);
/// max(x, 0).
double relu(double x);
/// x^n for an integer n (n may be negative or zero).
double powi(double x, int64_t n);

/// x log(x), 0 at 0.
double xlogx(double x);
/// sin(x)/x, 1 at 0.
double sinxdivx(double x);
/// round(x * 10^d) / 10^d.
double roundTo(double x, int64_t decimals);

/// Sum of the components.
double sum(llvm::ArrayRef<double> x);
/// Scalar product of two vectors of the same length.
double dot(llvm::ArrayRef<double> x, llvm::ArrayRef<double> y);
/// |x - y|^2, where a length-1 operand broadcasts.
double sqDist(llvm::ArrayRef<double> x, llvm::ArrayRef<double> y);
/// The smaller / larger of a and b, NaN when either is (the kernels'
/// arith.minimumf / maximumf).
double minimum(double a, double b);
double maximum(double a, double b);
/// Smallest / largest component (NaN when one is NaN, as the kernels) and
/// the (first) index of it, as a double.
double minOf(llvm::ArrayRef<double> x);
double maxOf(llvm::ArrayRef<double> x);
double argMinOf(llvm::ArrayRef<double> x);
double argMaxOf(llvm::ArrayRef<double> x);
/// x * rsqrt(|x|^2).
void normalize(llvm::ArrayRef<double> x, llvm::SmallVectorImpl<double> &out);

/// Applies `f` componentwise to operands that broadcast (length 1 or the
/// common length), passing the k-th component of every operand.
void broadcast(llvm::ArrayRef<llvm::SmallVector<double>> operands,
               llvm::SmallVectorImpl<double> &out,
               llvm::function_ref<double(llvm::ArrayRef<double>)> f);

} // namespace mlir::keops::scalar

#endif // KEOPS_DIALECT_KEOPS_IR_SCALARMATH_H
