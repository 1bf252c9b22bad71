//===- FormulaOps.cpp - Emit any formula op on lanes of pairs ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements emitFormulaOp: it finds the op's class among the ops
// of the keops dialect and instantiates that class's `emitLanes` (declared
// with the op in KeOpsOps.td) with LaneEmitter.
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/KeOpsCommon/LaneEmitter.h"

#include <type_traits>

using namespace mlir;
using namespace mlir::keops;

namespace {

/// Whether `Op` has a template `emitLanes` that takes a LaneEmitter.
template <typename Op, typename = void>
struct HasEmitLanes : std::false_type {};
template <typename Op>
struct HasEmitLanes<Op, std::void_t<decltype(&Op::template emitLanes<
                                             LaneEmitter>)>>
    : std::true_type {};

/// Emits `op` when it is an `Op`.
template <typename Op>
bool emitAs(LaneEmitter &emitter, Operation *op,
            llvm::ArrayRef<Components> operands, Components &result) {
  if constexpr (HasEmitLanes<Op>::value) {
    if (auto typed = llvm::dyn_cast<Op>(op)) {
      typed.emitLanes(emitter, operands, result);
      return true;
    }
  }
  return false;
}

/// Emits `op` as the first of `Ops` that it is.
template <typename... Ops>
bool emitAsOneOf(LaneEmitter &emitter, Operation *op,
                 llvm::ArrayRef<Components> operands, Components &result) {
  return (emitAs<Ops>(emitter, op, operands, result) || ...);
}

} // namespace

void keops::emitFormulaOp(LaneEmitter &emitter, Operation *op,
                          llvm::ArrayRef<Components> operands,
                          Components &result) {
  [[maybe_unused]] bool emitted = emitAsOneOf<
#define GET_OP_LIST
#include "keops/Dialect/KeOps/IR/KeOpsOps.cpp.inc"
      >(emitter, op, operands, result);
  assert(emitted && "emitFormulaOp takes formula ops");
}
