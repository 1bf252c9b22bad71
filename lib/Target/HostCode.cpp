//===- HostCode.cpp - Host machine code of kernels --------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements jitModule with MLIR's ExecutionEngine (which adds the
// packed "_mlir_" wrapper of the entry point), loadObject with a bare ORC
// LLJIT that resolves libm and other symbols from the process, and
// compileObject with a position-independent TargetMachine for a named CPU
// (adding the same packed wrapper with definePackedEntry, as the
// whole-module lowering does).
//
//===----------------------------------------------------------------------===//

#include "keops/Target/HostCode.h"

#include "TemporaryFile.h"

#include "keops/Conversion/KeOpsToRuntime/PackedEntry.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <cstdlib>
#include <mutex>

using namespace mlir;

namespace keops::target {
namespace {

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

} // namespace

int64_t cpuVectorBytes(llvm::StringRef cpu) {
  return llvm::StringSwitch<int64_t>(cpu)
      .Case("x86-64-v4", 64)
      .Case("x86-64-v3", 32)
      .Case("x86-64-v2", 16)
      .Case("x86-64", 16)
      .Case("native", hostVectorBytes())
      .Default(0);
}

int64_t hostVectorBytes() {
  // Once: every compile asks (its cache lookup included), and the feature
  // map costs tens of microseconds.
  static const int64_t bytes = [] {
    llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
    if (features.lookup("avx512f"))
      return 64;
    if (features.lookup("avx"))
      return 32;
    return 16;
  }();
  return bytes;
}

std::string hostCpuName() {
  std::string triple = llvm::sys::getProcessTriple();
  return (llvm::StringRef(triple).split('-').first + " " +
          llvm::sys::getHostCPUName())
      .str();
}

std::string codeGeneratorId() {
  std::string id = "llvm-" LLVM_VERSION_STRING "|" +
                   llvm::sys::getProcessTriple() + "|" +
                   llvm::sys::getHostCPUName().str();
  for (const llvm::StringMapEntry<bool> &feature :
       llvm::sys::getHostCPUFeatures())
    if (feature.getValue())
      id += "," + feature.getKey().str();
  return id;
}

llvm::Expected<JitCode> jitModule(ModuleOp module, llvm::StringRef name,
                                  std::string *object, bool cInterface) {
  initializeNativeTarget();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto targetMachine = builder->createTargetMachine();
  if (!targetMachine)
    return targetMachine.takeError();
  auto optimize = makeOptimizingTransformer(3, 0, targetMachine->get());
  ExecutionEngineOptions options;
  options.transformer = optimize;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  options.enableObjectDump = object != nullptr;
  // perf's jitdump files (in ~/.debug/jit, or $JITDUMPDIR) only on request:
  // every compiling process would leave a folder there.
  options.enablePerfNotificationListener =
      std::getenv("KEOPS_JIT_PERF") != nullptr;
  auto engine = ExecutionEngine::create(module, options,
                                        std::move(*targetMachine));
  if (!engine)
    return engine.takeError();
  auto entry = (*engine)->lookupPacked(
      ((cInterface ? "_mlir_ciface_" : "") + name).str());
  if (!entry)
    return entry.takeError();
  if (object) {
    // ExecutionEngine only dumps its object to a file.
    TemporaryFile file("o");
    if (file.error)
      return llvm::errorCodeToError(file.error);
    (*engine)->dumpToObjectFile(file.path);
    auto bytes = readFile(file.path);
    if (!bytes)
      return bytes.takeError();
    *object = std::move(*bytes);
  }
  return JitCode{*entry, engine->release(),
                 [](void *p) { delete static_cast<ExecutionEngine *>(p); }};
}

llvm::Expected<std::string> compileObject(ModuleOp module,
                                          llvm::StringRef function,
                                          llvm::StringRef entry,
                                          llvm::StringRef cpu) {
  initializeNativeTarget();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return makeError(error);
  llvm::SubtargetFeatures features;
  std::string cpuName = cpu.str();
  if (cpu == "native") {
    cpuName = llvm::sys::getHostCPUName().str();
    for (const llvm::StringMapEntry<bool> &feature :
         llvm::sys::getHostCPUFeatures())
      features.AddFeature(feature.getKey(), feature.getValue());
  }
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpuName, features.getString(), llvm::TargetOptions(),
      llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return makeError("no target machine for " + triple.str() + " " + cpuName);

  auto kernel = module.lookupSymbol<LLVM::LLVMFuncOp>(function);
  if (!kernel)
    return makeError("internal error: no kernel function '" + function + "'");
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  auto packed = LLVM::LLVMFuncOp::create(
      builder, kernel.getLoc(), entry,
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(module.getContext()),
                                  {LLVM::LLVMPointerType::get(module.getContext())}));
  mlir::keops::definePackedEntry(packed, kernel);
  packed.setVisibility_(LLVM::Visibility::Hidden);

  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context);
  if (!llvmModule)
    return makeError("internal error: translation to LLVM IR failed");
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());
  // Only the packed entry point is visible outside the object.
  for (llvm::Function &function : *llvmModule)
    if (!function.isDeclaration() && function.getName() != entry)
      function.setLinkage(llvm::GlobalValue::InternalLinkage);
  if (llvm::Error error =
          makeOptimizingTransformer(3, 0, machine.get())(llvmModule.get()))
    return std::move(error);

  llvm::SmallString<0> object;
  llvm::raw_svector_ostream stream(object);
  llvm::legacy::PassManager passes;
  if (machine->addPassesToEmitFile(passes, stream, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return makeError("the target cannot emit object files");
  passes.run(*llvmModule);
  return std::string(object.str());
}

llvm::Expected<JitCode> loadObject(llvm::StringRef object,
                                   llvm::StringRef name) {
  initializeNativeTarget();
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit)
    return jit.takeError();
  auto processSymbols =
      llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
          (*jit)->getDataLayout().getGlobalPrefix());
  if (!processSymbols)
    return processSymbols.takeError();
  (*jit)->getMainJITDylib().addGenerator(std::move(*processSymbols));
  if (llvm::Error error = (*jit)->addObjectFile(
          llvm::MemoryBuffer::getMemBufferCopy(object, "keops-kernel.o")))
    return std::move(error);
  // The packed wrapper that ExecutionEngine generates for the entry point.
  auto entry = (*jit)->lookup(("_mlir__mlir_ciface_" + name).str());
  if (!entry)
    return entry.takeError();
  return JitCode{entry->toPtr<void (*)(void **)>(), jit->release(),
                 [](void *p) { delete static_cast<llvm::orc::LLJIT *>(p); }};
}

} // namespace keops::target
