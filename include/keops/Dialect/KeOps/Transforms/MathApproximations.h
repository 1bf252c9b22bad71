//===- MathApproximations.h - Our polynomial math functions -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the math approximations of our own that both targets
// use in place of MLIR's (keops-approximate-math on the CPU,
// convert-keops-math-to-nvvm on the GPU).
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_TRANSFORMS_MATHAPPROXIMATIONS_H
#define KEOPS_DIALECT_KEOPS_TRANSFORMS_MATHAPPROXIMATIONS_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::keops {

/// Where f32 sin and cos take arguments too large for their reduction
/// (|x| >= 2^50).
enum class LargeSinCosArguments {
  /// The f64 function (libm): exact, but a call per element.
  F64Function,
  /// NaN: the GPU's f32 kernels link no libdevice.
  NaN,
};

/// f32 math.sin and math.cos computed in f64 with an accurate reduction by
/// pi/2 (MLIR's f32 approximations reduce by one f32 constant: 2e-4 off at
/// |x| = 1000, any value from 1e5), with a higher benefit than MLIR's.
void populateSinCosF32Patterns(RewritePatternSet &patterns,
                               LargeSinCosArguments large,
                               PatternBenefit benefit);

} // namespace mlir::keops

#endif // KEOPS_DIALECT_KEOPS_TRANSFORMS_MATHAPPROXIMATIONS_H
