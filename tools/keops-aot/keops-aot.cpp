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
//             [-o DIR] [--cpu LEVEL,...] [--cc CC]
//
// and writes DIR/NAME.h, DIR/libNAME.so, DIR/libNAME.a and DIR/NAME.json.
// Every kernel is compiled before anything is written; an error names the
// kernel, exits with status 1 and leaves DIR as it was.
//
//===----------------------------------------------------------------------===//

#include "LibraryWriter.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
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
             "\"formula\", \"aliases\": [...], \"dtype\"}, ...]}"));
cl::opt<std::string>
    libraryName("name", cl::cat(category),
                cl::desc("Without --spec: the name of the library and of its "
                         "one kernel (a C identifier)"));
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
cl::opt<std::string> outputDir("o", cl::init("."), cl::cat(category),
                               cl::desc("The directory to write into"),
                               cl::value_desc("DIR"));
cl::list<std::string> cpus(
    "cpu", cl::CommaSeparated, cl::cat(category),
    cl::desc("CPU levels to compile for, best first: x86-64, x86-64-v2, "
             "x86-64-v3, x86-64-v4 (the runtime runs the best one the CPU "
             "has) or native (this CPU, unchecked). Default: this machine's "
             "level"));
cl::opt<std::string> cc("cc", cl::cat(category),
                        cl::desc("The C compiler that builds the glue and "
                                 "links the library (default: $CC, else cc)"));

int fail(const llvm::Twine &message) {
  llvm::errs() << "keops-aot: " << message << "\n";
  return 1;
}

/// The library to build, from --spec or the single-kernel options.
llvm::Expected<keops::aot::LibrarySpec> librarySpec() {
  if (!specPath.empty()) {
    if (!libraryName.empty() || !formulaText.empty() || !aliasTexts.empty())
      return llvm::createStringError(
          "--spec excludes --name, --formula and --alias");
    return keops::aot::readSpec(specPath);
  }
  if (libraryName.empty() || formulaText.empty())
    return llvm::createStringError(
        "give --spec FILE.json, or --name and --formula (with --alias)");
  return keops::aot::LibrarySpec{
      libraryName, {{libraryName, formulaText, aliasTexts, dtype}}};
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
  if (llvm::Error error = keops::aot::checkSpec(*spec))
    return fail(llvm::toString(std::move(error)));
  std::vector<std::string> levels(cpus.begin(), cpus.end());
  if (levels.empty())
    levels.push_back(keops::hostCpuLevel());
  auto toolchain = findToolchain(argv[0]);
  if (!toolchain)
    return fail(llvm::toString(toolchain.takeError()));

  std::vector<keops::aot::CompiledKernel> kernels;
  for (const keops::aot::KernelSpec &kernel : spec->kernels) {
    keops::aot::CompiledKernel compiled{kernel, {}};
    keops::CompileOptions options;
    options.dtype = kernel.dtype;
    for (const std::string &level : levels) {
      std::string symbol = spec->name + "__" + kernel.name + "__" + level;
      std::replace(symbol.begin(), symbol.end(), '-', '_');
      auto object = keops::compileHostObject(kernel.formula, kernel.aliases,
                                             options, level, symbol);
      if (!object) {
        std::string message = llvm::toString(object.takeError());
        llvm::errs() << "keops-aot: kernel '" << kernel.name << "': "
                     << (llvm::StringRef(message).contains('\n') ? "\n" : "")
                     << message
                     << (llvm::StringRef(message).ends_with("\n") ? "" : "\n");
        return 1;
      }
      compiled.variants.push_back(std::move(*object));
    }
    kernels.push_back(std::move(compiled));
  }
  if (llvm::Error error = keops::aot::writeLibrary(
          outputDir, spec->name, levels, kernels, *toolchain))
    return fail(llvm::toString(std::move(error)));
  return 0;
}
