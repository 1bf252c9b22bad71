//===- Compiler.h - Compile KeOps formulas into runtime kernels -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the C++ API of KeOps-MLIR: compile a formula with its
// aliases and options into a Kernel (imported, lowered with
// keops-lower-to-cpu and JIT-compiled for the host CPU), then run it on
// host buffers. Kernels are cached in the process by a hash of their
// canonical IR and options, so a formula is compiled once.
//
//   keops::CompileOptions options;                 // float32, block sum
//   auto kernel = keops::compile("Sum_Reduction(Exp(-SqDist(x,y))*b,0)",
//                                {"x = Vi(3)", "y = Vj(3)", "b = Vj(1)"},
//                                options);
//   if (!kernel) { report(kernel.takeError()); return; }
//   std::vector<float> a(N);
//   llvm::Error error = (*kernel)->run(
//       {{x, KEOPS_RT_FLOAT32, N, 3}, {y, KEOPS_RT_FLOAT32, M, 3},
//        {b, KEOPS_RT_FLOAT32, M, 1}},
//       {{a.data(), KEOPS_RT_FLOAT32, N, 1}});
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_COMPILER_COMPILER_H
#define KEOPS_COMPILER_COMPILER_H

#include "keops/Conversion/KeOpsCommon/KernelDescriptor.h"
#include "keops/Dialect/KeOps/Transforms/OptionDefaults.h"
#include "keops/Frontend/ReductionText.h"

#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace keops {

struct CompileOptions {
  /// "float32" or "float64".
  std::string dtype = "float32";
  /// Sum-type reductions: "block_sum", "kahan_scheme" or "direct_sum".
  std::string sumScheme = mlir::keops::defaults::kSumScheme;
  /// Accumulate float32 sum-type reductions in float64 (KeOps dtype_acc).
  bool doubleAccumulator = false;
  /// Columns per vector (0: the host's vector width, e.g. 16 float32 on
  /// AVX-512, 8 on AVX2) and per j-tile.
  int64_t lanes = 0;
  int64_t tileJ = mlir::keops::defaults::kTileCols;
  /// Rows computed together, sharing each load of the reduced variables.
  int64_t rowsPerBlock = mlir::keops::defaults::kTileRows;
  /// Sums over at least this many components (SqDist, scalar products,
  /// sums of componentwise expressions) loop over them, and outputs of as
  /// many components are reduced in chunks of 16; 0: unroll.
  int64_t featureLoopMinDim = mlir::keops::defaults::kFeatureLoopMinDim;
  /// "cpu", "gpu" or "auto" (the GPU when one is usable, else the CPU).
  std::string backend = "cpu";
  /// GPU architecture, e.g. "sm_90" ("": that of GPU 0, else sm_90).
  std::string gpuArch;
  /// GPU threads per block (a multiple of 32), also the columns per j-tile.
  int64_t gpuBlockSize = mlir::keops::defaults::kGpuBlockSize;
  /// Rows each GPU thread computes (register blocking); 0: as many (up to
  /// 4) as fit in the registers.
  int64_t gpuRowsPerThread = 0;
  /// Assemble GPU kernels to cubins with ptxas when one is found
  /// ($KEOPS_PTXAS, else the CUDA toolkit's, else PATH); without, the
  /// driver compiles the PTX when it loads it.
  bool gpuCubin = true;
};

/// The clusters of a block-sparse reduction (see keops_rt_run_args_t):
/// rowRanges and colRanges hold [begin, end) pairs, slices for each row range, the end
/// of its column ranges.
struct BlockSparseRanges {
  std::vector<int64_t> rowRanges, slices, colRanges;
};

/// Where a kernel's machine code came from: compiled in this process,
/// loaded from the on-disk cache, or a kernel library's (Kernel::wrap).
enum class KernelSource { Compiled, DiskCache, Library };

/// How a kernel runs (the fields of keops_rt_run_args_t beyond the arrays).
struct RunOptions {
  /// Rows of the i and j axes; -1 infers them from the inputs.
  int64_t rowsI = -1, rowsJ = -1;
  /// CPU threads; 0: one per core.
  int32_t numThreads = 0;
  /// Makes the reduction block-sparse (optional).
  const BlockSparseRanges *ranges = nullptr;
  /// GPU kernels take host arrays or, with KEOPS_RT_MEMORY_DEVICE, CUDA
  /// device pointers on `deviceId` (-1: host arrays split over every GPU,
  /// device arrays on 0), launched on `stream` (a CUstream; null: the
  /// default stream).
  keops_rt_memory_t memory = KEOPS_RT_MEMORY_HOST;
  int32_t deviceId = -1;
  void *stream = nullptr;
  /// CPU kernels stop at their next piece of work once `*interrupt` is
  /// nonzero, and the run fails (keops_rt_run_args_t::interrupt).
  const volatile int32_t *interrupt = nullptr;
};

/// A compiled kernel; shared, immutable and safe to run from many threads.
class Kernel {
public:
  Kernel(std::string imported, std::vector<KernelInput> inputs,
         std::vector<KernelOutput> outputs, keops_rt_dtype_t dtype,
         keops_rt_category_t rowCategory, keops_rt_kernel_t *runtimeKernel,
         double compileMs, KernelSource source, std::string backend);
  ~Kernel();
  Kernel(const Kernel &) = delete;

  /// A Kernel over a runtime kernel that someone else owns and keeps alive
  /// (the handle of a keops-aot library), described by its runtime
  /// descriptor; its imported module is empty.
  static std::shared_ptr<const Kernel> wrap(const keops_rt_kernel_t *kernel);
  Kernel &operator=(const Kernel &) = delete;

  const std::vector<KernelInput> &getInputs() const { return inputs; }
  const std::vector<KernelOutput> &getOutputs() const { return outputs; }
  keops_rt_dtype_t getDtype() const { return dtype; }
  /// The category that indexes output rows (I when reducing over j).
  keops_rt_category_t getRowCategory() const { return rowCategory; }
  /// The imported keops module, as text (the float64 reference reads it).
  const std::string &getImportedModule() const { return imported; }
  /// Milliseconds the first request took to build this kernel (import,
  /// then compilation or loading from the disk cache).
  double getCompileMs() const { return compileMs; }
  /// Compiled in this process, or loaded from the on-disk cache.
  KernelSource getSource() const { return source; }
  const keops_rt_kernel_t *getRuntimeKernel() const { return runtimeKernel; }
  /// "cpu" or "gpu": where the kernel runs.
  const std::string &getBackend() const { return backend; }

  /// Runs the kernel (see RunOptions).
  llvm::Error run(const std::vector<keops_rt_array_t> &inputs,
                  const std::vector<keops_rt_array_t> &outputs,
                  const RunOptions &options = {}) const;
  /// Reduces every output row over the columns [colBegin, colEnd) into
  /// raw states (keops_rt_kernel_run_partial; `outputs` give the rows).
  llvm::Error runPartial(const std::vector<keops_rt_array_t> &inputs,
                         const std::vector<keops_rt_array_t> &outputs,
                         int64_t colBegin, int64_t colEnd, void *floats,
                         int64_t *ints, const RunOptions &options = {}) const;
  /// Merges `count` partials, one after the other, into the outputs
  /// (keops_rt_kernel_merge_partials).
  llvm::Error mergePartials(const std::vector<keops_rt_array_t> &inputs,
                            const std::vector<keops_rt_array_t> &outputs,
                            int32_t count, const void *floats,
                            const int64_t *ints,
                            const RunOptions &options = {}) const;

private:
  std::string imported;
  std::vector<KernelInput> inputs;
  std::vector<KernelOutput> outputs;
  keops_rt_dtype_t dtype;
  keops_rt_category_t rowCategory;
  keops_rt_kernel_t *runtimeKernel;
  double compileMs;
  KernelSource source;
  std::string backend;
  bool owned = true; // destroys runtimeKernel
};

/// The kernels the process cache keeps at most by default.
inline constexpr size_t kDefaultKernelCacheCapacity = 256;

/// Keeps at most `kernels` compiled kernels in the process cache (0: none),
/// evicting the least recently used (a kernel still held by its users stays
/// alive with them): the cache of a long-running process that compiles
/// many formulas no longer grows without bound.
void setKernelCacheCapacity(size_t kernels);
/// The kernels in the process cache.
size_t getKernelCacheSize();
/// Empties the process cache (kernels held elsewhere stay usable).
void clearKernelCache();

/// The directory of the on-disk kernel cache ("" when there is none): from
/// $KEOPS_CACHE_DIR ("off": none), else ~/.cache/keops-mlir/<version>.
std::string getDiskCacheDirectory();

/// The directory the on-disk cache starts with (see getDiskCacheDirectory).
std::string getDefaultDiskCacheDirectory();

/// Moves the on-disk kernel cache to `directory`, created if needed ("" or
/// "off": no cache). Kernels already in this process stay.
llvm::Error setDiskCacheDirectory(const std::string &directory);

/// Compiles (or finds in the process cache) the kernel of a formula. Errors
/// (a bad formula, a bad option) carry the importer's report.
llvm::Expected<std::shared_ptr<const Kernel>>
compile(const std::string &formula, const std::vector<std::string> &aliases,
        const CompileOptions &options = {});

/// A kernel of a module, and the function it was compiled from.
struct ModuleKernel {
  std::string function;
  std::shared_ptr<const Kernel> kernel;
};

/// Compiles every reduction of a keops-dialect module, given as text: each
/// kernel function (one keops.reduce of its arguments), and each keops.reduce
/// inside a larger function, outlined by keops-outline-reductions into
/// `<function>_keops_<n>`; in the order of the module's functions, each in
/// the dtype of its IR. The formula importer is the other front end of the
/// same compiler: a formula is a module of one kernel function.
llvm::Expected<std::vector<ModuleKernel>>
compileModule(llvm::StringRef module, const CompileOptions &options = {});

/// A reduction of the formula language (`name_Reduction(...)`) and what a
/// front end checks before calling it, from the importer's table.
struct ReductionName {
  std::string name;
  /// The keops.reduce kind it builds ("sum", "logsumexp", "kmin", ...).
  std::string kind;
  bool takesK = false;
  enum class Weight { None, Optional, Required } weight = Weight::None;
  /// Whether it accumulates sums (sum schemes and the float64 accumulator
  /// apply to it).
  bool sumType = false;
};

/// Every reduction name the formula importer accepts.
std::vector<ReductionName> getReductionNames();

/// The backward reduction of a formula's reduction with respect to one of
/// its variables, in the formula language (the rules of
/// ReductionGradient.h, written by the formula printer): a front end that
/// builds calls from formulas runs it, and differentiates it again, as any
/// formula. It reads the forward variables, then `inputs`, each a variable
/// indexed like the forward output (the column index: like the reduced
/// axis) at the next position.
struct GradientFormula {
  struct Input {
    enum class Kind {
      Eta,           // the gradient with respect to the forward output
      ForwardOutput, // the forward output (logsumexp, sumsoftmaxweight)
      LogSumExp,     // the output of `reduction` (sumsoftmaxweight)
      Indices,       // the output of `reduction`, as floats (min, max, kmin)
      ColumnIndex,   // 0, 1, ..., M - 1 over the reduced axis, as floats
      Tangent,       // tangentFormula: the tangent of variable `position`
    };
    /// "eta", "output", "logsumexp", "indices", "column" or "tangent".
    static const char *kindName(Kind kind);
    Kind kind;
    /// For LogSumExp and Indices: a reduction of the forward variables.
    mlir::keops::ReductionText reduction;
    unsigned position = 0; // Tangent: which variable
  };
  /// A Sum reduction over the axis the variable is not indexed by.
  mlir::keops::ReductionText reduction;
  std::vector<Input> inputs;
  /// Whether the caller sums the rows of the result (a parameter).
  bool sumRows = false;
};

/// The backward reduction of the reduction `formula` with respect to the
/// variable at position `wrt`, or nullopt for a zero gradient (argmin,
/// argmax, argkmin); errors name a bad formula or position.
llvm::Expected<std::optional<GradientFormula>>
gradientFormula(const std::string &formula,
                const std::vector<std::string> &aliases, unsigned wrt);

/// The reduction `formula` with its derivatives (Grad, Diff, TraceOperator,
/// ...) expanded and simplified as every compile does, in the formula
/// language: a TraceOperator of a formula linear in its variable no longer
/// reads that variable.
llvm::Expected<mlir::keops::ReductionText>
expandedFormula(const std::string &formula,
                const std::vector<std::string> &aliases);

/// The tangent (forward-mode derivative) of the value output of the
/// reduction `formula` along tangents of the variables at `positions`, as a
/// reduction over the forward axis that reads the forward variables, the
/// tangents (in the order of `positions`), then the saved values (the rules
/// of buildTangentModule); nullopt for a zero tangent (argmin, argmax,
/// argkmin).
llvm::Expected<std::optional<GradientFormula>>
tangentFormula(const std::string &formula,
               const std::vector<std::string> &aliases,
               const std::vector<unsigned> &positions);

/// The kernels that compute the gradient of a reduction with respect to one
/// of its variables, given eta, the gradient with respect to its (value)
/// output. The gradient kernel takes the formula's variables, then eta
/// (rows like the output), then, when flagged: the forward output
/// (`needsForwardOutput`), the output of `logSumExp` run on the formula's
/// variables (when that kernel is set), the output of `indices` run on the
/// formula's variables, converted to floats (when that kernel is set), and
/// the column index
/// 0, 1, ..., M - 1 of the reduced axis as a float column
/// (`needsColumnIndex`). Its result has one row per row of the variable; for
/// a parameter the rows must be summed (`sumRows`). No gradient kernel means
/// a zero gradient (argmin, argmax, argkmin). Indices as float32 are exact
/// up to 2^24 columns.
struct GradientKernels {
  std::shared_ptr<const Kernel> gradient;
  std::shared_ptr<const Kernel> logSumExp;
  std::shared_ptr<const Kernel> indices;
  bool needsForwardOutput = false;
  bool needsColumnIndex = false;
  bool sumRows = false;
};

/// Compiles the gradient kernels of a formula's reduction with respect to
/// the variable at position `wrt`: sum, logsumexp with or without weight,
/// sumsoftmaxweight, and (beyond KeOps) min, max, min_argmin, max_argmax,
/// kmin and kmin_argkmin through their selected indices: the kernels of
/// gradientFormula's reductions.
llvm::Expected<GradientKernels>
compileGradient(const std::string &formula,
                const std::vector<std::string> &aliases, unsigned wrt,
                const CompileOptions &options = {});

/// Everything the runtime needs to run a formula's GPU kernel without the
/// compiler (keops_rt_kernel_desc_t and keops_rt_gpu_code_t): what
/// `keops-run --emit=bundle` writes and `scripts/gpu-check` loads.
struct GpuKernelBundle {
  KernelDescriptor descriptor; // arch: the GPU architecture
  std::string entry, ptx;
  std::string cubin; // empty without ptxas (or options.gpuCubin)
  int32_t blockSize, rowsPerThread;
  /// Only from buildEmulatedGpuBundle (the GPU emulation of the tests): no
  /// PTX, but the emulated kernel as a host object whose one symbol is
  /// `entry`, and the parameter count and workgroup bytes of its image text
  /// (include/keops/Target/GpuEmulation.h).
  std::string hostObject = {};
  int64_t hostParameters = 0, hostWorkgroupBytes = 0;
};

/// The GPU kernel of a formula, as a bundle (options.gpuArch, default
/// sm_90); needs no GPU.
llvm::Expected<GpuKernelBundle>
buildGpuKernelBundle(const std::string &formula,
                     const std::vector<std::string> &aliases,
                     const CompileOptions &options = {});

/// The PTX of a formula's GPU kernel (options.gpuArch, default sm_90);
/// needs no GPU.
llvm::Expected<std::string>
lowerToPtx(const std::string &formula, const std::vector<std::string> &aliases,
           const CompileOptions &options = {});

/// The number of usable GPUs, or an error saying why there is none.
llvm::Expected<int> gpuDeviceCount();

/// The tiled form of a formula's kernel, as text (for inspection): its
/// keops.reduce and the keops.schedule that keops-tile-reductions gives it
/// for options.backend ("gpu": the GPU's resources; else the CPU's);
/// needs no GPU.
llvm::Expected<std::string>
tileFormula(const std::string &formula, const std::vector<std::string> &aliases,
            const CompileOptions &options = {});

/// The lowered LLVM-dialect module of a formula, as text (for inspection).
llvm::Expected<std::string>
lowerToLLVMDialect(const std::string &formula,
                   const std::vector<std::string> &aliases,
                   const CompileOptions &options = {});

} // namespace keops

#endif // KEOPS_COMPILER_COMPILER_H
