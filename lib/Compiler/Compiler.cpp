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

#include "DiskCache.h"

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Conversion/KeOpsCommon/KernelFormula.h"
#include "keops/Dialect/KeOps/Transforms/Passes.h"
#include "keops/Dialect/KeOps/Transforms/ReductionGradient.h"
#include "keops/Dialect/KeOps/Transforms/Tiling.h"
#include "keops/Frontend/FormulaImporter.h"
#include "keops/InitAllKeOps.h"
#include "keops/Pipelines/Pipelines.h"
#include "keops/Conversion/Passes.h"
#include "keops/Target/GpuEmulation.h"
#include "keops/Target/HostCode.h"
#include "keops/Target/NvptxCode.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/xxhash.h"

#include <chrono>
#include <map>
#include <mutex>

using namespace mlir;
namespace mk = mlir::keops;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

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

Kernel::~Kernel() { keops_rt_kernel_destroy(runtimeKernel); }

llvm::Error Kernel::run(const std::vector<keops_rt_array_t> &inputArrays,
                        const std::vector<keops_rt_array_t> &outputArrays,
                        const RunOptions &options) const {
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
  keops_rt_status_t status = keops_rt_kernel_run(runtimeKernel, &args);
  if (!status)
    return llvm::Error::success();
  llvm::Error error = makeError(keops_rt_status_message(status));
  keops_rt_status_free(status);
  return error;
}

} // namespace keops

//===----------------------------------------------------------------------===//
// Compilation
//===----------------------------------------------------------------------===//

namespace {

const DialectRegistry &registry() {
  static const DialectRegistry instance = [] {
    DialectRegistry registry;
    mk::registerAllKeOpsDialects(registry);
    return registry;
  }();
  return instance;
}

/// Kernels by key; a mutex guards the map (compilation runs outside it).
struct KernelCache {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<const ::keops::Kernel>> byText;
  std::map<llvm::hash_code, std::shared_ptr<const ::keops::Kernel>> byIR;
};

/// Leaked on purpose: cached JIT engines must not be destroyed after LLVM's
/// own static state at process exit.
KernelCache &cache() {
  static KernelCache *instance = new KernelCache;
  return *instance;
}

llvm::Error checkOptions(const ::keops::CompileOptions &options) {
  if (!llvm::is_contained({"float16", "float32", "float64"}, options.dtype))
    return makeError("dtype must be float16, float32 or float64, got '" +
                     options.dtype + "'");
  if (!mk::symbolizeSumScheme(options.sumScheme))
    return makeError("sum_scheme must be block_sum, kahan_scheme or "
                     "direct_sum, got '" +
                     options.sumScheme + "'");
  if (options.lanes < 0 ||
      (options.lanes && !llvm::isPowerOf2_64(options.lanes)))
    return makeError("lanes must be 0 or a power of 2");
  if (options.tileJ < 1)
    return makeError("tile_j must be >= 1");
  if (options.rowsPerBlock < 1)
    return makeError("rows_per_block must be >= 1");
  if (options.featureLoopMinDim < 0)
    return makeError("feature_loop_min_dim must be >= 0");
  if (!llvm::is_contained({"cpu", "gpu", "auto"}, options.backend))
    return makeError("backend must be cpu, gpu or auto, got '" +
                     options.backend + "'");
  if (options.gpuBlockSize < 32 || options.gpuBlockSize > 1024 ||
      options.gpuBlockSize % 32)
    return makeError("gpu_block_size must be a multiple of 32 in [32, 1024], "
                     "got " +
                     llvm::Twine(options.gpuBlockSize));
  if (options.gpuRowsPerThread < 0 || options.gpuRowsPerThread > 16)
    return makeError("gpu_rows_per_thread must be in [0, 16] (0: automatic), "
                     "got " +
                     llvm::Twine(options.gpuRowsPerThread));
  if (!options.gpuArch.empty() &&
      !llvm::StringRef(options.gpuArch).starts_with("sm_"))
    return makeError("gpu_arch must look like sm_90, got '" +
                     options.gpuArch + "'");
  return llvm::Error::success();
}

/// The GPU architecture to compile for: options.gpuArch, else that of GPU 0,
/// else sm_90.
std::string targetChip(const ::keops::CompileOptions &options) {
  if (!options.gpuArch.empty())
    return options.gpuArch;
  int32_t major = 0, minor = 0;
  if (keops_rt_status_t status =
          keops_rt_gpu_device_info(0, nullptr, 0, &major, &minor)) {
    keops_rt_status_free(status);
    return "sm_90";
  }
  return "sm_" + std::to_string(major) + std::to_string(minor);
}

/// `options` with the backend resolved ("auto": the GPU when one is usable)
/// and, on the GPU, the architecture; an error when the GPU is asked for
/// but there is none.
llvm::Expected<::keops::CompileOptions>
resolveTarget(const ::keops::CompileOptions &options) {
  if (llvm::Error error = checkOptions(options))
    return std::move(error);
  ::keops::CompileOptions resolved = options;
  if (options.backend != "cpu") {
    auto count = ::keops::gpuDeviceCount();
    if (!count && options.backend == "gpu")
      return count.takeError();
    if (!count)
      llvm::consumeError(count.takeError());
    resolved.backend = count ? "gpu" : "cpu";
  }
  if (resolved.backend == "gpu")
    resolved.gpuArch = targetChip(options);
  if (resolved.dtype == "float16" && resolved.backend != "gpu")
    return makeError("float16 runs on the GPU only (backend 'gpu'), and " +
                     llvm::Twine(options.backend == "cpu"
                                     ? "the backend is 'cpu'"
                                     : "there is no usable GPU"));
  // As many lanes as the host's vector registers hold (16 f32 on AVX-512,
  // 8 on AVX2).
  if (resolved.backend == "cpu" && resolved.lanes == 0)
    resolved.lanes = ::keops::target::hostVectorBytes() /
                     (options.dtype == "float64" ? 8 : 4);
  return resolved;
}

std::string optionsKey(const ::keops::CompileOptions &options) {
  return options.dtype + "|" + options.sumScheme + "|" +
         (options.doubleAccumulator ? "f64acc" : "acc") + "|" +
         std::to_string(options.lanes) + "|" + std::to_string(options.tileJ) +
         "|" + std::to_string(options.rowsPerBlock) + "|" +
         std::to_string(options.featureLoopMinDim) + "|" + options.backend +
         (options.backend == "gpu"
              ? "|" + options.gpuArch + "|" +
                    std::to_string(options.gpuBlockSize) + "|" +
                    std::to_string(options.gpuRowsPerThread) +
                    (::keops::target::gpuEmulationRequested() ? "|emulated"
                                                              : "") +
                    (options.gpuCubin ? "|cubin" : "")
              : std::string());
}

/// Gives the kernel function of a canonical module its symbol:
/// keops_<16 hex digits of a hash of the canonical IR and the options>, the
/// same in every process, unique across kernels (for libraries of several).
std::string nameKernel(ModuleOp module, const std::string &canonical,
                       const ::keops::CompileOptions &options) {
  std::string symbol =
      "keops_" +
      llvm::utohexstr(llvm::xxh3_64bits(canonical + "|" + optionsKey(options)),
                      /*LowerCase=*/true, /*Width=*/16);
  (*module.getOps<func::FuncOp>().begin()).setSymName(symbol);
  return symbol;
}

/// Imports and canonicalizes a formula.
llvm::Expected<OwningOpRef<ModuleOp>>
importCanonical(MLIRContext &context, const std::string &formula,
                const std::vector<std::string> &aliases,
                const ::keops::CompileOptions &options) {
  mk::ImportOptions importOptions;
  importOptions.elementType =
      options.dtype == "float64"   ? Type(Float64Type::get(&context))
      : options.dtype == "float16" ? Type(Float16Type::get(&context))
                                   : Type(Float32Type::get(&context));
  mk::FormulaError error;
  OwningOpRef<ModuleOp> module =
      mk::importFormula(context, formula, aliases, importOptions, error);
  if (!module)
    return makeError(error.render());
  PassManager pm(&context);
  pm.addNestedPass<func::FuncOp>(mk::createKeOpsAutodiffPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (failed(pm.run(*module)))
    return makeError("internal error: autodiff or canonicalization failed");
  // The formula text is informative only: equal IR must hash equal.
  for (auto function : module->getOps<func::FuncOp>())
    function->removeAttr("keops.formula");
  return std::move(module);
}

/// The options both kernel pipelines take, from the compile options.
template <typename Derived>
void setKernelOptions(mk::KernelPipelineOptions<Derived> &pipeline,
                      const ::keops::CompileOptions &options) {
  pipeline.sumScheme = options.sumScheme;
  pipeline.doubleAccumulator = options.doubleAccumulator;
  pipeline.featureLoopMinDim = options.featureLoopMinDim;
}

/// Sets the keops-lower-to-cpu options of the compile options (lanes
/// resolved): as many vector registers as AVX-512 (32) when the lanes fill
/// 64 bytes, else AVX2's 16.
void setCpuOptions(mk::KeOpsToCPUPipelineOptions &pipeline,
                   const ::keops::CompileOptions &options) {
  setKernelOptions(pipeline, options);
  pipeline.lanes = options.lanes;
  pipeline.tileJ = options.tileJ;
  pipeline.rowsPerBlock = options.rowsPerBlock;
  int64_t vectorBytes = options.lanes * (options.dtype == "float64" ? 8 : 4);
  pipeline.vectorRegisters = vectorBytes >= 64 ? 32 : 16;
}

/// Sets the keops-lower-to-nvvm options of the compile options.
void setGpuOptions(mk::KeOpsToNVVMPipelineOptions &pipeline,
                   const ::keops::CompileOptions &options) {
  setKernelOptions(pipeline, options);
  pipeline.chip = options.gpuArch;
  pipeline.blockSize = options.gpuBlockSize;
  pipeline.rowsPerThread = options.gpuRowsPerThread;
}

/// The keops-tile-reductions options of the compile options' target.
mk::KeOpsTileReductionsPassOptions
tilingOptions(const ::keops::CompileOptions &options) {
  if (options.backend == "gpu") {
    mk::KeOpsToNVVMPipelineOptions pipeline;
    setGpuOptions(pipeline, options);
    return mk::getGpuTilingOptions(pipeline);
  }
  mk::KeOpsToCPUPipelineOptions pipeline;
  setCpuOptions(pipeline, options);
  return mk::getCpuTilingOptions(pipeline);
}

/// Adds keops-lower-to-cpu with the compile options to `pm`.
void addLowering(PassManager &pm, const ::keops::CompileOptions &options) {
  mk::KeOpsToCPUPipelineOptions pipeline;
  setCpuOptions(pipeline, options);
  mk::buildKeOpsToCPUPipeline(pm, pipeline);
}

keops_rt_category_t toRuntime(mk::Category category) {
  return category == mk::Category::i   ? KEOPS_RT_CATEGORY_I
         : category == mk::Category::j ? KEOPS_RT_CATEGORY_J
                                          : KEOPS_RT_CATEGORY_PARAM;
}

/// What the runtime needs to know of a kernel besides its code.
struct KernelInterface {
  std::vector<::keops::KernelInput> inputs;
  std::vector<::keops::KernelOutput> outputs;
  keops_rt_dtype_t dtype = KEOPS_RT_FLOAT32;
  keops_rt_category_t rowCategory = KEOPS_RT_CATEGORY_I;
  bool allowsEmptyReduction = false;
  /// The raw state of a row.
  mk::StateLayout state;
  keops_rt_dtype_t stateDtype = KEOPS_RT_FLOAT32;
  /// How it is compiled (the GPU tiles come with its code).
  std::string reduction, arch;
  int32_t k = 0, lanes = 1, tileRows = 0, tileCols = 0;
  keops_rt_target_t target = KEOPS_RT_TARGET_CPU;
};

/// The raw state of one row of the kernel of `reduce`: what the Accumulator
/// of its kind holds, in the accumulator type of the schedule that
/// keops-tile-reductions gives it with the target's options; and the tiles
/// of the CPU kernel (those of a GPU kernel come with its code).
KernelInterface withState(KernelInterface interface, mk::ReduceOp reduce,
                          const ::keops::CompileOptions &options) {
  std::string error;
  FailureOr<mk::ReductionTiling> tiling =
      mk::chooseTiling(reduce, tilingOptions(options), error);
  assert(succeeded(tiling) && "the compile options were checked");
  std::unique_ptr<mk::Accumulator> acc =
      mk::createAccumulator(reduce, *tiling);
  interface.state = mk::getStateLayout(*acc);
  interface.state.floats *= tiling->chunks.count();
  interface.state.ints *= tiling->chunks.count();
  interface.stateDtype =
      tiling->accType.isF64() ? KEOPS_RT_FLOAT64 : KEOPS_RT_FLOAT32;
  if (options.backend == "gpu") {
    interface.target = KEOPS_RT_TARGET_GPU;
    interface.arch = options.gpuArch;
    return interface;
  }
  interface.arch = ::keops::target::hostCpuName();
  interface.lanes = static_cast<int32_t>(options.lanes);
  interface.tileRows = static_cast<int32_t>(tiling->rows);
  interface.tileCols = static_cast<int32_t>(tiling->cols);
  return interface;
}

/// The interface of the kernel of a canonical module (one function
/// returning one keops.reduce), read before lowering.
KernelInterface describeKernel(ModuleOp module,
                               const ::keops::CompileOptions &options) {
  auto function = *module.getOps<func::FuncOp>().begin();
  auto reduce = *function.getOps<mk::ReduceOp>().begin();
  KernelInterface interface;
  for (auto [k, input] : llvm::enumerate(reduce.getInputs())) {
    auto name = function.getArgAttrOfType<StringAttr>(k, "keops.name");
    interface.inputs.push_back(
        {name ? name.str() : "", toRuntime(reduce.getCategory(k)),
         llvm::cast<RankedTensorType>(input.getType()).getShape().back()});
  }
  for (Type type : reduce.getResultTypes()) {
    auto tensor = llvm::cast<RankedTensorType>(type);
    Type element = tensor.getElementType();
    interface.outputs.push_back({element.isInteger(64) ? KEOPS_RT_INT64
                                 : element.isF64()     ? KEOPS_RT_FLOAT64
                                 : element.isF16()     ? KEOPS_RT_FLOAT16
                                                       : KEOPS_RT_FLOAT32,
                                 tensor.getShape().back()});
  }
  interface.dtype = options.dtype == "float64"   ? KEOPS_RT_FLOAT64
                    : options.dtype == "float16" ? KEOPS_RT_FLOAT16
                                                 : KEOPS_RT_FLOAT32;
  interface.rowCategory = reduce.getAxis() == mk::Axis::j
                              ? KEOPS_RT_CATEGORY_I
                              : KEOPS_RT_CATEGORY_J;
  // Only a sum has a value (0) on an empty set of columns.
  interface.allowsEmptyReduction = reduce.getKind() == mk::ReductionKind::sum;
  interface.reduction = mk::stringifyReductionKind(reduce.getKind()).str();
  interface.k = static_cast<int32_t>(reduce.getK().value_or(0));
  return withState(std::move(interface), reduce, options);
}

/// Creates a runtime kernel with `create` from the descriptor of
/// `interface`.
llvm::Expected<keops_rt_kernel_t *> makeRuntimeKernel(
    const KernelInterface &interface,
    llvm::function_ref<keops_rt_status_t(const keops_rt_kernel_desc_t &,
                                         keops_rt_kernel_t **)>
        create) {
  std::vector<keops_rt_category_t> categories;
  std::vector<int64_t> dims;
  std::vector<const char *> names;
  for (const ::keops::KernelInput &input : interface.inputs) {
    categories.push_back(input.category);
    dims.push_back(input.dim);
    names.push_back(input.name.c_str());
  }
  std::vector<int64_t> outputDims;
  std::vector<keops_rt_dtype_t> outputDtypes;
  for (const ::keops::KernelOutput &output : interface.outputs) {
    outputDims.push_back(output.dim);
    outputDtypes.push_back(output.dtype);
  }
  keops_rt_kernel_desc_t desc{};
  desc.abi_version = KEOPS_RT_KERNEL_ABI_VERSION;
  desc.name = "keops_kernel";
  desc.dtype = interface.dtype;
  desc.row_category = interface.rowCategory;
  desc.num_inputs = static_cast<int32_t>(interface.inputs.size());
  desc.categories = categories.data();
  desc.dims = dims.data();
  desc.input_names = names.data();
  desc.num_outputs = static_cast<int32_t>(interface.outputs.size());
  desc.output_dims = outputDims.data();
  desc.output_dtypes = outputDtypes.data();
  desc.allows_empty_reduction = interface.allowsEmptyReduction;
  desc.state_floats = static_cast<int32_t>(interface.state.floats);
  desc.state_ints = static_cast<int32_t>(interface.state.ints);
  desc.state_dtype = interface.stateDtype;
  desc.reduction = interface.reduction.c_str();
  desc.k = interface.k;
  desc.target = interface.target;
  desc.arch = interface.arch.c_str();
  desc.lanes = interface.lanes;
  desc.tile_rows = interface.tileRows;
  desc.tile_cols = interface.tileCols;
  keops_rt_kernel_t *kernel = nullptr;
  keops_rt_status_t status = create(desc, &kernel);
  if (status) {
    llvm::Error error = makeError(keops_rt_status_message(status));
    keops_rt_status_free(status);
    return std::move(error);
  }
  return kernel;
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
  PassManager pm(module->getContext());
  addLowering(pm, options);
  if (failed(pm.run(module)))
    return makeError("internal error: lowering to the LLVM dialect failed");
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
                   const KernelInterface &interface, bool &fromDisk) {
  if (options.backend == "gpu") {
    auto code = gpuCode(module, canonical, options, fromDisk);
    if (!code)
      return code.takeError();
    keops_rt_gpu_code_t gpu{code->ptx.c_str(),  code->entry.c_str(),
                            code->blockSize,    code->cubin.data(),
                            code->cubin.size(), code->chip.c_str(),
                            code->rowsPerThread};
    KernelInterface tiled = interface;
    tiled.tileRows = code->blockSize * code->rowsPerThread;
    tiled.tileCols = code->blockSize;
    return makeRuntimeKernel(
        tiled, [&](const keops_rt_kernel_desc_t &desc,
                       keops_rt_kernel_t **kernel) {
          return keops_rt_kernel_create_gpu(&desc, &gpu, kernel);
        });
  }
  auto code = machineCode(module, canonical, options, fromDisk);
  if (!code)
    return code.takeError();
  return makeRuntimeKernel(interface, [&](const keops_rt_kernel_desc_t &desc,
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
compileModule(OwningOpRef<ModuleOp> module, const CompileOptions &options,
              const std::string &textKey,
              std::chrono::steady_clock::time_point start) {
  KernelCache &kernels = cache();
  std::string canonical;
  llvm::raw_string_ostream(canonical) << *module;
  llvm::hash_code irKey = llvm::hash_combine(canonical, optionsKey(options));
  {
    std::lock_guard<std::mutex> lock(kernels.mutex);
    auto it = kernels.byIR.find(irKey);
    if (it != kernels.byIR.end()) {
      if (!textKey.empty())
        kernels.byText[textKey] = it->second;
      return it->second;
    }
  }

  // What the runtime needs to know, read before lowering.
  KernelInterface interface = describeKernel(*module, options);
  bool fromDisk;
  auto runtimeKernel =
      buildRuntimeKernel(*module, canonical, options, interface, fromDisk);
  if (!runtimeKernel)
    return runtimeKernel.takeError();

  double compileMs = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - start)
                         .count();
  auto kernel = std::make_shared<const Kernel>(
      canonical, interface.inputs, interface.outputs, interface.dtype,
      interface.rowCategory, *runtimeKernel, compileMs,
      fromDisk ? KernelSource::DiskCache : KernelSource::Compiled,
      options.backend);
  std::lock_guard<std::mutex> lock(kernels.mutex);
  kernels.byIR[irKey] = kernel;
  if (!textKey.empty())
    kernels.byText[textKey] = kernel;
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
    auto it = kernels.byText.find(textKey);
    if (it != kernels.byText.end())
      return it->second;
  }
  MLIRContext context(registry());
  auto module = importCanonical(context, formula, aliases, options);
  if (!module)
    return module.takeError();
  return compileModule(std::move(*module), options, textKey, start);
}

llvm::Expected<GradientKernels>
compileGradient(const std::string &formula,
                const std::vector<std::string> &aliases, unsigned wrt,
                const CompileOptions &requested) {
  auto start = std::chrono::steady_clock::now();
  auto resolved = resolveTarget(requested);
  if (!resolved)
    return resolved.takeError();
  const CompileOptions &options = *resolved;
  MLIRContext context(registry());
  auto forward = importCanonical(context, formula, aliases, options);
  if (!forward)
    return forward.takeError();
  GradientKernels result;
  func::FuncOp function = *(*forward)->getOps<func::FuncOp>().begin();
  mk::ReduceOp reduce = *function.getOps<mk::ReduceOp>().begin();
  if (wrt >= reduce.getInputs().size())
    return makeError("the formula has " +
                     llvm::Twine(reduce.getInputs().size()) +
                     " variables; there is no variable at position " +
                     llvm::Twine(wrt));
  mk::ReductionKind kind = reduce.getKind();
  if (kind == mk::ReductionKind::argmin || kind == mk::ReductionKind::argmax ||
      kind == mk::ReductionKind::argkmin)
    return result; // piecewise constant: a zero gradient, no kernel
  mk::BackwardInputs inputs;
  std::string error;
  auto backward =
      mk::buildGradientModule(**forward, wrt, inputs, result.sumRows, error);
  if (failed(backward))
    return makeError(error);
  PassManager pm(&context);
  pm.addNestedPass<func::FuncOp>(mk::createKeOpsAutodiffPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (failed(pm.run(**backward)))
    return makeError("internal error: differentiation failed");
  result.needsForwardOutput = inputs.forwardOutput;
  result.needsColumnIndex = inputs.columnIndex;
  auto kernel = compileModule(std::move(*backward), options, "", start);
  if (!kernel)
    return kernel.takeError();
  result.gradient = *kernel;
  auto sibling = [&](mk::ReductionKind siblingKind)
      -> llvm::Expected<std::shared_ptr<const Kernel>> {
    return compileModule(mk::buildSiblingReductionModule(**forward, siblingKind),
                         options, "", start);
  };
  if (inputs.logSumExp) {
    auto logSumExp = sibling(mk::ReductionKind::logsumexp);
    if (!logSumExp)
      return logSumExp.takeError();
    result.logSumExp = *logSumExp;
  }
  if (inputs.forwardIndices) {
    bool largest = kind == mk::ReductionKind::max ||
                   kind == mk::ReductionKind::max_argmax;
    bool k = kind == mk::ReductionKind::kmin ||
             kind == mk::ReductionKind::kmin_argkmin;
    auto indices = sibling(k         ? mk::ReductionKind::argkmin
                           : largest ? mk::ReductionKind::argmax
                                     : mk::ReductionKind::argmin);
    if (!indices)
      return indices.takeError();
    result.indices = *indices;
  }
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
  PassManager pm(&context);
  addLowering(pm, *options);
  if (failed(pm.run(**module)))
    return makeError("internal error: lowering to the LLVM dialect failed");
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

llvm::Expected<GpuKernelBundle>
buildGpuKernelBundle(const std::string &formula,
                     const std::vector<std::string> &aliases,
                     const CompileOptions &requested) {
  if (llvm::Error error = checkOptions(requested))
    return std::move(error);
  CompileOptions options = requested;
  options.backend = "gpu";
  if (options.gpuArch.empty())
    options.gpuArch = "sm_90";
  MLIRContext context(registry());
  auto module = importCanonical(context, formula, aliases, options);
  if (!module)
    return module.takeError();
  KernelInterface interface = describeKernel(**module, options);
  std::string canonical;
  llvm::raw_string_ostream(canonical) << **module;
  nameKernel(**module, canonical, options);
  auto code = ::lowerToNvptx(**module, options, ptxasFor(options));
  if (!code)
    return code.takeError();
  return GpuKernelBundle{interface.inputs,
                         interface.outputs,
                         interface.dtype,
                         interface.rowCategory,
                         interface.allowsEmptyReduction,
                         static_cast<int32_t>(interface.state.floats),
                         static_cast<int32_t>(interface.state.ints),
                         interface.stateDtype,
                         interface.reduction,
                         interface.k,
                         options.gpuArch,
                         code->entry,
                         code->ptx,
                         code->cubin,
                         code->blockSize,
                         code->rowsPerThread};
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
