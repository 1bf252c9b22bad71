//===- Pipelines.h - keops lowering pipelines -------------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the named pipelines of KeOps-MLIR, with their options:
// `keops-lower-to-cpu` takes an imported module down to the LLVM dialect.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_PIPELINES_PIPELINES_H
#define KEOPS_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace keops {

struct KeOpsToCPUPipelineOptions
    : public PassPipelineOptions<KeOpsToCPUPipelineOptions> {
  PassOptions::Option<int64_t> lanes{
      *this, "lanes",
      llvm::cl::desc("Columns per vector (0: 64 bytes of elements)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> tileJ{
      *this, "tile-j", llvm::cl::desc("Columns per j-tile of the block sum"),
      llvm::cl::init(1024)};
  PassOptions::Option<int64_t> rowsPerBlock{
      *this, "rows-per-block",
      llvm::cl::desc("Rows computed together, sharing the column loads"),
      llvm::cl::init(2)};
  PassOptions::Option<std::string> sumScheme{
      *this, "sum-scheme",
      llvm::cl::desc("block_sum, kahan_scheme or direct_sum"),
      llvm::cl::init("block_sum")};
  PassOptions::Option<bool> doubleAccumulator{
      *this, "double-accumulator",
      llvm::cl::desc("Accumulate float32 sums in float64"),
      llvm::cl::init(false)};
};

/// Adds to `pm` (on a module) the passes from the keops dialect to the LLVM
/// dialect for the CPU: tiling, cleanup, polynomial math, LLVM conversions.
void buildKeOpsToCPUPipeline(OpPassManager &pm,
                             const KeOpsToCPUPipelineOptions &options);

/// Registers the named pipelines (keops-lower-to-cpu).
void registerKeOpsPipelines();

} // namespace keops
} // namespace mlir

#endif // KEOPS_PIPELINES_PIPELINES_H
