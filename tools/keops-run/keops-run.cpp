//===- keops-run.cpp - Compile and run one KeOps formula --------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops-run, the command-line entry point:
//
//   keops-run --formula 'Sum_Reduction(Exp(-SqDist(x,y))*b,0)'
//             --alias 'x=Vi(3)' --alias 'y=Vj(3)' --alias 'b=Vj(1)'
//             [--emit=mlir|tiled|llvm|ptx|cubin|bundle] [--size i=N] [--size j=M]
//             [--dtype float32|float64|float16] [--backend auto|cpu|gpu]
//             [--feature-loop-min-dim D] [--gpu-arch sm_XY]
//             [--gpu-block-size B] [--gpu-rows-per-thread R]
//             [--gpu-cubin=false] [--device D]
//             [--input NAME=file.npy]... [--output file.npy] [--seed S]
//             [--repeat R] [--check] [--tolerance T] [--json]
//
// It compiles the formula, fills the variables (from .npy files or random),
// runs the kernel R times, and reports the compile time, the median run
// time and the pairs per second; --check compares sampled output rows with
// the float64 reference evaluation. Errors exit with status 1 and a message
// on stderr; a failed check exits with status 2.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include "keops/Compiler/Compiler.h"
#include "keops/Compiler/Elements.h"
#include "keops/Compiler/Reference.h"
#include "keops/Frontend/FormulaImporter.h"
#include "keops/InitAllKeOps.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Base64.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

namespace cl = llvm::cl;

namespace {

/// The defaults of the options, from the C++ API.
const keops::CompileOptions kDefaults;

enum class Emit { None, Mlir, Tiled, Llvm, Ptx, Cubin, Bundle };
enum class Backend { Auto, Cpu, Gpu };

cl::OptionCategory category("keops-run options");

cl::opt<std::string> formulaText(
    "formula", cl::Required, cl::cat(category),
    cl::desc("The reduction, e.g. 'Sum_Reduction(Exp(-SqDist(x,y))*b,0)'"));
cl::list<std::string>
    aliasTexts("alias", cl::cat(category),
               cl::desc("A variable: 'x=Vi(3)', 'y=Vj(3)', 'p=Pm(1)', "
                        "'Vi(pos,dim)' or 'Var(pos,dim,cat)' (repeatable)"));
cl::opt<Emit> emit(
    "emit", cl::init(Emit::None), cl::cat(category),
    cl::desc("Print an intermediate form and exit"),
    cl::values(clEnumValN(Emit::Mlir, "mlir", "the imported keops module"),
               clEnumValN(Emit::Tiled, "tiled",
                          "the reduction and its keops.schedule, tiled for "
                          "the CPU (the GPU with --backend=gpu; needs no "
                          "GPU)"),
               clEnumValN(Emit::Llvm, "llvm",
                          "the module lowered to the LLVM dialect (CPU)"),
               clEnumValN(Emit::Ptx, "ptx",
                          "the PTX of the GPU kernel (needs no GPU)"),
               clEnumValN(Emit::Cubin, "cubin",
                          "the GPU kernel assembled by ptxas (needs no GPU; "
                          "binary, use with shell redirection)"),
               clEnumValN(Emit::Bundle, "bundle",
                          "the GPU kernel with its runtime descriptor, as "
                          "JSON (needs no GPU; scripts/gpu-check runs it)")));
cl::list<std::string>
    sizes("size", cl::cat(category),
          cl::desc("Rows of the i or j axis: i=N, j=M (default: the rows of "
                   "the --input files, else 1000; 1 for an axis without "
                   "variables)"));
cl::opt<std::string> dtype("dtype", cl::init(kDefaults.dtype), cl::cat(category),
                           cl::desc("Element type: float32, float64 or "
                                    "float16 (GPU only)"));
cl::opt<Backend> backend(
    "backend", cl::init(Backend::Auto), cl::cat(category),
    cl::desc("Where to run"),
    cl::values(clEnumValN(Backend::Auto, "auto",
                          "the GPU when one is usable, else the CPU"),
               clEnumValN(Backend::Cpu, "cpu", "the CPU, on all cores"),
               clEnumValN(Backend::Gpu, "gpu",
                          "NVIDIA GPUs (output rows split over all of them "
                          "unless --device is given)")));
cl::opt<std::string>
    gpuArch("gpu-arch", cl::init(""), cl::cat(category),
            cl::desc("GPU architecture of the kernel, e.g. sm_90 (default: "
                     "that of GPU 0; sm_90 for --emit=ptx without a GPU)"));
cl::opt<int64_t> gpuBlockSize(
    "gpu-block-size", cl::init(kDefaults.gpuBlockSize), cl::cat(category),
    cl::desc("GPU threads per block, a multiple of 32 (also the columns of "
             "a j-tile)"));
cl::opt<int64_t> gpuRowsPerThread(
    "gpu-rows-per-thread", cl::init(kDefaults.gpuRowsPerThread),
    cl::cat(category),
    cl::desc("Rows each GPU thread computes, in [1, 16] (default 0: as many, "
             "up to 4, as fit in the registers)"));
cl::opt<bool> gpuCubin(
    "gpu-cubin", cl::init(kDefaults.gpuCubin), cl::cat(category),
    cl::desc("Assemble GPU kernels to cubins with ptxas when one is found "
             "($KEOPS_PTXAS, the CUDA toolkit's, PATH); =false: PTX only, "
             "compiled by the driver"));
cl::opt<int64_t> rowsPerBlock(
    "rows-per-block", cl::init(kDefaults.rowsPerBlock), cl::cat(category),
    cl::desc("CPU: rows computed together, sharing each load of the reduced "
             "variables"));
cl::opt<int64_t> tileJ(
    "tile-j", cl::init(kDefaults.tileJ), cl::cat(category),
    cl::desc("CPU: columns of a j-tile (fewer when their staged variables "
             "exceed 256 KiB)"));
cl::opt<int64_t> lanes(
    "lanes", cl::init(kDefaults.lanes), cl::cat(category),
    cl::desc("CPU: columns in one vector of a lane step, a power of 2 (default "
             "0: as many as the host's vector registers hold)"));
cl::opt<int64_t> featureLoopMinDim(
    "feature-loop-min-dim", cl::init(kDefaults.featureLoopMinDim),
    cl::cat(category),
    cl::desc("Sums over at least this many components loop over them, and "
             "outputs of as many are reduced in chunks (0: unroll every "
             "component)"));
cl::opt<int> device("device", cl::init(-1), cl::cat(category),
                    cl::desc("Run on this GPU only (default: all)"));
cl::list<std::string> inputs(
    "input", cl::cat(category),
    cl::desc("Read variable NAME from a .npy file: NAME=file.npy "
             "(repeatable). Other variables are random: uniform on [0, 1), "
             "drawn by a 64-bit Mersenne Twister seeded with --seed, "
             "variables in position order, each row-major"));
cl::opt<std::string>
    outputPath("output", cl::cat(category),
               cl::desc("Write the result to this .npy file (a second "
                        "result, such as argmin indices, to FILE.1.npy)"));
cl::opt<uint64_t> seed("seed", cl::init(0), cl::cat(category),
                       cl::desc("Seed of the random inputs"));
cl::opt<unsigned> repeat("repeat", cl::init(1), cl::cat(category),
                         cl::desc("Run the kernel this many times; the "
                                  "median time is reported"));
cl::opt<bool> check(
    "check", cl::cat(category),
    cl::desc("Compare sampled output rows (all when small) with a float64 "
             "reference evaluation, rounded to the output's dtype; exit with "
             "status 2 above the tolerance"));
cl::opt<double> tolerance(
    "tolerance", cl::init(0.0), cl::cat(category),
    cl::desc("Largest relative error that --check accepts (default: 1e-2 "
             "for float16, 1e-4 for float32, 1e-10 for float64); in float16 "
             "and float32, beyond the spread of the references of inputs "
             "perturbed by 16 units in the last place"));
cl::opt<bool> json("json", cl::cat(category),
                   cl::desc("Print one JSON object with the measurements"));

int fail(const llvm::Twine &message) {
  llvm::errs() << "keops-run: " << message << "\n";
  return 1;
}

/// Prints an error of the compiler API: formula errors come rendered with
/// their source line, others get the tool's prefix.
int report(llvm::Error error) {
  std::string text = llvm::toString(std::move(error));
  if (llvm::StringRef(text).ends_with("\n")) {
    llvm::errs() << text;
    return 1;
  }
  return fail(text);
}

double elapsedMs(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "(";
  for (size_t k = 0; k < shape.size(); ++k)
    text += (k ? ", " : "") + std::to_string(shape[k]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

/// Rows of the checked sample: all when small, else evenly spaced.
std::vector<int64_t> sampleRows(int64_t rows, int64_t columns) {
  int64_t budget = std::max<int64_t>(8, 2000000 / std::max<int64_t>(columns, 1));
  int64_t count = std::min(rows, budget);
  std::vector<int64_t> sample;
  for (int64_t k = 0; k < count; ++k)
    sample.push_back(count == rows ? k : k * (rows - 1) / std::max<int64_t>(count - 1, 1));
  return sample;
}

/// The values that an output element or a reference takes under the
/// perturbations: the range of its finite values, and whether it is NaN,
/// +inf or -inf in some.
struct Spread {
  double lo = INFINITY, hi = -INFINITY;
  bool nan = false, positiveInf = false, negativeInf = false;

  void add(double v) {
    if (std::isnan(v))
      nan = true;
    else if (std::isinf(v))
      (v > 0 ? positiveInf : negativeInf) = true;
    else
      lo = std::min(lo, v), hi = std::max(hi, v);
  }
  bool hasFinite() const { return lo <= hi; }
};

/// How far apart two spreads are: 0 when both are NaN, or the same
/// infinity, somewhere, else the gap between their finite ranges (infinite
/// when one has none). Unperturbed: NaN agrees with NaN only, an infinity
/// with itself only.
double distance(const Spread &a, const Spread &b) {
  if ((a.nan && b.nan) || (a.positiveInf && b.positiveInf) ||
      (a.negativeInf && b.negativeInf))
    return 0.0;
  if (!a.hasFinite() || !b.hasFinite())
    return INFINITY;
  return std::max({0.0, a.lo - b.hi, b.lo - a.hi});
}

/// The perturbations of the inputs that float32 and float16 kernels are
/// also compared with (ReferenceEvaluator::perturb): kPerturbations of 16
/// units in the last place of the dtype.
constexpr int kPerturbations = 6;
double perturbationOf(keops_rt_dtype_t dtype) {
  return dtype == KEOPS_RT_FLOAT16   ? 0x1.0p-7
         : dtype == KEOPS_RT_FLOAT32 ? 0x1.0p-20
                                     : 0.0;
}

/// The largest normwise relative error of the sampled rows: per output,
/// max |out - ref| / max |ref|, the references rounded to the output's
/// dtype (a float32 kernel is right to give +inf where the true value is
/// beyond float32's range; not where only an intermediate is). Index
/// outputs are judged by the formula value at the returned index, so that
/// near-ties may resolve either way;
/// KEOPS_RT_NO_COLUMN (no column reached the slot) must match exactly. An
/// element further than `allowed` from the reference is also compared with
/// the references of perturbed inputs (perturbationOf the kernel's dtype):
/// where the formula jumps (Floor, Mod, Sign, comparisons) near the inputs,
/// or cancels (x - Floor(x)), a float32 kernel may round to either side:
/// it errs only if it is further from the range of them all than that
/// range is wide.
double checkRows(const keops::Kernel &kernel, keops::ReferenceEvaluator &ref,
                 const std::vector<std::vector<char>> &outputs,
                 const std::vector<int64_t> &rows, double allowed) {
  const auto &outputInfo = kernel.getOutputs();
  size_t numOutputs = outputInfo.size();
  auto value = [&](size_t o, int64_t index) {
    return keops::readElement(outputs[o].data(), outputInfo[o].dtype, index);
  };
  auto isIndex = [&](size_t o) {
    return outputInfo[o].dtype == KEOPS_RT_INT64;
  };
  // Index outputs compare the formula values at the indices (component
  // k % formula dim).
  auto formulaAt = [&](int64_t row, double column, int64_t k) {
    std::vector<double> formula =
        ref.evaluatePair(row, static_cast<int64_t>(column))[0];
    return formula[k % static_cast<int64_t>(formula.size())];
  };
  // The references of `row`, values rounded to the outputs' dtypes.
  auto reduceRow = [&](int64_t row) {
    std::vector<std::vector<double>> reduced = ref.reduceRow(row);
    for (size_t o = 0; o < numOutputs; ++o)
      if (!isIndex(o))
        for (double &v : reduced[o])
          v = keops::roundToDtype(v, outputInfo[o].dtype);
    return reduced;
  };
  std::vector<std::vector<std::vector<double>>> expected;
  std::vector<double> maxRef(numOutputs, 0.0);
  for (int64_t row : rows) {
    expected.push_back(reduceRow(row));
    for (size_t o = 0; o < numOutputs; ++o)
      for (auto [k, want] : llvm::enumerate(expected.back()[o])) {
        double magnitude = want;
        if (isIndex(o))
          magnitude = want == KEOPS_RT_NO_COLUMN ? 0.0 : formulaAt(row, want, k);
        if (std::isfinite(magnitude))
          maxRef[o] = std::max(maxRef[o], std::fabs(magnitude));
      }
  }

  double worst = 0.0;
  double perturbation = perturbationOf(kernel.getDtype());
  for (size_t r = 0; r < rows.size(); ++r) {
    int64_t row = rows[r];
    // The references of row `row` under the perturbations, when needed.
    std::vector<std::vector<std::vector<double>>> perturbed;
    for (size_t o = 0; o < numOutputs; ++o) {
      double scale = std::max(maxRef[o], 1e-300);
      int64_t dim = outputInfo[o].dim;
      for (int64_t k = 0; k < dim; ++k) {
        double got = value(o, row * dim + k), want = expected[r][o][k];
        // No column reached that slot: both must say so.
        if (isIndex(o) &&
            (got == KEOPS_RT_NO_COLUMN || want == KEOPS_RT_NO_COLUMN ||
             got < 0 || got >= ref.getNumColumns())) {
          if (got != want)
            worst = INFINITY;
          continue;
        }
        // The output and the reference (their formula values, for
        // indices), unperturbed (p = -1), then under perturbation p.
        Spread ours, theirs;
        auto sample = [&](int p) {
          double reference = p < 0 ? want : perturbed[p][o][k];
          ours.add(isIndex(o) ? formulaAt(row, got, k) : got);
          if (!isIndex(o) || reference != KEOPS_RT_NO_COLUMN)
            theirs.add(isIndex(o) ? formulaAt(row, reference, k) : reference);
        };
        sample(-1);
        double error = distance(ours, theirs);
        if (error > allowed * scale && perturbation > 0.0) {
          for (int p = 0; p < kPerturbations; ++p) {
            ref.perturb(p + 1, perturbation);
            if (perturbed.size() <= static_cast<size_t>(p))
              perturbed.push_back(reduceRow(row));
            sample(p);
            ref.perturb(0, 0.0);
          }
          // Within the references' spread of their range: the output is as
          // far off as the formula's conditioning allows.
          double spread = theirs.hasFinite() ? theirs.hi - theirs.lo : 0.0;
          error = std::max(0.0, distance(ours, theirs) - spread);
        }
        worst = std::max(worst, error / scale);
      }
    }
  }
  return worst;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "KeOps-MLIR: compile and run one formula\n");

  if (dtype != "float16" && dtype != "float32" && dtype != "float64")
    return fail("--dtype must be float16, float32 or float64, got '" + dtype +
                "'");
  if (repeat == 0)
    return fail("--repeat must be >= 1");
  int64_t requestedRows[2] = {-1, -1};
  for (const std::string &size : sizes) {
    auto [axis, count] = llvm::StringRef(size).split('=');
    int64_t rows;
    if ((axis != "i" && axis != "j") || count.getAsInteger(10, rows) ||
        rows < 0)
      return fail("--size '" + size + "' must be i=N or j=M with N, M >= 0");
    requestedRows[axis == "i" ? 0 : 1] = rows;
  }
  keops::CompileOptions options;
  options.dtype = dtype;
  options.backend = backend == Backend::Gpu   ? "gpu"
                    : backend == Backend::Cpu ? "cpu"
                                              : "auto";
  options.gpuArch = gpuArch;
  options.gpuBlockSize = gpuBlockSize;
  options.gpuRowsPerThread = gpuRowsPerThread;
  options.gpuCubin = gpuCubin;
  options.rowsPerBlock = rowsPerBlock;
  options.tileJ = tileJ;
  options.lanes = lanes;
  options.featureLoopMinDim = featureLoopMinDim;

  if (emit == Emit::Mlir) {
    mlir::DialectRegistry registry;
    mlir::keops::registerAllKeOpsDialects(registry);
    mlir::MLIRContext context(registry);
    mlir::keops::ImportOptions importOptions;
    importOptions.elementType =
        dtype == "float64"   ? mlir::Type(mlir::Float64Type::get(&context))
        : dtype == "float16" ? mlir::Type(mlir::Float16Type::get(&context))
                             : mlir::Type(mlir::Float32Type::get(&context));
    mlir::keops::FormulaError error;
    auto module = mlir::keops::importFormula(context, formulaText, aliasTexts,
                                             importOptions, error);
    if (!module) {
      llvm::errs() << error.render();
      return 1;
    }
    module->print(llvm::outs());
    return 0;
  }
  if (emit == Emit::Tiled) {
    auto tiled = keops::tileFormula(formulaText, aliasTexts, options);
    if (!tiled)
      return report(tiled.takeError());
    llvm::outs() << *tiled;
    return 0;
  }
  if (emit == Emit::Llvm) {
    auto lowered = keops::lowerToLLVMDialect(formulaText, aliasTexts, options);
    if (!lowered)
      return report(lowered.takeError());
    llvm::outs() << *lowered;
    return 0;
  }
  if (emit == Emit::Bundle) {
    auto bundle = keops::buildGpuKernelBundle(formulaText, aliasTexts, options);
    if (!bundle)
      return report(bundle.takeError());
    llvm::json::Object json = keops::toJson(bundle->descriptor);
    json["formula"] = formulaText.getValue();
    json["entry"] = bundle->entry;
    json["block_size"] = bundle->blockSize;
    json["rows_per_thread"] = bundle->rowsPerThread;
    json["ptx"] = bundle->ptx;
    json["cubin"] = llvm::encodeBase64(bundle->cubin);
    llvm::outs() << llvm::json::Value(std::move(json))
                 << "\n";
    return 0;
  }
  if (emit == Emit::Cubin) {
    auto bundle = keops::buildGpuKernelBundle(formulaText, aliasTexts, options);
    if (!bundle)
      return report(bundle.takeError());
    if (bundle->cubin.empty())
      return fail("no ptxas to assemble the kernel with: set KEOPS_PTXAS or "
                  "CUDA_HOME, or put ptxas on PATH");
    llvm::outs() << bundle->cubin;
    return 0;
  }
  if (emit == Emit::Ptx) {
    auto ptx = keops::lowerToPtx(formulaText, aliasTexts, options);
    if (!ptx)
      return report(ptx.takeError());
    llvm::outs() << *ptx;
    return 0;
  }

  auto kernel = keops::compile(formulaText, aliasTexts, options);
  if (!kernel)
    return report(kernel.takeError());
  const keops::Kernel &k = **kernel;

  // Variables read from files.
  llvm::StringMap<size_t> positionOf;
  for (size_t p = 0; p < k.getInputs().size(); ++p)
    if (!k.getInputs()[p].name.empty())
      positionOf[k.getInputs()[p].name] = p;
  std::vector<std::optional<keops::npy::Array>> files(k.getInputs().size());
  for (const std::string &input : inputs) {
    auto [name, path] = llvm::StringRef(input).split('=');
    if (name.empty() || path.empty())
      return fail("--input '" + input + "' must be NAME=file.npy");
    auto it = positionOf.find(name);
    if (it == positionOf.end())
      return fail("--input '" + input + "': no variable named '" + name + "'");
    auto array = keops::npy::read(path.str());
    if (!array)
      return fail("--input " + name + ": " + llvm::toString(array.takeError()));
    const keops::KernelInput &variable = k.getInputs()[it->second];
    if (array->dtype != k.getDtype())
      return fail(llvm::formatv("--input {0}: the file holds {1} but the "
                                "kernel is compiled for {2} (see --dtype)",
                                name, keops_rt_dtype_name(array->dtype),
                                keops_rt_dtype_name(k.getDtype())));
    // (rows, D); a parameter may be (D,), a variable of dimension 1 (rows,).
    const auto &shape = array->shape;
    bool isParam = variable.category == KEOPS_RT_CATEGORY_PARAM;
    int64_t rows = -1, cols = -1;
    if (shape.size() == 2) {
      rows = shape[0];
      cols = shape[1];
    } else if (shape.size() == 1) {
      rows = isParam ? 1 : shape[0];
      cols = isParam ? shape[0] : 1;
    }
    if (cols != variable.dim || (isParam && rows != 1))
      return fail(llvm::formatv(
          "--input {0}: expected shape {1} with D = {2}, got {3}", name,
          isParam ? "(D,) or (1, D)" : "(rows, D)", variable.dim,
          shapeText(shape)));
    array->shape = {rows, cols};
    if (!isParam && requestedRows[variable.category] < 0)
      requestedRows[variable.category] = rows;
    files[it->second] = std::move(*array);
  }

  // Sizes, then random variables for the rest.
  bool hasCategory[2] = {false, false};
  for (const keops::KernelInput &input : k.getInputs())
    if (input.category != KEOPS_RT_CATEGORY_PARAM)
      hasCategory[input.category] = true;
  int64_t rowsIJ[2];
  for (int c = 0; c < 2; ++c)
    rowsIJ[c] = requestedRows[c] >= 0 ? requestedRows[c]
                                      : (hasCategory[c] ? 1000 : 1);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<std::vector<char>> storage(k.getInputs().size());
  std::vector<keops_rt_array_t> arrays;
  for (size_t p = 0; p < k.getInputs().size(); ++p) {
    const keops::KernelInput &input = k.getInputs()[p];
    if (files[p]) {
      storage[p] = std::move(files[p]->bytes);
      arrays.push_back({storage[p].data(), files[p]->dtype,
                        files[p]->shape[0], files[p]->shape[1], 0});
      continue;
    }
    int64_t rows = input.category == KEOPS_RT_CATEGORY_PARAM
                       ? 1
                       : rowsIJ[input.category];
    storage[p].resize(rows * input.dim * keops_rt_dtype_size(k.getDtype()));
    for (int64_t e = 0; e < rows * input.dim; ++e)
      keops::writeElement(storage[p].data(), k.getDtype(), e, uniform(rng));
    arrays.push_back({storage[p].data(), k.getDtype(), rows, input.dim, 0});
  }

  bool rowsAreI = k.getRowCategory() == KEOPS_RT_CATEGORY_I;
  int64_t rows = rowsIJ[rowsAreI ? 0 : 1];
  int64_t columns = rowsIJ[rowsAreI ? 1 : 0];
  std::vector<std::vector<char>> outputStorage;
  std::vector<keops_rt_array_t> outputs;
  for (const keops::KernelOutput &output : k.getOutputs()) {
    outputStorage.emplace_back(rows * output.dim * 8);
    outputs.push_back({outputStorage.back().data(), output.dtype, rows,
                       output.dim, 0});
  }

  keops::RunOptions runOptions;
  runOptions.rowsI = rowsIJ[0];
  runOptions.rowsJ = rowsIJ[1];
  runOptions.deviceId = device;
  std::vector<double> times;
  for (unsigned r = 0; r < repeat; ++r) {
    auto start = std::chrono::steady_clock::now();
    if (llvm::Error error = k.run(arrays, outputs, runOptions))
      return fail(llvm::toString(std::move(error)));
    times.push_back(elapsedMs(start));
  }
  std::sort(times.begin(), times.end());
  double runMs = times[times.size() / 2];
  double pairsPerSecond = static_cast<double>(rows) *
                          static_cast<double>(columns) / (runMs * 1e-3);

  for (size_t o = 0; o < outputs.size() && !outputPath.empty(); ++o) {
    std::string path = outputPath;
    if (o)
      path = llvm::StringRef(outputPath).rsplit(".npy").first.str() + "." +
             std::to_string(o) + ".npy";
    if (llvm::Error error = keops::npy::write(path, outputs[o].dtype, rows,
                                              outputs[o].cols, outputs[o].data))
      return fail(llvm::toString(std::move(error)));
  }

  std::optional<double> maxRelErr;
  std::vector<int64_t> checked;
  double allowed = tolerance > 0 ? tolerance
                   : k.getDtype() == KEOPS_RT_FLOAT16 ? 1e-2
                   : k.getDtype() == KEOPS_RT_FLOAT32 ? 1e-4
                                                      : 1e-10;
  if (check && rows > 0) {
    auto reference =
        keops::ReferenceEvaluator::create(k, arrays, rowsIJ[0], rowsIJ[1]);
    if (!reference)
      return fail(llvm::toString(reference.takeError()));
    checked = sampleRows(rows, columns);
    maxRelErr = checkRows(k, **reference, outputStorage, checked, allowed);
  }
  bool checkFailed = maxRelErr && !(*maxRelErr <= allowed);

  const char *sourceName = k.getSource() == keops::KernelSource::DiskCache
                               ? "disk-cache"
                               : "compiled";
  if (json) {
    // JSON has no infinities or NaN: such measurements are null.
    auto number = [](double value) -> llvm::json::Value {
      if (std::isfinite(value))
        return value;
      return nullptr;
    };
    llvm::json::Array shapes;
    for (const keops_rt_array_t &output : outputs)
      shapes.push_back(llvm::json::Array{output.rows, output.cols});
    // How the kernel was compiled (a GPU block: tile_cols threads of
    // tile_rows / tile_cols rows each).
    keops_rt_kernel_desc_t desc;
    keops_rt_kernel_describe(k.getRuntimeKernel(), &desc);
    llvm::json::Object result{
        {"formula", formulaText},
        {"kernel", llvm::json::Object{{"arch", desc.arch ? desc.arch : ""},
                                      {"lanes", desc.lanes},
                                      {"tile_rows", desc.tile_rows},
                                      {"tile_cols", desc.tile_cols}}},
        {"dtype", dtype},
        {"backend", k.getBackend()},
        {"rows_i", rowsIJ[0]},
        {"rows_j", rowsIJ[1]},
        {"compile_ms", number(k.getCompileMs())},
        {"kernel_source", sourceName},
        {"run_ms", number(runMs)},
        {"repeat", static_cast<int64_t>(repeat)},
        {"pairs_per_s", number(pairsPerSecond)},
        {"output_shape", llvm::json::Array{outputs[0].rows, outputs[0].cols}},
        {"output_shapes", std::move(shapes)},
    };
    if (maxRelErr) {
      result["max_rel_err"] = number(*maxRelErr);
      result["checked_rows"] = static_cast<int64_t>(checked.size());
      result["check_passed"] = !checkFailed;
    }
    llvm::outs() << llvm::json::Value(std::move(result)) << "\n";
  } else {
    llvm::outs() << llvm::formatv(
        "keops-run: {0} [{1}, {2} rows x {3} reduced columns, {9}]\n"
        "  compile  {4:f1} ms ({8})\n"
        "  run      {5:f2} ms (median of {6})\n"
        "  pairs/s  {7:e2}\n",
        formulaText, dtype, rows, columns, k.getCompileMs(), runMs,
        static_cast<unsigned>(repeat), pairsPerSecond, sourceName,
        k.getBackend());
    for (const keops_rt_array_t &output : outputs)
      llvm::outs() << llvm::formatv("  output   ({0}, {1}) {2}\n", output.rows,
                                    output.cols, keops_rt_dtype_name(output.dtype));
    if (maxRelErr)
      llvm::outs() << llvm::formatv(
          "  check    max_rel_err {0:e2} on {1} rows (tolerance {2:e0}): {3}\n",
          *maxRelErr, checked.size(), allowed,
          checkFailed ? "FAILED" : "ok");
  }
  return checkFailed ? 2 : 0;
}
