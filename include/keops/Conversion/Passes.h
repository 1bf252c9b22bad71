//===- Passes.h - Conversions of the keops dialect --------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the conversions of keops reductions to target code
// (see Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_CONVERSION_PASSES_H
#define KEOPS_CONVERSION_PASSES_H

#include "keops/Conversion/KeOpsCommon/Accumulator.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::keops {

#define GEN_PASS_DECL
#include "keops/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "keops/Conversion/Passes.h.inc"

/// The attribute of a convert-keops-to-gpu kernel (i32) that tells the
/// rows each of its threads computes; the launch covers B * R rows a block.
constexpr llvm::StringLiteral kRowsPerThreadAttr = "keops.rows_per_thread";

/// The threads of a block of a lowered kernel (array<i32: B, 1, 1>), as
/// convert-gpu-to-nvvm names it on an NVVM kernel and
/// convert-gpu-kernels-to-host on a host function.
constexpr llvm::StringLiteral kKnownBlockSizeAttr = "gpu.known_block_size";
/// The bytes of the workgroup buffer of a convert-gpu-kernels-to-host
/// function (i64).
constexpr llvm::StringLiteral kWorkgroupBytesAttr = "keops.workgroup_bytes";

} // namespace mlir::keops

#endif // KEOPS_CONVERSION_PASSES_H
