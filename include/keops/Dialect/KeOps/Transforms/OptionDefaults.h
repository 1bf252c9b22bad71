//===- OptionDefaults.h - The defaults of the kernel options ----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file defines, once, the defaults of the options that every layer
// takes: keops-tile-reductions (Passes.td), the pipelines (Pipelines.h), the
// C++ API (CompileOptions), keops-run and the Python package (which read
// CompileOptions). Header-only, so that the public API can include it.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_TRANSFORMS_OPTIONDEFAULTS_H
#define KEOPS_DIALECT_KEOPS_TRANSFORMS_OPTIONDEFAULTS_H

#include <cstdint>

namespace mlir::keops::defaults {

/// Columns of a j-tile on the CPU (keops-tile-reductions tile-cols,
/// keops-lower-to-cpu tile-j).
inline constexpr int64_t kTileCols = 1024;
/// Rows of an i-block on the CPU (tile-rows, rows-per-block).
inline constexpr int64_t kTileRows = 2;
/// Rows of an i-block on the CPU whose feature loops run together
/// (loop-tile-rows), with the default rows-per-block: they share the loads
/// of the reduced variables (D = 64: 4 rows 1.2x, 6 rows 1.3x faster than
/// 2).
inline constexpr int64_t kLoopTileRows = 4;
/// Vector registers of the CPU (32 on AVX-512).
inline constexpr int64_t kVectorRegisters = 32;
/// Sums over at least this many components loop over them.
inline constexpr int64_t kFeatureLoopMinDim = 32;
/// Bytes of a CPU j-tile that feature loops read once per row: within the
/// first-level cache (48 KiB on recent x86 cores; 4x faster at D = 200 than
/// 256 KiB tiles).
inline constexpr int64_t kLoopStageBytes = 16 * 1024;
/// GPU threads per block, also the columns of a j-tile.
inline constexpr int64_t kGpuBlockSize = 256;
/// K from which a GPU thread keeps the K best lists of the kmin family in
/// its local memory (selection-in-memory), with loops: in registers, a list
/// takes 3 K registers per component (float32 values, 64-bit columns) and
/// its insertion and merge are unrolled K times (K = 1000: 15 s to compile).
inline constexpr int64_t kGpuSelectionInMemoryMinK = 32;
/// Bytes of local memory the K best lists of a GPU thread's row may take
/// (list-bytes): the driver reserves that much for every resident thread.
inline constexpr int64_t kGpuListBytes = 16 * 1024;
/// The sum scheme of sum-type reductions (a SumScheme name).
inline constexpr const char *kSumScheme = "block_sum";

} // namespace mlir::keops::defaults

#endif // KEOPS_DIALECT_KEOPS_TRANSFORMS_OPTIONDEFAULTS_H
