//===- Tiling.h - The target-neutral tiled form of a reduction --*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares what keops-tile-reductions decides for a kernel's
// reduction (tile sizes, staging, accumulator) and how the conversions read
// it back from the keops.schedule it builds.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_TRANSFORMS_TILING_H
#define KEOPS_DIALECT_KEOPS_TRANSFORMS_TILING_H

#include "keops/Dialect/KeOps/IR/ReduceAnalysis.h"
#include "keops/Dialect/KeOps/Transforms/Passes.h"

namespace mlir::keops {

/// The tiling of `reduce` (either axis) with `options` (see
/// keops-tile-reductions), or failure with a message in `error` for bad
/// options.
FailureOr<ReductionTiling>
chooseTiling(ReduceOp reduce, const KeOpsTileReductionsPassOptions &options,
             std::string &error);

/// Adds the keops.schedule of `tiling` right after `reduce`.
ScheduleOp buildSchedule(OpBuilder &b, ReduceOp reduce,
                         const ReductionTiling &tiling);

/// The keops.schedule of `func` when its body is one keops.reduce over j of
/// its arguments, in order, and that schedule (what keops-tile-reductions
/// makes); otherwise an error on `func` naming `passName`, and failure.
FailureOr<ScheduleOp> getKernelSchedule(func::FuncOp func,
                                        llvm::StringRef passName);

} // namespace mlir::keops

#endif // KEOPS_DIALECT_KEOPS_TRANSFORMS_TILING_H
