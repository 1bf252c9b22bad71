//===- Compiler.cpp - Compile KeOps formulas into runtime kernels -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements ::keops::compile:
//
//   formula --import--> keops module --canonicalize, cse--> canonical IR
//     (process cache lookup by hash of canonical IR + options)
//     (disk cache lookup by SHA-256 of the same + target + compiler build)
//     --keops-lower-to-cpu--> LLVM dialect --ExecutionEngine (host TM, O3)-->
//     packed entry point (and object file, stored in the disk cache)
//     --keops_rt_kernel_create_cpu--> runtime kernel
//   (backend gpu: --keops-lower-to-nvvm, gpu-module-to-binary--> PTX
//     --ptxas when found--> cubin --keops_rt_kernel_create_gpu--> runtime
//     kernel)
// The machine code comes from lib/Target (HostCode, NvptxCode).
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/Compiler.h"
#include "keops/Compiler/AheadOfTime.h"

#include "CompileSteps.h"
#include "DiskCache.h"

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Target/GpuEmulation.h"
#include "keops/Target/HostCode.h"
#include "keops/Target/NvptxCode.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

using namespace mlir;
namespace mk = mlir::keops;
using namespace ::keops::detail;

//===----------------------------------------------------------------------===//
// Kernel
//===----------------------------------------------------------------------===//

namespace keops {

Kernel::Kernel(std::string imported, std::vector<KernelInput> inputs,
                        std::vector<KernelOutput> outputs, keops_rt_dtype_t dtype,
                      keops_rt_category_t rowCategory,
                      keops_rt_kernel_t *runtimeKernel, double compileMs,
                      KernelSource source, std::string backend)
    : imported(std::move(imported)), inputs(std::move(inputs)),
      outputs(std::move(outputs)), dtype(dtype), rowCategory(rowCategory),
      runtimeKernel(runtimeKernel), compileMs(compileMs), source(source),
      backend(std::move(backend)) {}

Kernel::~Kernel() {
  if (owned)
    keops_rt_kernel_destroy(runtimeKernel);
}

std::shared_ptr<const Kernel> Kernel::wrap(const keops_rt_kernel_t *kernel) {
  keops_rt_kernel_desc_t desc;
  keops_rt_kernel_describe(kernel, &desc);
  std::vector<KernelInput> inputs;
  for (int32_t k = 0; k < desc.num_inputs; ++k)
    inputs.push_back({desc.input_names[k] ? desc.input_names[k] : "",
                      desc.categories[k], desc.dims[k]});
  std::vector<KernelOutput> outputs;
  for (int32_t k = 0; k < desc.num_outputs; ++k)
    outputs.push_back({desc.output_dtypes[k], desc.output_dims[k]});
  auto wrapped = std::make_shared<Kernel>(
      "", std::move(inputs), std::move(outputs), desc.dtype,
      desc.row_category, const_cast<keops_rt_kernel_t *>(kernel), 0.0,
      KernelSource::Library,
      desc.target == KEOPS_RT_TARGET_GPU ? "gpu" : "cpu");
  wrapped->owned = false;
  return wrapped;
}

namespace {

/// The runtime's arguments for `inputs`, `outputs` and `options` (the
/// ranges point into `options`).
llvm::Expected<keops_rt_run_args_t>
runArgs(const std::vector<keops_rt_array_t> &inputArrays,
        const std::vector<keops_rt_array_t> &outputArrays,
        const RunOptions &options) {
  keops_rt_run_args_t args;
  keops_rt_run_args_initialize(&args);
  args.num_inputs = static_cast<int32_t>(inputArrays.size());
  args.inputs = inputArrays.data();
  args.num_outputs = static_cast<int32_t>(outputArrays.size());
  args.outputs = outputArrays.data();
  args.rows_i = options.rowsI;
  args.rows_j = options.rowsJ;
  args.num_threads = options.numThreads;
  args.memory = options.memory;
  args.device_id = options.deviceId;
  args.stream = options.stream;
  args.interrupt = options.interrupt;
  if (const BlockSparseRanges *ranges = options.ranges) {
    if (ranges->rowRanges.size() % 2 || ranges->colRanges.size() % 2 ||
        ranges->slices.size() * 2 != ranges->rowRanges.size())
      return makeError("block-sparse ranges: expected (n, 2) row ranges, n "
                       "slices and (m, 2) column ranges");
    args.num_row_ranges = static_cast<int64_t>(ranges->slices.size());
    static const int64_t noRanges[2] = {0, 0}; // not NULL: block-sparse
    args.row_ranges =
        ranges->rowRanges.empty() ? noRanges : ranges->rowRanges.data();
    args.slices = ranges->slices.data();
    args.num_col_ranges = static_cast<int64_t>(ranges->colRanges.size() / 2);
    args.col_ranges = ranges->colRanges.data();
  }
  return args;
}

/// The error of `status` (none for success), which it frees.
llvm::Error errorOf(keops_rt_status_t status) {
  if (!status)
    return llvm::Error::success();
  llvm::Error error = makeError(keops_rt_status_message(status));
  keops_rt_status_free(status);
  return error;
}

} // namespace

llvm::Error Kernel::run(const std::vector<keops_rt_array_t> &inputArrays,
                        const std::vector<keops_rt_array_t> &outputArrays,
                        const RunOptions &options) const {
  llvm::Expected<keops_rt_run_args_t> args =
      runArgs(inputArrays, outputArrays, options);
  if (!args)
    return args.takeError();
  return errorOf(keops_rt_kernel_run(runtimeKernel, &*args));
}

llvm::Error Kernel::runPartial(const std::vector<keops_rt_array_t> &inputs,
                               const std::vector<keops_rt_array_t> &outputs,
                               int64_t colBegin, int64_t colEnd, void *floats,
                               int64_t *ints,
                               const RunOptions &options) const {
  llvm::Expected<keops_rt_run_args_t> args = runArgs(inputs, outputs, options);
  if (!args)
    return args.takeError();
  return errorOf(keops_rt_kernel_run_partial(runtimeKernel, &*args, colBegin,
                                             colEnd, floats, ints));
}

llvm::Error Kernel::mergePartials(const std::vector<keops_rt_array_t> &inputs,
                                  const std::vector<keops_rt_array_t> &outputs,
                                  int32_t count, const void *floats,
                                  const int64_t *ints,
                                  const RunOptions &options) const {
  llvm::Expected<keops_rt_run_args_t> args = runArgs(inputs, outputs, options);
  if (!args)
    return args.takeError();
  return errorOf(keops_rt_kernel_merge_partials(runtimeKernel, &*args, count,
                                                floats, ints));
}

} // namespace keops

//===----------------------------------------------------------------------===//
// Compilation
//===----------------------------------------------------------------------===//

namespace {

/// Kernels by hash of their canonical IR and options, and the requests
/// (formula text, aliases, options) that led to them; at most `capacity`
/// kernels, the least recently used evicted first (a kernel in use lives on
/// with its users). A mutex guards the maps (compilation runs outside it).
struct KernelCache {
  struct Entry {
    std::shared_ptr<const ::keops::Kernel> kernel;
    uint64_t lastUse;
  };
  std::mutex mutex;
  std::map<std::string, llvm::hash_code> byText;
  std::map<llvm::hash_code, Entry> byIR;
  uint64_t clock = 0;
  size_t capacity = ::keops::kDefaultKernelCacheCapacity;

  /// The kernel of `irKey` (null: none), now the most recently used.
  std::shared_ptr<const ::keops::Kernel> find(llvm::hash_code irKey) {
    auto it = byIR.find(irKey);
    if (it == byIR.end())
      return nullptr;
    it->second.lastUse = ++clock;
    return it->second.kernel;
  }
  /// The kernel of a request (null: none). Evictions drop the requests of
  /// their kernels, so a request always names a cached kernel.
  std::shared_ptr<const ::keops::Kernel> findText(const std::string &text) {
    auto it = byText.find(text);
    return it == byText.end() ? nullptr : find(it->second);
  }
  void insert(llvm::hash_code irKey, const std::string &text,
              std::shared_ptr<const ::keops::Kernel> kernel) {
    if (capacity == 0)
      return;
    byIR[irKey] = {std::move(kernel), ++clock};
    if (!text.empty())
      byText[text] = irKey;
    evict();
  }
  /// Drops the least recently used kernels beyond the capacity, and the
  /// requests that led to them.
  void evict() {
    while (byIR.size() > capacity) {
      auto oldest = std::min_element(
          byIR.begin(), byIR.end(), [](const auto &a, const auto &b) {
            return a.second.lastUse < b.second.lastUse;
          });
      llvm::hash_code gone = oldest->first;
      byIR.erase(oldest);
      for (auto it = byText.begin(); it != byText.end();)
        it = it->second == gone ? byText.erase(it) : std::next(it);
    }
  }
};

/// Leaked on purpose: cached JIT engines must not be destroyed after LLVM's
/// own static state at process exit.
KernelCache &cache() {
  static KernelCache *instance = new KernelCache;
  return *instance;
}

/// `descriptor` with the tiles of the GPU kernel `code`: blocks of
/// blockSize threads of rowsPerThread rows, over j-tiles of a column a
/// thread.
::keops::KernelDescriptor
withGpuTiles(::keops::KernelDescriptor descriptor,
             const ::keops::target::NvptxCode &code) {
  descriptor.tileRows = code.blockSize * code.rowsPerThread;
  descriptor.tileCols = code.blockSize;
  return descriptor;
}

/// The ptxas that assembles the cubins of `options` ("": PTX only).
std::string ptxasFor(const ::keops::CompileOptions &options) {
  return options.gpuCubin ? ::keops::target::findPtxas() : std::string();
}

/// Lowers a canonical module to its GPU code with the compile options and
/// `ptxas` (see ptxasFor); with `emulated`, to a host kernel of the GPU
/// emulation instead, which only this process can run.
llvm::Expected<::keops::target::NvptxCode>
lowerToNvptx(ModuleOp module, const ::keops::CompileOptions &options,
             llvm::StringRef ptxas, bool emulated = false) {
  mk::KeOpsToNVVMPipelineOptions pipeline;
  setGpuOptions(pipeline, options);
  if (emulated)
    return ::keops::target::emulateOnHost(module, pipeline);
  return ::keops::target::lowerToNvptx(module, pipeline, ptxas);
}

/// The GPU code of a canonical module for this process to run: from the
/// on-disk cache when it holds a valid entry, else generated and stored
/// there; under the GPU emulation, host kernels (not cached: their code
/// stays in the process).
llvm::Expected<::keops::target::NvptxCode>
gpuCode(ModuleOp module, const std::string &canonical,
        const ::keops::CompileOptions &options, bool &fromDisk) {
  using ::keops::detail::DiskCache;
  std::shared_ptr<const DiskCache> cache = DiskCache::current();
  std::string key;
  fromDisk = false;
  std::string ptxas = ptxasFor(options);
  bool emulated = ::keops::target::gpuEmulationRequested();
  bool cached = cache->isEnabled() && !emulated;
  if (cached) {
    key = DiskCache::key({canonical, optionsKey(options),
                          ptxas.empty() ? "nvptx" : "nvptx+cubin"});
    if (std::optional<std::string> bytes = cache->load(key)) {
      auto code = ::keops::target::deserialize(*bytes);
      if (code) {
        fromDisk = true;
        return code;
      }
      llvm::consumeError(code.takeError());
      cache->remove(key);
    }
  }
  nameKernel(module, canonical, options);
  auto code = lowerToNvptx(module, options, ptxas, emulated);
  if (code && cached)
    cache->store(key, ::keops::target::serialize(*code));
  return code;
}

/// The machine code of a canonical module: from the on-disk cache when it
/// holds a valid entry, else lowered, JIT-compiled and stored there.
llvm::Expected<::keops::target::JitCode>
machineCode(ModuleOp module, const std::string &canonical,
            const ::keops::CompileOptions &options, bool &fromDisk) {
  using namespace ::keops::target;
  using ::keops::detail::DiskCache;
  std::shared_ptr<const DiskCache> cache = DiskCache::current();
  const DiskCache &disk = *cache;
  std::string key;
  std::string symbol = nameKernel(module, canonical, options);
  fromDisk = false;
  if (disk.isEnabled()) {
    key = DiskCache::key({canonical, optionsKey(options), codeGeneratorId()});
    if (std::optional<std::string> object = disk.load(key)) {
      auto code = loadObject(*object, symbol);
      if (code) {
        fromDisk = true;
        return code;
      }
      llvm::consumeError(code.takeError()); // unusable: rebuild it
      disk.remove(key);
    }
  }
  if (llvm::Error error = lowerForCpu(module, options))
    return std::move(error);
  std::string object;
  auto code =
      jitModule(module, symbol, disk.isEnabled() ? &object : nullptr);
  if (code && disk.isEnabled())
    disk.store(key, object);
  return code;
}

llvm::Expected<keops_rt_kernel_t *>
buildRuntimeKernel(ModuleOp module, const std::string &canonical,
                   const ::keops::CompileOptions &options,
                   const ::keops::KernelDescriptor &descriptor,
                   bool &fromDisk) {
  if (options.backend == "gpu") {
    auto code = gpuCode(module, canonical, options, fromDisk);
    if (!code)
      return code.takeError();
    keops_rt_gpu_code_t gpu{code->ptx.c_str(),  code->entry.c_str(),
                            code->blockSize,    code->cubin.data(),
                            code->cubin.size(), code->chip.c_str(),
                            code->rowsPerThread};
    return makeRuntimeKernel(withGpuTiles(descriptor, *code),
                             [&](const keops_rt_kernel_desc_t &desc,
                                 keops_rt_kernel_t **kernel) {
                               return keops_rt_kernel_create_gpu(&desc, &gpu,
                                                                 kernel);
                             });
  }
  auto code = machineCode(module, canonical, options, fromDisk);
  if (!code)
    return code.takeError();
  return makeRuntimeKernel(descriptor, [&](const keops_rt_kernel_desc_t &desc,
                                          keops_rt_kernel_t **kernel) {
    keops_rt_status_t status = keops_rt_kernel_create_cpu(
        &desc, code->entry, code->owner, code->release, kernel);
    if (status)
      code->release(code->owner);
    return status;
  });
}

} // namespace

namespace keops {

/// Compiles a canonical module (one function returning one keops.reduce),
/// through the IR cache; `textKey` (may be empty) caches the request too.
static llvm::Expected<std::shared_ptr<const Kernel>>
compileCanonical(OwningOpRef<ModuleOp> module, const CompileOptions &options,
              const std::string &textKey,
              std::chrono::steady_clock::time_point start) {
  KernelCache &kernels = cache();
  std::string canonical;
  llvm::raw_string_ostream(canonical) << *module;
  llvm::hash_code irKey = llvm::hash_combine(canonical, optionsKey(options));
  {
    std::lock_guard<std::mutex> lock(kernels.mutex);
    if (auto kernel = kernels.find(irKey)) {
      if (!textKey.empty())
        kernels.byText[textKey] = irKey;
      return kernel;
    }
  }

  // What the runtime needs to know, read before lowering.
  ::keops::KernelDescriptor descriptor = describeKernel(*module, options);
  bool fromDisk;
  auto runtimeKernel =
      buildRuntimeKernel(*module, canonical, options, descriptor, fromDisk);
  if (!runtimeKernel)
    return runtimeKernel.takeError();

  double compileMs = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - start)
                         .count();
  auto kernel = std::make_shared<const Kernel>(
      canonical, descriptor.inputs, descriptor.outputs, descriptor.dtype,
      descriptor.rowCategory, *runtimeKernel, compileMs,
      fromDisk ? KernelSource::DiskCache : KernelSource::Compiled,
      options.backend);
  std::lock_guard<std::mutex> lock(kernels.mutex);
  kernels.insert(irKey, textKey, kernel);
  return kernel;
}

llvm::Expected<std::shared_ptr<const Kernel>>
compile(const std::string &formula, const std::vector<std::string> &aliases,
        const CompileOptions &requested) {
  auto start = std::chrono::steady_clock::now();
  auto resolved = resolveTarget(requested);
  if (!resolved)
    return resolved.takeError();
  const CompileOptions &options = *resolved;
  std::string textKey = formula + "\n" + llvm::join(aliases, "\n") + "\n" +
                        optionsKey(options);
  {
    KernelCache &kernels = cache();
    std::lock_guard<std::mutex> lock(kernels.mutex);
    if (auto kernel = kernels.findText(textKey))
      return kernel;
  }
  MLIRContext context(registry());
  auto module = importCanonical(context, formula, aliases, options);
  if (!module)
    return module.takeError();
  return compileCanonical(std::move(*module), options, textKey, start);
}

llvm::Expected<GpuKernelBundle>
detail::gpuBundleOf(ModuleOp module, const CompileOptions &options,
                    const std::string *emulatedSymbol) {
  ::keops::KernelDescriptor descriptor = describeKernel(module, options);
  std::string canonical;
  llvm::raw_string_ostream(canonical) << module;
  nameKernel(module, canonical, options);
  if (emulatedSymbol) {
    mk::KeOpsToNVVMPipelineOptions pipeline;
    setGpuOptions(pipeline, options);
    auto emulated = ::keops::target::compileEmulatedObject(module, pipeline,
                                                           *emulatedSymbol);
    if (!emulated)
      return emulated.takeError();
    const ::keops::target::NvptxCode &code = emulated->code;
    GpuKernelBundle bundle{withGpuTiles(std::move(descriptor), code),
                           code.entry, "", "", code.blockSize,
                           code.rowsPerThread};
    bundle.hostObject = std::move(emulated->object);
    bundle.hostParameters = emulated->parameters;
    bundle.hostWorkgroupBytes = emulated->workgroupBytes;
    return bundle;
  }
  auto code = ::lowerToNvptx(module, options, ptxasFor(options));
  if (!code)
    return code.takeError();
  return GpuKernelBundle{withGpuTiles(std::move(descriptor), *code),
                         code->entry,     code->ptx,
                         code->cubin,     code->blockSize,
                         code->rowsPerThread};
}

llvm::Expected<std::vector<ModuleKernel>>
compileModule(llvm::StringRef text, const CompileOptions &requested) {
  auto start = std::chrono::steady_clock::now();
  std::vector<ModuleKernel> result;
  auto each = [&](KernelModule &kernel) -> llvm::Error {
    auto options =
        resolveTarget(withModuleDtype(*kernel.module, requested));
    if (!options)
      return options.takeError();
    auto compiled =
        compileCanonical(std::move(kernel.module), *options, "", start);
    if (!compiled)
      return compiled.takeError();
    result.push_back({kernel.function, *compiled});
    return llvm::Error::success();
  };
  if (llvm::Error error = forEachKernel(text, each))
    return std::move(error);
  return result;
}

llvm::Expected<std::string>
lowerToLLVMDialect(const std::string &formula,
                          const std::vector<std::string> &aliases,
                          const CompileOptions &requested) {
  CompileOptions cpu = requested;
  cpu.backend = "cpu";
  auto options = resolveTarget(cpu);
  if (!options)
    return options.takeError();
  MLIRContext context(registry());
  auto module = importCanonical(context, formula, aliases, *options);
  if (!module)
    return module.takeError();
  if (llvm::Error error = lowerForCpu(**module, *options))
    return std::move(error);
  std::string text;
  llvm::raw_string_ostream(text) << **module;
  return text;
}

llvm::Expected<std::string>
tileFormula(const std::string &formula, const std::vector<std::string> &aliases,
            const CompileOptions &requested) {
  CompileOptions options = requested;
  if (options.backend != "gpu") {
    options.backend = "cpu";
    auto resolved = resolveTarget(options);
    if (!resolved)
      return resolved.takeError();
    options = *resolved;
  } else if (llvm::Error error = checkOptions(options)) {
    return std::move(error);
  }
  MLIRContext context(registry());
  auto module = importCanonical(context, formula, aliases, options);
  if (!module)
    return module.takeError();
  PassManager pm(&context);
  mk::buildKeOpsTilingPipeline(pm, tilingOptions(options));
  if (failed(pm.run(**module)))
    return makeError("internal error: tiling failed");
  std::string text;
  llvm::raw_string_ostream(text) << **module;
  return text;
}

/// The GPU bundle of a formula (with `emulatedSymbol`: of the emulation).
static llvm::Expected<GpuKernelBundle>
formulaGpuBundle(const std::string &formula,
                 const std::vector<std::string> &aliases,
                 const CompileOptions &requested,
                 const std::string *emulatedSymbol) {
  auto options = gpuBundleOptions(requested);
  if (!options)
    return options.takeError();
  MLIRContext context(registry());
  auto module = importCanonical(context, formula, aliases, *options);
  if (!module)
    return module.takeError();
  return detail::gpuBundleOf(**module, *options, emulatedSymbol);
}

llvm::Expected<GpuKernelBundle>
buildGpuKernelBundle(const std::string &formula,
                     const std::vector<std::string> &aliases,
                     const CompileOptions &requested) {
  return formulaGpuBundle(formula, aliases, requested, nullptr);
}

llvm::Expected<GpuKernelBundle>
buildEmulatedGpuBundle(const std::string &formula,
                       const std::vector<std::string> &aliases,
                       const CompileOptions &requested,
                       const std::string &symbol) {
  return formulaGpuBundle(formula, aliases, requested, &symbol);
}

llvm::Expected<std::string>
lowerToPtx(const std::string &formula, const std::vector<std::string> &aliases,
           const CompileOptions &options) {
  CompileOptions ptxOnly = options;
  ptxOnly.gpuCubin = false;
  auto bundle = buildGpuKernelBundle(formula, aliases, ptxOnly);
  if (!bundle)
    return bundle.takeError();
  return bundle->ptx;
}

llvm::Expected<int> gpuDeviceCount() {
  int32_t count = 0;
  if (keops_rt_status_t status = keops_rt_gpu_device_count(&count)) {
    llvm::Error error = makeError(keops_rt_status_message(status));
    keops_rt_status_free(status);
    return std::move(error);
  }
  return count;
}

void setKernelCacheCapacity(size_t kernels) {
  KernelCache &cached = cache();
  std::lock_guard<std::mutex> lock(cached.mutex);
  cached.capacity = kernels;
  cached.evict();
}

size_t getKernelCacheSize() {
  KernelCache &cached = cache();
  std::lock_guard<std::mutex> lock(cached.mutex);
  return cached.byIR.size();
}

void clearKernelCache() {
  KernelCache &cached = cache();
  std::lock_guard<std::mutex> lock(cached.mutex);
  cached.byIR.clear();
  cached.byText.clear();
}

std::string getDiskCacheDirectory() {
  return detail::DiskCache::current()->getDirectory();
}

std::string getDefaultDiskCacheDirectory() {
  return detail::DiskCache::defaultDirectory();
}

llvm::Error setDiskCacheDirectory(const std::string &directory) {
  return detail::DiskCache::use(directory);
}

} // namespace keops
