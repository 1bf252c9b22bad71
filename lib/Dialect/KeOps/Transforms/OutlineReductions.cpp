//===- OutlineReductions.cpp - keops.reduce into kernel functions -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops-outline-reductions: every keops.reduce that is
// not alone in a kernel function moves into a new private kernel function
// (rows made dynamic) and is replaced by a call to it, so that the kernel
// pipelines compile reductions that sit inside larger functions.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/Transforms/KernelFunctions.h"
#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Dialect/KeOps/IR/ReduceAnalysis.h"
#include "keops/Dialect/KeOps/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::keops {
#define GEN_PASS_DEF_KEOPSOUTLINEREDUCTIONSPASS
#include "keops/Dialect/KeOps/Transforms/Passes.h.inc"
} // namespace mlir::keops

using namespace mlir;
using namespace mlir::keops;

namespace {

/// Whether the variables and results of a kernel function have dynamic rows,
/// as the kernel pipelines expect.
bool hasDynamicRows(func::FuncOp function) {
  auto reduce = llvm::cast<ReduceOp>(function.getBody().front().front());
  for (auto [k, input] : llvm::enumerate(reduce.getInputs()))
    if (reduce.getCategory(k) != Category::param &&
        llvm::cast<RankedTensorType>(input.getType()).hasStaticShape())
      return false;
  return llvm::all_of(reduce.getResultTypes(), [](Type type) {
    return !llvm::cast<RankedTensorType>(type).hasStaticShape();
  });
}

/// `value` cast to `type` at `b`'s insertion point when it has another type.
Value castTo(OpBuilder &b, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  return tensor::CastOp::create(b, loc, type, value);
}

/// Moves `reduce` into a new kernel function `<prefix>_keops_<n>` (the
/// first free n) of `symbols`, and calls it instead.
void outline(ReduceOp reduce, StringRef prefix, SymbolTable &symbols) {
  Location loc = reduce.getLoc();
  SmallVector<Type> inputTypes, resultTypes;
  for (auto [k, input] : llvm::enumerate(reduce.getInputs()))
    inputTypes.push_back(reduce.getCategory(k) == Category::param
                             ? input.getType()
                             : withDynamicRows(input.getType()));
  for (Type type : reduce.getResultTypes())
    resultTypes.push_back(withDynamicRows(type));

  OpBuilder b(reduce->getContext());
  std::string name;
  for (int n = 0; name.empty() || symbols.lookup(name); ++n)
    name = (prefix + "_keops_" + llvm::Twine(n)).str();
  auto kernel = func::FuncOp::create(
      b, loc, name, b.getFunctionType(inputTypes, resultTypes));
  kernel.setPrivate();
  symbols.insert(kernel);
  Block *body = kernel.addEntryBlock();
  b.setInsertionPointToStart(body);
  IRMapping mapping;
  mapping.map(reduce.getInputs(), body->getArguments());
  Operation *moved = b.clone(*reduce, mapping);
  for (auto [result, type] : llvm::zip(moved->getResults(), resultTypes))
    result.setType(type);
  func::ReturnOp::create(b, loc, moved->getResults());

  b.setInsertionPoint(reduce);
  SmallVector<Value> arguments;
  for (auto [input, type] : llvm::zip(reduce.getInputs(), inputTypes))
    arguments.push_back(castTo(b, loc, input, type));
  auto call = func::CallOp::create(b, loc, kernel, arguments);
  for (auto [result, value] : llvm::zip(reduce.getResults(), call.getResults()))
    result.replaceAllUsesWith(castTo(b, loc, value, result.getType()));
  reduce.erase();
}

struct KeOpsOutlineReductionsPass final
    : keops::impl::KeOpsOutlineReductionsPassBase<KeOpsOutlineReductionsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
    for (func::FuncOp function : functions) {
      if (isKernelFunction(function) && hasDynamicRows(function))
        continue;
      SmallVector<ReduceOp> reduces;
      function.walk([&](ReduceOp reduce) { reduces.push_back(reduce); });
      for (ReduceOp reduce : reduces)
        outline(reduce, function.getSymName(), symbols);
    }
  }
};

} // namespace
