//===- ContractionLoops.h - keops.tensordot as loops ------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the loop forms of keops.tensordot: a nest of loops over
// the output and contracted axes (TensorDotMap) that reads the operands at
// computed indices and accumulates into a buffer on the stack, or, for a
// chunk of the output, a loop over the contracted axes per component; so
// the code stays the same size whatever the shapes. A tensordot of fewer
// products is emitted unrolled (its emitLanes).
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_CONVERSION_KEOPSCOMMON_CONTRACTIONLOOPS_H
#define KEOPS_CONVERSION_KEOPSCOMMON_CONTRACTIONLOOPS_H

#include "keops/Conversion/KeOpsCommon/LaneEmitter.h"

#include <functional>

namespace mlir::keops {

/// The products (output components times contracted components) from which
/// a tensordot is computed by loops.
inline constexpr int64_t kContractionLoopMinProducts = 256;

/// Whether `op` is computed by loops (kContractionLoopMinProducts).
bool isContractionLoop(TensorDotOp op);

/// An operand of a contraction: read at a computed index by `load` when it
/// is given (a variable, from memory), else stored from its `components` to
/// the stack first.
struct ContractionOperand {
  const Components *components = nullptr;
  std::function<Value(OpBuilder &, Value index)> load;
};

/// The components of `op` by loops, with buffers on the stack from an
/// llvm.intr.stacksave to its restore (memref.alloca_scope would hold the
/// loops in a region, which their lowering to blocks cannot stay in): each
/// lane of the result is that of the unrolled form.
Components emitContractionLoops(LaneEmitter &e, TensorDotOp op,
                                const ContractionOperand &a,
                                const ContractionOperand &b);

/// Components `outputs` (indices) of `op`, each by loops over the
/// contracted axes from its index (what a chunk of the output computes),
/// with the operands in memory as emitContractionLoops.
Components emitContractionComponents(LaneEmitter &e, TensorDotOp op,
                                     llvm::ArrayRef<Value> outputs,
                                     const ContractionOperand &a,
                                     const ContractionOperand &b);

} // namespace mlir::keops

#endif // KEOPS_CONVERSION_KEOPSCOMMON_CONTRACTIONLOOPS_H
