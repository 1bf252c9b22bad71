//===- InitAllKeOps.h - Register the keops dialect and passes ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the registration entry points that tools use: the keops
// dialect with the upstream dialects its pipelines produce, and the keops and
// upstream passes those pipelines run.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_INITALLKEOPS_H
#define KEOPS_INITALLKEOPS_H

namespace mlir {
class DialectRegistry;
namespace keops {

/// Adds the keops dialect and the upstream dialects it is lowered to.
void registerAllKeOpsDialects(DialectRegistry &registry);

/// Registers the keops passes and the upstream passes its pipelines use.
void registerAllKeOpsPasses();

} // namespace keops
} // namespace mlir

#endif // KEOPS_INITALLKEOPS_H
