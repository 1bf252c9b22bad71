//===- keops-aot.cpp - Build kernel libraries ahead of time -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops-aot, which compiles KeOps formulas into a
// kernel library that runs without a compiler (libKeOpsRuntime only):
//
//   keops-aot --name NAME --formula F --alias A... [--dtype float32|float64]
//   keops-aot --spec FILE.json
//   keops-aot --name NAME --module FILE.mlir
//             [-o DIR] [--cpu LEVEL,...] [--gpu-arch sm_XY,...] [--cc CC]
//
// and writes DIR/NAME.h, DIR/libNAME.so, DIR/libNAME.a and DIR/NAME.json.
// Every kernel is compiled before anything is written; an error names the
// kernel, exits with status 1 and leaves DIR as it was.
//
//===----------------------------------------------------------------------===//

#include "LibraryWriter.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

namespace cl = llvm::cl;

namespace {

cl::OptionCategory category("keops-aot options");

cl::opt<std::string> specPath(
    "spec", cl::cat(category),
    cl::desc("A JSON file: {\"name\": LIB, \"kernels\": [{\"name\", "
             "\"formula\", \"aliases\": [...], \"dtype\", "
             "\"gradients\"}, ...]}"));
cl::opt<std::string> modulePath(
    "module", cl::cat(category),
    cl::desc("A keops-dialect module (.mlir): each kernel function, and each "
             "keops.reduce of a larger function (as <function>_keops_<n>), "
             "becomes a kernel named after its function; with --name"));
cl::opt<std::string>
    libraryName("name", cl::cat(category),
                cl::desc("Without --spec: the name of the library (a C "
                         "identifier) and, with --formula, of its one "
                         "kernel"));
cl::opt<std::string> formulaText(
    "formula", cl::cat(category),
    cl::desc("Without --spec: the reduction, e.g. "
             "'Sum_Reduction(Exp(-SqDist(x,y))*b,0)'"));
cl::list<std::string>
    aliasTexts("alias", cl::cat(category),
               cl::desc("Without --spec: a variable, 'x=Vi(3)', 'y=Vj(3)', "
                        "'p=Pm(1)' (repeatable)"));
cl::opt<std::string> dtype("dtype", cl::init("float32"), cl::cat(category),
                           cl::desc("Without --spec: float32 or float64"));
cl::opt<bool> gradients(
    "gradients", cl::cat(category),
    cl::desc("Without --spec: the library also holds the kernels of the "
             "formula's gradients (KERNEL_grad_<position>, and the "
             "reductions they read), listed in the manifest, so that "
             "keops.load_library differentiates it (spec: \"gradients\": "
             "true)"));
cl::opt<std::string> outputDir("o", cl::init("."), cl::cat(category),
                               cl::desc("The directory to write into"),
                               cl::value_desc("DIR"));
cl::list<std::string> cpus(
    "cpu", cl::CommaSeparated, cl::cat(category),
    cl::desc("CPU levels to compile for, best first: x86-64, x86-64-v2, "
             "x86-64-v3, x86-64-v4 (the runtime runs the best one the CPU "
             "has) or native (this CPU, unchecked). Default: this machine's "
             "level"));
cl::list<std::string> gpuArchs(
    "gpu-arch", cl::CommaSeparated, cl::cat(category),
    cl::desc("GPU architectures (sm_80,sm_90,...): the library also holds "
             "each kernel's PTX (and cubin, when ptxas is found) for them, "
             "run on the GPU when one is usable (host arrays), else the "
             "CPU's code; also written as LIB_KERNEL_ARCH.ptx"));
cl::opt<bool> gpuEmulation(
    "gpu-emulation", cl::cat(category),
    cl::desc("For the tests: the --gpu-arch variants hold the kernels of the "
             "GPU emulation (host code that the tests' stand-in CUDA driver "
             "runs) instead of PTX; with --spec or --formula"));
cl::opt<std::string> cc("cc", cl::cat(category),
                        cl::desc("The C compiler that builds the glue and "
                                 "links the library (default: $CC, else cc)"));

int fail(const llvm::Twine &message) {
  llvm::errs() << "keops-aot: " << message << "\n";
  return 1;
}

/// The library to build, from --spec or the single-kernel options (no
/// kernels with --module: the module has them).
llvm::Expected<keops::aot::LibrarySpec> librarySpec() {
  if (!specPath.empty()) {
    if (!libraryName.empty() || !formulaText.empty() || !aliasTexts.empty() ||
        !modulePath.empty() || gradients)
      return llvm::createStringError("--spec excludes --name, --formula, "
                                     "--alias, --module and --gradients");
    return keops::aot::readSpec(specPath);
  }
  if (!modulePath.empty()) {
    if (libraryName.empty() || !formulaText.empty() || !aliasTexts.empty() ||
        gradients || gpuEmulation)
      return llvm::createStringError(
          "--module takes --name, and excludes --formula, --alias, "
          "--gradients and --gpu-emulation");
    return keops::aot::LibrarySpec{libraryName, {}};
  }
  if (libraryName.empty() || formulaText.empty())
    return llvm::createStringError(
        "give --spec FILE.json, --name and --formula (with --alias), or "
        "--name and --module FILE.mlir");
  return keops::aot::LibrarySpec{
      libraryName,
      {{libraryName, formulaText, aliasTexts, dtype, gradients, {}}}};
}

/// The symbol prefix of the kernels of `library` for CPU `level`.
std::string symbolPrefix(const std::string &library, const std::string &level) {
  std::string prefix = library + "__" + level + "__";
  std::replace(prefix.begin(), prefix.end(), '-', '_');
  return prefix;
}

/// Prints a compile error of kernel `name` (a formula error keeps its
/// source lines).
void reportKernelError(const std::string &name, llvm::Error error) {
  std::string message = llvm::toString(std::move(error));
  llvm::errs() << "keops-aot: kernel '" << name << "': "
               << (llvm::StringRef(message).contains('\n') ? "\n" : "")
               << message
               << (llvm::StringRef(message).ends_with("\n") ? "" : "\n");
}

/// Appends to `queue` the kernels that compute the gradients of `kernel`
/// with respect to its `count` variables (keops::gradientFormula), shared
/// sibling reductions once, and describes them in kernel.gradientKernels.
llvm::Error addGradientKernels(keops::aot::KernelSpec &kernel, size_t count,
                               std::vector<keops::aot::KernelSpec> &queue) {
  using Input = keops::GradientFormula::Input;
  llvm::StringSet<> siblings;
  for (unsigned wrt = 0; wrt < count; ++wrt) {
    auto described = keops::gradientFormula(kernel.formula, kernel.aliases, wrt);
    if (!described)
      return described.takeError();
    keops::aot::GradientSpec gradient;
    gradient.wrt = wrt;
    if (*described) {
      gradient.kernel = kernel.name + "_grad_" + std::to_string(wrt);
      gradient.sumRows = (*described)->sumRows;
      queue.push_back({gradient.kernel, (*described)->reduction.str(),
                       kernel.aliases, kernel.dtype, false, {}});
      for (const Input &input : (*described)->inputs) {
        std::string kind = Input::kindName(input.kind), sibling;
        if (input.kind == Input::Kind::LogSumExp ||
            input.kind == Input::Kind::Indices) {
          sibling = kernel.name + "_" + kind;
          if (siblings.insert(sibling).second)
            queue.push_back({sibling, input.reduction.str(), kernel.aliases,
                             kernel.dtype, false, {}});
        }
        gradient.inputs.emplace_back(kind, sibling);
      }
    }
    kernel.gradientKernels.push_back(std::move(gradient));
  }
  return llvm::Error::success();
}

/// The kernels of the spec (and of the gradients it asks for), compiled for
/// each level; false after an error.
bool compileSpec(const keops::aot::LibrarySpec &spec,
                 const std::vector<std::string> &levels,
                 std::vector<keops::aot::CompiledKernel> &kernels) {
  std::vector<keops::aot::KernelSpec> queue = spec.kernels;
  for (size_t next = 0; next < queue.size(); ++next) {
    keops::aot::CompiledKernel compiled{queue[next], {}, {}};
    const keops::aot::KernelSpec &kernel = compiled.spec;
    keops::CompileOptions options;
    options.dtype = kernel.dtype;
    for (const std::string &level : levels) {
      auto object = keops::compileHostObject(
          kernel.formula, kernel.aliases, options, level,
          symbolPrefix(spec.name, level) + kernel.name);
      if (!object) {
        reportKernelError(kernel.name, object.takeError());
        return false;
      }
      compiled.variants.push_back(std::move(*object));
    }
    for (const std::string &arch : gpuArchs) {
      keops::CompileOptions gpu = options;
      gpu.gpuArch = arch;
      auto bundle =
          gpuEmulation
              ? keops::buildEmulatedGpuBundle(
                    kernel.formula, kernel.aliases, gpu,
                    symbolPrefix(spec.name, arch) + kernel.name)
              : keops::buildGpuKernelBundle(kernel.formula, kernel.aliases, gpu);
      if (!bundle) {
        reportKernelError(kernel.name, bundle.takeError());
        return false;
      }
      compiled.gpuVariants.push_back(std::move(*bundle));
    }
    if (kernel.gradients)
      if (llvm::Error error = addGradientKernels(
              compiled.spec, compiled.variants[0].descriptor.inputs.size(),
              queue)) {
        reportKernelError(kernel.name, std::move(error));
        return false;
      }
    kernels.push_back(std::move(compiled));
  }
  return true;
}

/// The kernels of the module at `path`, compiled for each level; false
/// after an error.
bool compileModule(const std::string &library, const std::string &path,
                   const std::vector<std::string> &levels,
                   std::vector<keops::aot::CompiledKernel> &kernels) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer) {
    fail("cannot read the module " + path + ": " + buffer.getError().message());
    return false;
  }
  for (const std::string &level : levels) {
    auto objects = keops::compileModuleHostObjects(
        (*buffer)->getBuffer(), {}, level, symbolPrefix(library, level));
    if (!objects) {
      fail(path + ": " + llvm::toString(objects.takeError()));
      return false;
    }
    for (auto [k, object] : llvm::enumerate(*objects)) {
      if (k == kernels.size())
        kernels.push_back(
            {{object.function, "", {},
              keops_rt_dtype_name(object.object.descriptor.dtype), false, {}},
             {},
             {}});
      kernels[k].variants.push_back(std::move(object.object));
    }
  }
  for (const std::string &arch : gpuArchs) {
    keops::CompileOptions options;
    options.gpuArch = arch;
    auto bundles = keops::buildModuleGpuBundles((*buffer)->getBuffer(), options);
    if (!bundles) {
      fail(path + ": " + llvm::toString(bundles.takeError()));
      return false;
    }
    for (auto [k, gpu] : llvm::enumerate(*bundles))
      kernels[k].gpuVariants.push_back(std::move(gpu.bundle));
  }
  return true;
}

/// The runtime's include root and library directory: those of the prefix
/// keops-aot runs from (PREFIX/bin/keops-aot: PREFIX/include, PREFIX/lib),
/// in an install or a build tree.
llvm::Expected<keops::aot::Toolchain> findToolchain(const char *argv0) {
  static int anchor;
  std::string executable = llvm::sys::fs::getMainExecutable(argv0, &anchor);
  llvm::SmallString<256> prefix(llvm::sys::path::parent_path(
      llvm::sys::path::parent_path(executable)));
  keops::aot::Toolchain toolchain;
  llvm::SmallString<256> include(prefix), library(prefix);
  llvm::sys::path::append(include, "include");
  llvm::sys::path::append(library, "lib");
  toolchain.includeDir = std::string(include);
  toolchain.libraryDir = std::string(library);
  llvm::sys::path::append(include, "keops", "Runtime", "KeOpsRuntime.h");
  if (!llvm::sys::fs::exists(include))
    return llvm::createStringError("the runtime header is not at " + include);
  std::string compiler = cc;
  if (compiler.empty())
    compiler = llvm::sys::Process::GetEnv("CC").value_or("cc");
  auto program = llvm::sys::findProgramByName(compiler);
  if (!program)
    return llvm::createStringError("no C compiler '" + compiler +
                                   "' (set --cc or CC)");
  toolchain.cc = *program;
  return toolchain;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "keops-aot: compile KeOps formulas into a kernel library (NAME.h, "
      "libNAME.so, libNAME.a, NAME.json) that runs with libKeOpsRuntime "
      "alone\n");

  auto spec = librarySpec();
  if (!spec)
    return fail(llvm::toString(spec.takeError()));
  if (modulePath.empty())
    if (llvm::Error error = keops::aot::checkSpec(*spec))
      return fail(llvm::toString(std::move(error)));
  std::vector<std::string> levels(cpus.begin(), cpus.end());
  if (levels.empty())
    levels.push_back(keops::hostCpuLevel());
  auto toolchain = findToolchain(argv[0]);
  if (!toolchain)
    return fail(llvm::toString(toolchain.takeError()));

  std::vector<keops::aot::CompiledKernel> kernels;
  if (modulePath.empty() ? !compileSpec(*spec, levels, kernels)
                         : !compileModule(spec->name, modulePath, levels,
                                          kernels))
    return 1;
  // The kernels a module or the gradients add have names to check too.
  spec->kernels.clear();
  for (const keops::aot::CompiledKernel &kernel : kernels)
    spec->kernels.push_back(kernel.spec);
  if (llvm::Error error = keops::aot::checkSpec(*spec))
    return fail((modulePath.empty() ? "" : modulePath + ": ") +
                llvm::toString(std::move(error)));
  if (llvm::Error error = keops::aot::writeLibrary(
          outputDir, spec->name, levels, kernels, *toolchain))
    return fail(llvm::toString(std::move(error)));
  return 0;
}
