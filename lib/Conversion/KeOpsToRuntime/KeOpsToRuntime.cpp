//===- KeOpsToRuntime.cpp - Kernel calls through the runtime ----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops-lower-kernel-calls and
// keops-define-kernel-entries, with which keops-lower-to-llvm compiles a
// whole module: the calls of kernel functions become keops_rt_mlir_* calls
// of the runtime with the kernel's descriptor (a constant laid out by the
// offsets of keops_rt_kernel_desc_t in the runtime's header) and its packed
// entry point, defined once the kernel is in the LLVM dialect
// (definePackedEntry, which kernel libraries' objects use too).
//
//===----------------------------------------------------------------------===//

#include "keops/Conversion/Passes.h"
#include "keops/Conversion/KeOpsToRuntime/PackedEntry.h"

#include "keops/Conversion/KeOpsCommon/KernelFormula.h"
#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Conversion/KeOpsCommon/DescribeReduction.h"
#include "keops/Runtime/KeOpsRuntime.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/IR/SymbolTable.h"

#include <cstddef>

namespace mlir::keops {
#define GEN_PASS_DEF_KEOPSLOWERKERNELCALLSPASS
#define GEN_PASS_DEF_KEOPSDEFINEKERNELENTRIESPASS
#include "keops/Conversion/Passes.h.inc"
} // namespace mlir::keops

using namespace mlir;
using namespace mlir::keops;

namespace {

constexpr llvm::StringLiteral kEntryOfAttr = "keops.entry_of";

static_assert(sizeof(keops_rt_dtype_t) == 4 &&
                  sizeof(keops_rt_category_t) == 4 &&
                  sizeof(keops_rt_target_t) == 4,
              "the runtime's enums are 32-bit integers");
static_assert(sizeof(keops_rt_kernel_desc_t) == 136,
              "keops_rt_kernel_desc_t changed: update addDescriptor");

/// Adds `llvm.mlir.global internal constant @name` at the end of `module`,
/// with `value`, or with the value that `build` returns from an initializer
/// region when `value` is null.
LLVM::GlobalOp addGlobal(ModuleOp module, StringRef name, Type type,
                         Attribute value,
                         function_ref<Value(OpBuilder &)> build = nullptr) {
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Location loc = module.getLoc();
  auto global = LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true,
                                       LLVM::Linkage::Internal, name, value);
  if (build) {
    b.createBlock(&global.getInitializerRegion());
    LLVM::ReturnOp::create(b, loc, build(b));
  }
  return global;
}

/// A NUL-terminated string constant.
LLVM::GlobalOp addString(ModuleOp module, StringRef name, StringRef text) {
  std::string bytes = text.str();
  bytes.push_back('\0');
  auto type = LLVM::LLVMArrayType::get(IntegerType::get(module.getContext(), 8),
                                       bytes.size());
  return addGlobal(module, name, type,
                   StringAttr::get(module.getContext(), bytes));
}

/// An array constant of `bits`-bit integers, or null when it is empty.
template <typename T>
LLVM::GlobalOp addArray(ModuleOp module, StringRef name, ArrayRef<T> values) {
  if (values.empty())
    return nullptr;
  auto element = IntegerType::get(module.getContext(), sizeof(T) * 8);
  auto type = LLVM::LLVMArrayType::get(element, values.size());
  return addGlobal(
      module, name, type,
      DenseElementsAttr::get(
          RankedTensorType::get({static_cast<int64_t>(values.size())}, element),
          values));
}

/// The address of `global` (null when there is none).
Value addressOf(OpBuilder &b, Location loc, LLVM::GlobalOp global) {
  if (!global)
    return LLVM::ZeroOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext()));
  return LLVM::AddressOfOp::create(b, loc, global);
}

/// Adds the keops_rt_kernel_desc_t of `kernel` as @<prefix>, with the
/// constants it points to as @<prefix>_<field>.
LLVM::GlobalOp addDescriptor(ModuleOp module, StringRef prefix,
                             StringRef kernel,
                             const ::keops::KernelDescriptor &descriptor) {
  std::string p = prefix.str();
  SmallVector<int32_t> categories, outputDtypes;
  SmallVector<int64_t> dims, outputDims;
  SmallVector<LLVM::GlobalOp> names;
  for (auto [k, input] : llvm::enumerate(descriptor.inputs)) {
    categories.push_back(input.category);
    dims.push_back(input.dim);
    names.push_back(addString(module, p + "_input" + std::to_string(k),
                              input.name));
  }
  for (const ::keops::KernelOutput &output : descriptor.outputs) {
    outputDims.push_back(output.dim);
    outputDtypes.push_back(output.dtype);
  }
  LLVM::GlobalOp nameGlobal = addString(module, p + "_name", kernel);
  LLVM::GlobalOp categoriesGlobal =
      addArray<int32_t>(module, p + "_categories", categories);
  LLVM::GlobalOp dimsGlobal = addArray<int64_t>(module, p + "_dims", dims);
  LLVM::GlobalOp outputDimsGlobal =
      addArray<int64_t>(module, p + "_output_dims", outputDims);
  LLVM::GlobalOp outputDtypesGlobal =
      addArray<int32_t>(module, p + "_output_dtypes", outputDtypes);
  LLVM::GlobalOp reductionGlobal =
      addString(module, p + "_reduction", descriptor.reduction);
  LLVM::GlobalOp archGlobal = addString(module, p + "_arch", descriptor.arch);
  auto pointer = LLVM::LLVMPointerType::get(module.getContext());
  LLVM::GlobalOp namesGlobal;
  if (!names.empty())
    namesGlobal = addGlobal(
        module, p + "_input_names",
        LLVM::LLVMArrayType::get(pointer, names.size()), nullptr,
        [&](OpBuilder &b) {
          Location loc = module.getLoc();
          Value array = LLVM::ZeroOp::create(
              b, loc, LLVM::LLVMArrayType::get(pointer, names.size()));
          for (auto [k, name] : llvm::enumerate(names))
            array = LLVM::InsertValueOp::create(b, loc, array,
                                                addressOf(b, loc, name), k);
          return array;
        });

  // The fields at their offsets in the runtime's struct, padded with bytes.
  auto build = [&](OpBuilder &b, SmallVector<std::pair<size_t, Value>> &fields) {
    Location loc = module.getLoc();
    auto i32 = [&](int64_t value) -> Value {
      return LLVM::ConstantOp::create(b, loc, b.getI32Type(),
                                      b.getI32IntegerAttr(value));
    };
    auto at = [&](size_t offset, Value value) {
      fields.push_back({offset, value});
    };
#define KEOPS_FIELD(name) offsetof(keops_rt_kernel_desc_t, name)
    at(KEOPS_FIELD(abi_version), i32(KEOPS_RT_KERNEL_ABI_VERSION));
    at(KEOPS_FIELD(name), addressOf(b, loc, nameGlobal));
    at(KEOPS_FIELD(dtype), i32(descriptor.dtype));
    at(KEOPS_FIELD(row_category), i32(descriptor.rowCategory));
    at(KEOPS_FIELD(num_inputs), i32(descriptor.inputs.size()));
    at(KEOPS_FIELD(categories), addressOf(b, loc, categoriesGlobal));
    at(KEOPS_FIELD(dims), addressOf(b, loc, dimsGlobal));
    at(KEOPS_FIELD(input_names), addressOf(b, loc, namesGlobal));
    at(KEOPS_FIELD(num_outputs), i32(descriptor.outputs.size()));
    at(KEOPS_FIELD(output_dims), addressOf(b, loc, outputDimsGlobal));
    at(KEOPS_FIELD(output_dtypes), addressOf(b, loc, outputDtypesGlobal));
    at(KEOPS_FIELD(allows_empty_reduction),
       i32(descriptor.allowsEmptyReduction));
    at(KEOPS_FIELD(state_floats), i32(descriptor.stateFloats));
    at(KEOPS_FIELD(state_ints), i32(descriptor.stateInts));
    at(KEOPS_FIELD(state_dtype), i32(descriptor.stateDtype));
    at(KEOPS_FIELD(reduction), addressOf(b, loc, reductionGlobal));
    at(KEOPS_FIELD(k), i32(descriptor.k));
    at(KEOPS_FIELD(target), i32(descriptor.target));
    at(KEOPS_FIELD(arch), addressOf(b, loc, archGlobal));
    at(KEOPS_FIELD(lanes), i32(descriptor.lanes));
    at(KEOPS_FIELD(tile_rows), i32(descriptor.tileRows));
    at(KEOPS_FIELD(tile_cols), i32(descriptor.tileCols));
#undef KEOPS_FIELD
  };
  // The struct type: each field at its offset, bytes of padding between.
  MLIRContext *context = module.getContext();
  auto bytes = [&](size_t n) {
    return LLVM::LLVMArrayType::get(IntegerType::get(context, 8), n);
  };
  auto sizeOf = [&](Type type) -> size_t {
    return llvm::isa<LLVM::LLVMPointerType>(type) ? sizeof(void *) : 4;
  };
  SmallVector<Type> types;
  SmallVector<unsigned> positions;
  {
    OpBuilder scratch(context);
    Block block;
    scratch.setInsertionPointToStart(&block);
    SmallVector<std::pair<size_t, Value>> fields;
    build(scratch, fields);
    size_t end = 0;
    for (auto &[offset, value] : fields) {
      if (offset > end)
        types.push_back(bytes(offset - end));
      positions.push_back(types.size());
      types.push_back(value.getType());
      end = offset + sizeOf(value.getType());
    }
    if (sizeof(keops_rt_kernel_desc_t) > end)
      types.push_back(bytes(sizeof(keops_rt_kernel_desc_t) - end));
  }
  auto structType = LLVM::LLVMStructType::getLiteral(context, types,
                                                     /*isPacked=*/true);
  return addGlobal(module, prefix, structType, nullptr, [&](OpBuilder &b) {
    SmallVector<std::pair<size_t, Value>> fields;
    build(b, fields);
    Value desc = LLVM::ZeroOp::create(b, module.getLoc(), structType);
    for (auto [k, field] : llvm::enumerate(fields))
      desc = LLVM::InsertValueOp::create(b, module.getLoc(), desc,
                                         field.second, positions[k]);
    return desc;
  });
}

/// The runtime functions the calls use, declared once.
struct RuntimeFunctions {
  RuntimeFunctions(ModuleOp module) : module(module) {}

  func::FuncOp get(StringRef name, FunctionType type, bool cInterface) {
    if (auto existing = module.lookupSymbol<func::FuncOp>(name))
      return existing;
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto function = func::FuncOp::create(b, module.getLoc(), name, type);
    function.setPrivate();
    if (cInterface)
      function->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    return function;
  }
  Type pointer() { return LLVM::LLVMPointerType::get(module.getContext()); }
  func::FuncOp begin() {
    return get("keops_rt_mlir_begin",
               FunctionType::get(module.getContext(), {pointer(), pointer()},
                                 {pointer()}),
               false);
  }
  func::FuncOp end() {
    return get("keops_rt_mlir_end",
               FunctionType::get(module.getContext(), {pointer()}, {}), false);
  }
  /// keops_rt_mlir_arg_f32, _f64 or _i64 (by `element`).
  func::FuncOp arg(Type element) {
    std::string suffix = element.isF64()           ? "f64"
                         : element.isInteger(64) ? "i64"
                                                 : "f32";
    return get("keops_rt_mlir_arg_" + suffix,
               FunctionType::get(module.getContext(),
                                 {pointer(), UnrankedMemRefType::get(element, 0)},
                                 {}),
               true);
  }

  ModuleOp module;
};

/// Replaces `call` (of a kernel function whose reduction, over j, is
/// `reduce`) by the runtime calls of the kernel of `desc` and `entry`.
void lowerCall(func::CallOp call, ReduceOp reduce, LLVM::GlobalOp desc,
               LLVM::LLVMFuncOp entry, RuntimeFunctions &runtime) {
  OpBuilder b(call);
  Location loc = call.getLoc();
  Value handle =
      func::CallOp::create(b, loc, runtime.begin(),
                           ValueRange{LLVM::AddressOfOp::create(b, loc, desc),
                                      LLVM::AddressOfOp::create(b, loc, entry)})
          .getResult(0);
  auto pass = [&](Value buffer) {
    Type element = llvm::cast<MemRefType>(buffer.getType()).getElementType();
    Value unranked = memref::CastOp::create(
        b, loc, UnrankedMemRefType::get(element, 0), buffer);
    func::CallOp::create(b, loc, runtime.arg(element),
                         ValueRange{handle, unranked});
  };
  Value rows;
  for (auto [k, operand] : llvm::enumerate(call.getOperands())) {
    auto tensor = llvm::cast<TensorType>(operand.getType());
    pass(bufferization::ToBufferOp::create(
        b, loc, bufferization::getMemRefTypeWithFullyDynamicLayout(tensor),
        operand, /*read_only=*/b.getUnitAttr()));
    if (!rows && reduce.getCategory(k) == Category::i)
      rows = tensor::DimOp::create(b, loc, operand, 0);
  }
  if (!rows)
    rows = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> outputs;
  for (Type type : call.getResultTypes()) {
    auto tensor = llvm::cast<RankedTensorType>(type);
    auto buffer = memref::AllocOp::create(
        b, loc, MemRefType::get(tensor.getShape(), tensor.getElementType()),
        ValueRange{rows});
    pass(buffer);
    outputs.push_back(buffer);
  }
  func::CallOp::create(b, loc, runtime.end(), ValueRange{handle});
  for (auto [result, buffer] : llvm::zip(call.getResults(), outputs))
    result.replaceAllUsesWith(bufferization::ToTensorOp::create(
        b, loc, result.getType(), buffer, /*restrict=*/true,
        /*writable=*/true));
  call.erase();
}

struct KeOpsLowerKernelCallsPass final
    : mlir::keops::impl::KeOpsLowerKernelCallsPassBase<KeOpsLowerKernelCallsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    RuntimeFunctions runtime(module);
    SmallVector<func::FuncOp> kernels;
    for (auto function : module.getOps<func::FuncOp>())
      if (!function.getOps<ScheduleOp>().empty())
        kernels.push_back(function);
    for (func::FuncOp kernel : kernels) {
      std::optional<SymbolTable::UseRange> uses =
          SymbolTable::getSymbolUses(kernel, module);
      if (!uses || uses->empty())
        continue;
      ScheduleOp schedule = *kernel.getOps<ScheduleOp>().begin();
      ReduceOp reduce = schedule.getReduce();
      ReductionTiling tiling = getTiling(schedule);
      ::keops::KernelDescriptor descriptor = describeCpuKernel(
          reduce, tiling, "native",
          getCpuLanes(lanes, getFormulaElementType(reduce)));
      std::string name = kernel.getSymName().str();
      LLVM::GlobalOp desc =
          addDescriptor(module, "__keops_desc_" + name, name, descriptor);
      OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
      auto pointer = LLVM::LLVMPointerType::get(&getContext());
      auto entry = LLVM::LLVMFuncOp::create(
          b, kernel.getLoc(), "__keops_entry_" + name,
          LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(&getContext()),
                                      {pointer}));
      entry->setAttr(kEntryOfAttr, b.getStringAttr(name));
      for (const SymbolTable::SymbolUse &use : *uses) {
        auto call = llvm::dyn_cast<func::CallOp>(use.getUser());
        if (!call) {
          use.getUser()->emitOpError("uses the kernel function @")
              << name << " other than by a func.call";
          return signalPassFailure();
        }
        lowerCall(call, reduce, desc, entry, runtime);
      }
    }
  }
};

} // namespace

void mlir::keops::definePackedEntry(LLVM::LLVMFuncOp entry,
                                    LLVM::LLVMFuncOp target) {
  OpBuilder b(entry.getContext());
  Block *body = entry.addEntryBlock(b);
  b.setInsertionPointToStart(body);
  Location loc = entry.getLoc();
  auto pointer = LLVM::LLVMPointerType::get(entry.getContext());
  SmallVector<Value> arguments;
  for (auto [k, type] : llvm::enumerate(target.getFunctionType().getParams())) {
    Value slot =
        LLVM::GEPOp::create(b, loc, pointer, pointer, body->getArgument(0),
                            ArrayRef<LLVM::GEPArg>{int32_t(k)});
    Value argument = LLVM::LoadOp::create(b, loc, pointer, slot);
    arguments.push_back(LLVM::LoadOp::create(b, loc, type, argument));
  }
  LLVM::CallOp::create(b, loc, target, arguments);
  LLVM::ReturnOp::create(b, loc, ValueRange{});
}

namespace {

struct KeOpsDefineKernelEntriesPass final
    : mlir::keops::impl::KeOpsDefineKernelEntriesPassBase<
          KeOpsDefineKernelEntriesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto entry : module.getOps<LLVM::LLVMFuncOp>()) {
      auto kernel = entry->getAttrOfType<StringAttr>(kEntryOfAttr);
      if (!kernel || !entry.isExternal())
        continue;
      auto target = module.lookupSymbol<LLVM::LLVMFuncOp>(
          ("_mlir_ciface_" + kernel.getValue()).str());
      if (!target) {
        entry.emitOpError("keops-define-kernel-entries: no @_mlir_ciface_")
            << kernel.getValue() << " (run convert-keops-to-cpu and the "
            << "lowering to the LLVM dialect first)";
        return signalPassFailure();
      }
      definePackedEntry(entry, target);
      entry.setLinkage(LLVM::Linkage::Internal);
      entry->removeAttr(kEntryOfAttr);
    }
  }
};

} // namespace
