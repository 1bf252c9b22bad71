//===- DescribeReduction.h - The runtime view of a reduction ----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares describeReduction, the target-independent part of a
// kernel's runtime descriptor (keops::KernelDescriptor), read from its
// keops.reduce and tiling.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_CONVERSION_KEOPSCOMMON_DESCRIBEREDUCTION_H
#define KEOPS_CONVERSION_KEOPSCOMMON_DESCRIBEREDUCTION_H

#include "keops/Conversion/KeOpsCommon/KernelDescriptor.h"
#include "keops/Dialect/KeOps/IR/ReduceAnalysis.h"

namespace mlir::keops {

/// The descriptor of the kernel of `reduce` tiled as `tiling`, but for the
/// target's part (target, arch, lanes and tiles, left at their defaults):
/// variables (named by the keops.name of the arguments of the function
/// whose arguments they are), outputs, dtype, the raw state of a row (the
/// layout of its kind, per output chunk, in the accumulator type).
::keops::KernelDescriptor describeReduction(ReduceOp reduce,
                                            const ReductionTiling &tiling);

/// The descriptor of the CPU kernel of `reduce` tiled as `tiling`, compiled
/// for `arch` with vectors of `lanes` columns (its tiles those of `tiling`).
::keops::KernelDescriptor describeCpuKernel(ReduceOp reduce,
                                            const ReductionTiling &tiling,
                                            llvm::StringRef arch,
                                            int64_t lanes);

} // namespace mlir::keops

#endif // KEOPS_CONVERSION_KEOPSCOMMON_DESCRIBEREDUCTION_H
