//===- LibraryWriter.cpp - Kernel libraries on disk -------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file writes the files of a keops-aot kernel library: the header and
// glue as C text, the manifest with llvm::json, the shared library by the
// system C compiler, the static archive with llvm::writeArchive.
//
//===----------------------------------------------------------------------===//

#include "LibraryWriter.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

namespace keops::aot {
namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

const char *cType(keops_rt_dtype_t dtype) {
  switch (dtype) {
  case KEOPS_RT_FLOAT64:
    return "double";
  case KEOPS_RT_INT64:
    return "int64_t";
  default:
    return "float";
  }
}

const char *dtypeEnum(keops_rt_dtype_t dtype) {
  switch (dtype) {
  case KEOPS_RT_FLOAT64:
    return "KEOPS_RT_FLOAT64";
  case KEOPS_RT_INT64:
    return "KEOPS_RT_INT64";
  case KEOPS_RT_FLOAT16:
    return "KEOPS_RT_FLOAT16";
  default:
    return "KEOPS_RT_FLOAT32";
  }
}

const char *categoryEnum(keops_rt_category_t category) {
  return category == KEOPS_RT_CATEGORY_I   ? "KEOPS_RT_CATEGORY_I"
         : category == KEOPS_RT_CATEGORY_J ? "KEOPS_RT_CATEGORY_J"
                                           : "KEOPS_RT_CATEGORY_PARAM";
}

/// The rows of an array of `category` in the plain-array call.
const char *rowsOf(keops_rt_category_t category) {
  return category == KEOPS_RT_CATEGORY_I   ? "rows_i"
         : category == KEOPS_RT_CATEGORY_J ? "rows_j"
                                           : "1";
}

/// The C parameter names of a kernel's inputs: the alias names where they
/// are C identifiers that clash with nothing, else a0, a1, ...
std::vector<std::string> inputNames(const KernelDescriptor &descriptor) {
  std::vector<std::string> names;
  for (auto [k, input] : llvm::enumerate(descriptor.inputs)) {
    llvm::StringRef name = input.name;
    bool usable = isCIdentifier(input.name) && name != "rows_i" &&
                  name != "rows_j" && !name.starts_with("out") &&
                  !name.starts_with("keops_") &&
                  !llvm::is_contained(names, input.name);
    names.push_back(usable ? input.name : "a" + std::to_string(k));
  }
  return names;
}

/// A C string literal of `text`.
std::string cString(llvm::StringRef text) {
  std::string quoted = "\"";
  for (char c : text)
    quoted += (c == '"' || c == '\\') ? std::string("\\") + c
              : (c >= 0x20 && c < 0x7f) ? std::string(1, c)
                                        : llvm::formatv("\\{0:o3}",
                                                        unsigned(uint8_t(c)))
                                              .str();
  return quoted + "\"";
}

/// `text` made safe inside a C comment.
std::string commentSafe(llvm::StringRef text) {
  std::string safe = text.str();
  for (size_t at = safe.find("*/"); at != std::string::npos;
       at = safe.find("*/", at))
    safe.replace(at, 2, "* /");
  return safe;
}

/// The parameter list of a kernel's plain-array call.
std::string parameters(const KernelDescriptor &descriptor) {
  std::string text = "int64_t rows_i, int64_t rows_j";
  std::vector<std::string> names = inputNames(descriptor);
  for (auto [k, input] : llvm::enumerate(descriptor.inputs))
    text += llvm::formatv(", const {0} *{1}", cType(descriptor.dtype),
                          names[k]);
  for (auto [k, output] : llvm::enumerate(descriptor.outputs))
    text += llvm::formatv(", {0} *out{1}", cType(output.dtype), k);
  return text;
}

/// A kernel_desc_t initializer of `d` for kernel `name` (whose arrays are
/// NAME_categories, ...), the target and arch its own.
void writeDescriptor(llvm::raw_ostream &os, const std::string &name,
                     const KernelDescriptor &d) {
  os << llvm::formatv(
      "  {{.abi_version = {0}, .name = {1}, .dtype = {2}, .row_category = "
      "{3},\n   .num_inputs = {4}, .categories = {5}_categories, .dims = "
      "{5}_dims,\n   .input_names = {5}_input_names, .num_outputs = {6}, "
      ".output_dims = {5}_output_dims,\n   .output_dtypes = "
      "{5}_output_dtypes, .allows_empty_reduction = {7},\n   "
      ".state_floats = {8}, .state_ints = {9}, .state_dtype = {10},\n   "
      ".reduction = {11}, .k = {12}, .target = {17},\n   "
      ".arch = {13}, .lanes = {14}, .tile_rows = {15}, .tile_cols = "
      "{16}},\n",
      KEOPS_RT_KERNEL_ABI_VERSION, cString(name), dtypeEnum(d.dtype),
      categoryEnum(d.rowCategory), d.inputs.size(), name, d.outputs.size(),
      d.allowsEmptyReduction ? 1 : 0, d.stateFloats, d.stateInts,
      dtypeEnum(d.stateDtype), cString(d.reduction), d.k, cString(d.arch),
      d.lanes, d.tileRows, d.tileCols,
      d.target == KEOPS_RT_TARGET_GPU ? "KEOPS_RT_TARGET_GPU"
                                      : "KEOPS_RT_TARGET_CPU");
}

/// The GPU variants of a kernel: their PTX (a C string, line by line),
/// cubins (bytes), codes and descriptors.
void writeGpuVariants(llvm::raw_ostream &os, const CompiledKernel &kernel) {
  if (kernel.gpuVariants.empty())
    return;
  const std::string &name = kernel.spec.name;
  for (const GpuKernelBundle &gpu : kernel.gpuVariants) {
    std::string arch = gpu.descriptor.arch;
    if (!gpu.hostObject.empty()) {
      // The GPU emulation's kernel: the image text, written with the
      // address of its code when the kernel is created.
      os << "__attribute__((visibility(\"hidden\"))) void " << gpu.entry
         << "(void **args);\n";
      os << "static char " << name << "_ptx_" << arch << "[96];\n";
      continue;
    }
    os << "static const char " << name << "_ptx_" << arch << "[] =";
    llvm::SmallVector<llvm::StringRef> lines;
    llvm::StringRef(gpu.ptx).split(lines, '\n');
    for (llvm::StringRef line : lines)
      os << "\n    " << cString((line + "\n").str());
    os << ";\n";
    if (!gpu.cubin.empty()) {
      os << "static const unsigned char " << name << "_cubin_" << arch
         << "[] = {";
      for (size_t k = 0; k < gpu.cubin.size(); ++k)
        os << (k % 16 ? " " : "\n    ")
           << unsigned(static_cast<unsigned char>(gpu.cubin[k])) << ",";
      os << "};\n";
    }
  }
  os << "static const keops_rt_gpu_code_t " << name << "_gpu_code[] = {\n";
  for (const GpuKernelBundle &gpu : kernel.gpuVariants) {
    std::string arch = gpu.descriptor.arch;
    bool cubin = !gpu.cubin.empty();
    os << llvm::formatv(
        "  {{.ptx = {0}_ptx_{1}, .entry = {2}, .block_size = {3},\n   "
        ".cubin = {4}, .cubin_size = {5}, .cubin_arch = {6}, "
        ".rows_per_thread = {7}},\n",
        name, arch, cString(gpu.entry), gpu.blockSize,
        cubin ? name + "_cubin_" + arch : "NULL",
        cubin ? "sizeof(" + name + "_cubin_" + arch + ")" : "0",
        cubin ? cString(arch) : "NULL", gpu.rowsPerThread);
  }
  os << "};\n";
  os << "static const keops_rt_kernel_desc_t " << name
     << "_gpu_variants[] = {\n";
  for (const GpuKernelBundle &gpu : kernel.gpuVariants)
    writeDescriptor(os, name, gpu.descriptor);
  os << "};\n\n";
}

void writeKernelDeclarations(llvm::raw_ostream &os,
                             const CompiledKernel &kernel) {
  const KernelDescriptor &descriptor = kernel.variants.front().descriptor;
  std::vector<std::string> names = inputNames(descriptor);
  os << "/* " << kernel.spec.name << ": "
     << (kernel.spec.formula.empty() ? "function @" + kernel.spec.name +
                                           " of the module"
                                     : commentSafe(kernel.spec.formula))
     << " (" << kernel.spec.dtype << ")\n";
  for (auto [k, input] : llvm::enumerate(descriptor.inputs))
    os << " *   " << names[k] << ": "
       << (k < kernel.spec.aliases.size()
               ? commentSafe(kernel.spec.aliases[k]) + ", "
               : std::string())
       << rowsOf(input.category) << " x " << input.dim << "\n";
  for (auto [k, output] : llvm::enumerate(descriptor.outputs))
    os << " *   out" << k << ": " << rowsOf(descriptor.rowCategory) << " x "
       << output.dim << " " << cType(output.dtype) << "\n";
  os << " */\n";
  os << "KEOPS_RT_EXPORT keops_rt_status_t " << kernel.spec.name << "("
     << parameters(descriptor) << ");\n";
  os << "KEOPS_RT_EXPORT keops_rt_status_t " << kernel.spec.name
     << "_kernel(keops_rt_kernel_t **kernel);\n\n";
}

void writeKernelGlue(llvm::raw_ostream &os, const CompiledKernel &kernel) {
  const std::string &name = kernel.spec.name;
  const KernelDescriptor &descriptor = kernel.variants.front().descriptor;
  size_t inputs = descriptor.inputs.size(), outputs = descriptor.outputs.size();
  os << "/* " << name << " */\n";
  for (const HostObject &variant : kernel.variants)
    os << "__attribute__((visibility(\"hidden\"))) void " << variant.entry
       << "(void **args);\n";
  auto array = [&](const char *type, const char *suffix, auto &&elements) {
    os << "static const " << type << " " << name << suffix << "[] = {";
    llvm::interleaveComma(elements, os);
    if (elements.empty())
      os << "0";
    os << "};\n";
  };
  std::vector<std::string> categories, dims, nameLiterals, outputDims,
      outputDtypes;
  for (const KernelInput &input : descriptor.inputs) {
    categories.push_back(categoryEnum(input.category));
    dims.push_back(std::to_string(input.dim));
    nameLiterals.push_back(cString(input.name));
  }
  for (const KernelOutput &output : descriptor.outputs) {
    outputDims.push_back(std::to_string(output.dim));
    outputDtypes.push_back(dtypeEnum(output.dtype));
  }
  array("keops_rt_category_t", "_categories", categories);
  array("int64_t", "_dims", dims);
  array("char *const", "_input_names", nameLiterals);
  array("int64_t", "_output_dims", outputDims);
  array("keops_rt_dtype_t", "_output_dtypes", outputDtypes);
  os << "static const keops_rt_kernel_desc_t " << name << "_variants[] = {\n";
  for (const HostObject &variant : kernel.variants)
    writeDescriptor(os, name, variant.descriptor);
  os << "};\n";
  os << "static const keops_rt_cpu_entry_t " << name << "_entries[] = {";
  llvm::interleaveComma(kernel.variants, os,
                        [&](const HostObject &v) { os << v.entry; });
  os << "};\n";
  os << "static keops_rt_kernel_t *_Atomic " << name << "_handle;\n\n";
  writeGpuVariants(os, kernel);

  std::string images;
  for (const GpuKernelBundle &gpu : kernel.gpuVariants)
    if (!gpu.hostObject.empty())
      images += llvm::formatv(
          "    snprintf({0}_ptx_{1}, sizeof {0}_ptx_{1}, \"keops-host-kernel "
          "%llu {2} {3}\",\n             (unsigned long long)(uintptr_t){4});\n",
          name, gpu.descriptor.arch, gpu.hostParameters,
          gpu.hostWorkgroupBytes, gpu.entry);
  os << llvm::formatv(R"(keops_rt_status_t {0}_kernel(keops_rt_kernel_t **kernel) {{
  keops_rt_kernel_t *created = atomic_load(&{0}_handle);
  if (!created) {{
{3}    keops_rt_status_t status = {2};
    if (status && keops_rt_status_code(status) == KEOPS_RT_NO_GPU) {{
      keops_rt_status_free(status); /* no usable GPU: the CPU's code */
      status = NULL;
    }
    if (!status && !created)
      status = keops_rt_kernel_create_cpu_variants(
          {1}, {0}_variants, {0}_entries, &created);
    if (status)
      return status;
    keops_rt_kernel_t *expected = NULL;
    if (!atomic_compare_exchange_strong(&{0}_handle, &expected, created)) {{
      keops_rt_kernel_destroy(created); /* another thread was first */
      created = expected;
    }
  }
  *kernel = created;
  return NULL;
}

)",
                      name, kernel.variants.size(),
                      kernel.gpuVariants.empty()
                          ? std::string("NULL")
                          : llvm::formatv("keops_rt_kernel_create_gpu_variants("
                                          "{0}, {1}_gpu_variants, {1}_gpu_code, "
                                          "&created)",
                                          kernel.gpuVariants.size(), name)
                                .str(),
                      images);

  std::vector<std::string> names = inputNames(descriptor);
  os << "keops_rt_status_t " << name << "(" << parameters(descriptor)
     << ") {\n";
  os << "  keops_rt_kernel_t *kernel;\n  keops_rt_status_t status = " << name
     << "_kernel(&kernel);\n  if (status)\n    return status;\n";
  os << "  keops_rt_array_t inputs[] = {";
  for (auto [k, input] : llvm::enumerate(descriptor.inputs))
    os << llvm::formatv("\n      {{(void *){0}, {1}, {2}, {3}, 0},", names[k],
                        dtypeEnum(descriptor.dtype), rowsOf(input.category),
                        input.dim);
  os << "\n      {0} /* C has no empty arrays */};\n";
  os << "  keops_rt_array_t outputs[] = {";
  for (auto [k, output] : llvm::enumerate(descriptor.outputs))
    os << llvm::formatv("\n      {{out{0}, {1}, {2}, {3}, 0},", k,
                        dtypeEnum(output.dtype),
                        rowsOf(descriptor.rowCategory), output.dim);
  os << "\n      {0}};\n";
  os << llvm::formatv(R"(  keops_rt_run_args_t args;
  keops_rt_run_args_initialize(&args);
  args.num_inputs = {0};
  args.inputs = inputs;
  args.num_outputs = {1};
  args.outputs = outputs;
  args.rows_i = rows_i;
  args.rows_j = rows_j;
  return keops_rt_kernel_run(kernel, &args);
}

)",
                      inputs, outputs);
}

/// Runs `program` with `arguments`; its output goes to `log`, quoted in the
/// error when it fails.
llvm::Error run(const std::string &program,
                const std::vector<std::string> &arguments,
                const std::string &log) {
  std::vector<llvm::StringRef> argv = {program};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  std::string message;
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log, log};
  int status = llvm::sys::ExecuteAndWait(program, argv, std::nullopt,
                                         redirects, 0, 0, &message);
  if (status == 0)
    return llvm::Error::success();
  std::string output;
  if (auto buffer = llvm::MemoryBuffer::getFile(log))
    output = (*buffer)->getBuffer().str();
  return makeError(program + " failed" +
                   (message.empty() ? "" : " (" + message + ")") + ":\n  " +
                   llvm::join(argv, " ") + "\n" + output);
}

llvm::Error writeFile(const std::string &path, llvm::StringRef bytes) {
  std::error_code error;
  llvm::raw_fd_ostream os(path, error);
  if (error)
    return makeError("cannot write " + path + ": " + error.message());
  os << bytes;
  os.close();
  if (os.has_error())
    return makeError("cannot write " + path + ": " + os.error().message());
  return llvm::Error::success();
}

std::string join(const std::string &directory, const std::string &file) {
  llvm::SmallString<256> path(directory);
  llvm::sys::path::append(path, file);
  return std::string(path);
}

} // namespace

std::string ptxFile(const std::string &library, const CompiledKernel &kernel,
                    const GpuKernelBundle &gpu) {
  return library + "_" + kernel.spec.name + "_" + gpu.descriptor.arch + ".ptx";
}

std::string writeHeader(const std::string &library,
                        const std::vector<CompiledKernel> &kernels) {
  std::string text;
  llvm::raw_string_ostream os(text);
  std::string guard = "KEOPS_AOT_" + llvm::StringRef(library).upper() + "_H";
  os << "/* " << library << ".h - The kernels of the KeOps-MLIR kernel library "
     << library << ", generated by keops-aot.\n"
     << R"( *
 * Link with -l)"
     << library << R"( -lKeOpsRuntime (lib)" << library
     << R"(.a also needs -lm). Each kernel K has
 *   keops_rt_status_t K(int64_t rows_i, int64_t rows_j, inputs..., outputs...)
 * on contiguous row-major host arrays: one pointer per variable, in position
 * order (rows_i or rows_j rows of its dimension; a parameter points to its
 * values), then one per output (rows of the reduction's row axis); and
 *   keops_rt_status_t K_kernel(keops_rt_kernel_t **kernel)
 * the kernel's handle, owned by the library, for the runtime's full API
 * (keops_rt_kernel_run: row strides, block-sparse ranges, threads). Both
 * return NULL on success, else a status to free with keops_rt_status_free.
 * The CPU code was compiled for CPU levels that the runtime checks first;
 * GPU code, when there is some, runs where the runtime finds a GPU.
 */
)";
  os << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include \"keops/Runtime/KeOpsRuntime.h\"\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  for (const CompiledKernel &kernel : kernels)
    writeKernelDeclarations(os, kernel);
  os << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
  return text;
}

std::string writeGlue(const std::string &library,
                      const std::vector<CompiledKernel> &kernels) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "/* The glue of the kernel library " << library
     << ", generated by keops-aot: each kernel's\n * runtime descriptors "
        "(one a CPU level), its handle and its plain-array call. */\n"
     << "#include \"" << library << ".h\"\n\n#include <stdatomic.h>\n"
     << "#include <stdint.h>\n#include <stdio.h>\n\n";
  for (const CompiledKernel &kernel : kernels)
    writeKernelGlue(os, kernel);
  return text;
}

/// The manifest's list of a kernel's gradients, by variable: null for a
/// zero gradient, else {"kernel", "inputs": [{"kind"[, "kernel"]}],
/// "sum_rows"}.
static llvm::json::Array
gradientsJson(const std::vector<GradientSpec> &gradients) {
  llvm::json::Array list;
  for (const GradientSpec &gradient : gradients) {
    if (gradient.kernel.empty()) {
      list.push_back(nullptr);
      continue;
    }
    llvm::json::Array inputs;
    for (const auto &[kind, kernel] : gradient.inputs) {
      llvm::json::Object input{{"kind", kind}};
      if (!kernel.empty())
        input["kernel"] = kernel;
      inputs.push_back(std::move(input));
    }
    list.push_back(llvm::json::Object{{"kernel", gradient.kernel},
                                      {"inputs", std::move(inputs)},
                                      {"sum_rows", gradient.sumRows}});
  }
  return list;
}

std::string writeManifest(const std::string &library,
                          const std::vector<std::string> &cpus,
                          const std::vector<CompiledKernel> &kernels) {
  llvm::json::Array entries;
  for (const CompiledKernel &kernel : kernels) {
    llvm::json::Array variants;
    for (const HostObject &variant : kernel.variants)
      variants.push_back(toJson(variant.descriptor));
    for (const GpuKernelBundle &gpu : kernel.gpuVariants) {
      llvm::json::Object json = toJson(gpu.descriptor);
      json["entry"] = gpu.entry;
      json["block_size"] = gpu.blockSize;
      json["rows_per_thread"] = gpu.rowsPerThread;
      if (gpu.hostObject.empty())
        json["ptx"] = ptxFile(library, kernel, gpu);
      else
        json["emulated"] = true;
      json["cubin"] = !gpu.cubin.empty();
      variants.push_back(std::move(json));
    }
    llvm::json::Object entry{
        {"name", kernel.spec.name},
        {"formula", kernel.spec.formula},
        {"aliases", llvm::json::Array(kernel.spec.aliases)},
        {"dtype", kernel.spec.dtype},
        {"variants", std::move(variants)}};
    if (kernel.spec.gradients)
      entry["gradients"] = gradientsJson(kernel.spec.gradientKernels);
    entries.push_back(std::move(entry));
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}",
                      llvm::json::Value(llvm::json::Object{
                          {"name", library},
                          {"abi_version", KEOPS_RT_KERNEL_ABI_VERSION},
                          {"cpu", llvm::json::Array(cpus)},
                          {"header", library + ".h"},
                          {"shared_library", "lib" + library + ".so"},
                          {"static_library", "lib" + library + ".a"},
                          {"kernels", std::move(entries)}}))
     << "\n";
  return text;
}

llvm::Error writeLibrary(const std::string &directory,
                         const std::string &library,
                         const std::vector<std::string> &cpus,
                         const std::vector<CompiledKernel> &kernels,
                         const Toolchain &toolchain) {
  if (std::error_code error = llvm::sys::fs::create_directories(directory))
    return makeError("cannot create " + directory + ": " + error.message());
  llvm::SmallString<256> work;
  if (std::error_code error = llvm::sys::fs::createUniqueDirectory(
          join(directory, ".keops-aot-" + library), work))
    return makeError("cannot create a directory in " + directory + ": " +
                     error.message());
  std::string scratch(work);
  llvm::scope_exit cleanup(
      [&] { llvm::sys::fs::remove_directories(scratch); });

  std::string header = library + ".h", glue = library + "_glue.c",
              shared = "lib" + library + ".so",
              archive = "lib" + library + ".a", manifest = library + ".json";
  if (llvm::Error error =
          writeFile(join(scratch, header), writeHeader(library, kernels)))
    return error;
  if (llvm::Error error =
          writeFile(join(scratch, glue), writeGlue(library, kernels)))
    return error;
  std::vector<std::string> objects;
  for (const CompiledKernel &kernel : kernels) {
    for (const HostObject &variant : kernel.variants) {
      objects.push_back(join(scratch, variant.entry + ".o"));
      if (llvm::Error error = writeFile(objects.back(), variant.object))
        return error;
    }
    for (const GpuKernelBundle &gpu : kernel.gpuVariants)
      if (!gpu.hostObject.empty()) {
        objects.push_back(join(scratch, gpu.entry + ".o"));
        if (llvm::Error error = writeFile(objects.back(), gpu.hostObject))
          return error;
      }
  }
  std::string glueObject = join(scratch, library + "_glue.o");
  std::string log = join(scratch, "cc.log");
  if (llvm::Error error =
          run(toolchain.cc,
              {"-std=c11", "-O2", "-fPIC", "-fvisibility=hidden",
               "-I" + toolchain.includeDir, "-I" + scratch, "-c",
               join(scratch, glue), "-o", glueObject},
              log))
    return error;
  std::vector<std::string> link = {"-shared", "-o", join(scratch, shared),
                                   "-Wl,-soname," + shared, glueObject};
  link.insert(link.end(), objects.begin(), objects.end());
  for (const char *flag : {"-lKeOpsRuntime", "-lm", "-Wl,-z,defs",
                           "-Wl,-rpath,$ORIGIN"})
    link.push_back(flag);
  link.push_back("-L" + toolchain.libraryDir);
  if (llvm::Error error = run(toolchain.cc, link, log))
    return error;

  std::vector<std::unique_ptr<llvm::MemoryBuffer>> buffers;
  std::vector<llvm::NewArchiveMember> members;
  objects.insert(objects.begin(), glueObject);
  for (const std::string &object : objects) {
    auto buffer = llvm::MemoryBuffer::getFile(object);
    if (!buffer)
      return makeError("cannot read " + object + ": " +
                       buffer.getError().message());
    members.emplace_back((*buffer)->getMemBufferRef());
    buffers.push_back(std::move(*buffer));
  }
  if (llvm::Error error = llvm::writeArchive(
          join(scratch, archive), members, llvm::SymtabWritingMode::NormalSymtab,
          llvm::object::Archive::K_GNU, /*Deterministic=*/true,
          /*Thin=*/false))
    return error;
  if (llvm::Error error = writeFile(join(scratch, manifest),
                                    writeManifest(library, cpus, kernels)))
    return error;
  std::vector<std::string> files = {header, shared, archive, manifest};
  for (const CompiledKernel &kernel : kernels)
    for (const GpuKernelBundle &gpu : kernel.gpuVariants) {
      if (!gpu.hostObject.empty())
        continue; // emulated: no PTX
      files.push_back(ptxFile(library, kernel, gpu));
      if (llvm::Error error = writeFile(join(scratch, files.back()), gpu.ptx))
        return error;
    }

  for (const std::string &file : files)
    if (std::error_code error =
            llvm::sys::fs::rename(join(scratch, file), join(directory, file)))
      return makeError("cannot write " + join(directory, file) + ": " +
                       error.message());
  return llvm::Error::success();
}

} // namespace keops::aot
