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
//             [--emit=mlir] [--size i=N] [--size j=M] [--dtype float32|float64]
//             [--backend auto|cpu|gpu] [--input NAME=file.npy]...
//             [--output file.npy] [--seed S] [--repeat R] [--check] [--json]
//
// --emit=mlir prints the imported module. An invalid formula or option exits
// with status 1 and a message on stderr.
//
//===----------------------------------------------------------------------===//

#include "keops/Frontend/FormulaImporter.h"
#include "keops/InitAllKeOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {

enum class Emit { None, Mlir };
enum class Backend { Auto, Cpu, Gpu };

cl::OptionCategory category("keops-run options");

cl::opt<std::string> formulaText(
    "formula", cl::Required, cl::cat(category),
    cl::desc("The reduction, e.g. 'Sum_Reduction(Exp(-SqDist(x,y))*b,0)'"));
cl::list<std::string>
    aliasTexts("alias", cl::cat(category),
               cl::desc("A variable: 'x=Vi(3)', 'y=Vj(3)', 'p=Pm(1)', "
                        "'Vi(pos,dim)' or 'Var(pos,dim,cat)' (repeatable)"));
cl::opt<Emit> emit("emit", cl::init(Emit::None), cl::cat(category),
                   cl::desc("Print an intermediate form and exit"),
                   cl::values(clEnumValN(Emit::Mlir, "mlir",
                                         "the imported keops dialect module")));
cl::list<std::string> sizes("size", cl::cat(category),
                            cl::desc("Rows of the i or j variables: i=N, j=M"));
cl::opt<std::string> dtype("dtype", cl::init("float32"), cl::cat(category),
                           cl::desc("Element type: float32 or float64"));
cl::opt<Backend> backend(
    "backend", cl::init(Backend::Auto), cl::cat(category),
    cl::desc("Where to run"),
    cl::values(clEnumValN(Backend::Auto, "auto", "GPU when present, else CPU"),
               clEnumValN(Backend::Cpu, "cpu", "the CPU"),
               clEnumValN(Backend::Gpu, "gpu", "an NVIDIA GPU")));
cl::list<std::string>
    inputs("input", cl::cat(category),
           cl::desc("Read variable NAME from a .npy file: NAME=file.npy "
                    "(repeatable); other variables are random"));
cl::opt<std::string> outputPath("output", cl::cat(category),
                                cl::desc("Write the result to this .npy file"));
cl::opt<uint64_t> seed("seed", cl::init(0), cl::cat(category),
                       cl::desc("Seed of the random inputs"));
cl::opt<unsigned> repeat("repeat", cl::init(1), cl::cat(category),
                         cl::desc("Run the kernel this many times (timing)"));
cl::opt<bool> check("check", cl::cat(category),
                    cl::desc("Compare with a float64 reference evaluation"));
cl::opt<bool> json("json", cl::cat(category),
                   cl::desc("Print one JSON object with the measurements"));

int usageError(const llvm::Twine &message) {
  llvm::errs() << "keops-run: " << message << "\n";
  return 1;
}

/// Checks that every "KEY=VALUE" option has a key in `keys`.
bool checkKeyedOptions(llvm::StringRef option, llvm::ArrayRef<std::string> values,
                       const llvm::StringSet<> &keys, llvm::StringRef keyKind) {
  for (const std::string &value : values) {
    auto [key, rest] = llvm::StringRef(value).split('=');
    if (rest.empty() || key.empty()) {
      usageError("--" + option + " '" + value + "' must be KEY=VALUE");
      return false;
    }
    if (!keys.contains(key)) {
      usageError("--" + option + " '" + value + "': no " + keyKind + " '" +
                 key + "'");
      return false;
    }
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "KeOps-MLIR: compile and run one formula\n");

  Type (*elementType)(MLIRContext *) = nullptr;
  if (dtype == "float32")
    elementType = [](MLIRContext *c) -> Type { return Float32Type::get(c); };
  else if (dtype == "float64")
    elementType = [](MLIRContext *c) -> Type { return Float64Type::get(c); };
  else
    return usageError("--dtype must be float32 or float64, got '" + dtype +
                      "'");
  if (repeat == 0)
    return usageError("--repeat must be >= 1");

  for (const std::string &size : sizes) {
    auto [axis, count] = llvm::StringRef(size).split('=');
    uint64_t rows;
    if ((axis != "i" && axis != "j") || count.getAsInteger(10, rows))
      return usageError("--size '" + size + "' must be i=N or j=M");
  }

  DialectRegistry registry;
  keops::registerAllKeOpsDialects(registry);
  MLIRContext context(registry);
  keops::ImportOptions options;
  options.elementType = elementType(&context);
  keops::FormulaError error;
  OwningOpRef<ModuleOp> module = keops::importFormula(
      context, formulaText, aliasTexts, options, error);
  if (!module) {
    llvm::errs() << error.render();
    return 1;
  }

  llvm::StringSet<> names;
  module->walk([&](func::FuncOp function) {
    for (unsigned index = 0; index < function.getNumArguments(); ++index)
      if (auto name = function.getArgAttrOfType<StringAttr>(index, "keops.name"))
        names.insert(name.getValue());
  });
  if (!checkKeyedOptions("input", inputs, names, "variable named"))
    return 1;

  if (emit == Emit::Mlir) {
    module->print(llvm::outs());
    return 0;
  }
  return usageError("computing results is not implemented yet; use "
                    "--emit=mlir to print the imported module");
}
