//===- main.cpp - keops._C: the Python binding of the C++ API ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the extension module keops._C with nanobind: compile
// a formula into a kernel (cached by the C++ API) and run it on row-major
// CPU arrays (NumPy arrays or PyTorch tensors through DLPack), with the GIL
// released; and what front ends ask the compiler: the reduction names,
// and backward reductions as formulas. Errors become ValueError with the
// compiler's or runtime's message.
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/Compiler.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace nb = nanobind;

namespace {

/// An array in host memory or on a CUDA device (rows with unit stride).
using Array = nb::ndarray<>;
/// An input array, which may be read-only (np.load(mmap_mode="r"),
/// np.frombuffer, flags.writeable = False): kernels only read inputs.
using InputArray = nb::ndarray<nb::ro>;
using IndexArray =
    nb::ndarray<const int64_t, nb::ndim<1>, nb::device::cpu, nb::c_contig>;
using RangeArrays = std::tuple<IndexArray, IndexArray, IndexArray>;

std::vector<int64_t> toVector(const IndexArray &array) {
  return std::vector<int64_t>(array.data(), array.data() + array.shape(0));
}

[[noreturn]] void raise(llvm::Error error) {
  throw nb::value_error(llvm::toString(std::move(error)).c_str());
}

template <typename ArrayT>
keops_rt_dtype_t dtypeOf(const ArrayT &array, const char *what) {
  nb::dlpack::dtype type = array.dtype();
  if (type == nb::dtype<float>())
    return KEOPS_RT_FLOAT32;
  if (type == nb::dtype<double>())
    return KEOPS_RT_FLOAT64;
  if (type == nb::dtype<int64_t>())
    return KEOPS_RT_INT64;
  if (type == nb::dlpack::dtype{static_cast<uint8_t>(nb::dlpack::dtype_code::Float),
                                16, 1})
    return KEOPS_RT_FLOAT16;
  throw nb::type_error(
      (std::string(what) + " must be float16, float32, float64 or int64")
          .c_str());
}

/// The runtime's view of a 2-D array whose rows are contiguous (a slice of
/// columns is fine: its row stride goes to the kernel, nothing is copied).
template <typename ArrayT>
keops_rt_array_t view(ArrayT &array, const char *what) {
  if (array.ndim() != 2)
    throw nb::value_error((std::string(what) + " must be 2-D").c_str());
  int64_t rows = static_cast<int64_t>(array.shape(0));
  int64_t cols = static_cast<int64_t>(array.shape(1));
  // Strides are in elements; those of unit dimensions, and of empty arrays
  // (nothing is read), do not matter.
  int64_t rowStride = rows > 1 ? array.stride(0) : cols;
  if (rows == 0 || cols == 0)
    rowStride = cols;
  else if ((cols > 1 && array.stride(1) != 1) || rowStride < cols)
    throw nb::value_error(
        (std::string(what) + " must have contiguous rows (strides (" +
         std::to_string(array.stride(0)) + ", " +
         std::to_string(array.stride(1)) + ") elements for shape (" +
         std::to_string(rows) + ", " + std::to_string(cols) +
         ")): make it contiguous first")
            .c_str());
  return {const_cast<void *>(static_cast<const void *>(array.data())),
          dtypeOf(array, what), rows, cols, rowStride};
}

/// Where all the arrays of a call live: host memory, or one CUDA device
/// (then `device` is its number).
/// Where an array lives: (DLPack device type, device id).
using Place = std::pair<int32_t, int32_t>;

/// The runtime's views of the inputs and outputs of a run.
std::pair<std::vector<keops_rt_array_t>, std::vector<keops_rt_array_t>>
views(std::vector<InputArray> &inputs, std::vector<Array> &outputs) {
  std::vector<keops_rt_array_t> in, out;
  for (InputArray &input : inputs)
    in.push_back(view(input, "an input"));
  for (Array &output : outputs)
    out.push_back(view(output, "an output"));
  return {in, out};
}

/// Checks that `floats` and `ints` hold `slots` raw states of `k`
/// (contiguous, of the state dtype and int64).
void checkStates(const keops::Kernel &k, const Array &floats,
                 const Array &ints, int64_t slots) {
  keops_rt_kernel_desc_t desc;
  keops_rt_kernel_describe(k.getRuntimeKernel(), &desc);
  auto check = [&](const Array &array, const char *what, int64_t count,
                   keops_rt_dtype_t dtype) {
    bool contiguous = true;
    for (size_t d = 0, expected = 1; d < array.ndim(); ++d) {
      size_t axis = array.ndim() - 1 - d;
      if (array.shape(axis) > 1 &&
          array.stride(axis) != static_cast<int64_t>(expected))
        contiguous = false;
      expected *= array.shape(axis);
    }
    if (static_cast<int64_t>(array.size()) != count ||
        dtypeOf(array, what) != dtype || !contiguous)
      throw nb::value_error(
          (std::string(what) + " must be a contiguous array of " +
           std::to_string(count) + " " + keops_rt_dtype_name(dtype) +
           " (" + std::to_string(slots) + " rows of the raw state), got " +
           std::to_string(array.size()) + " " +
           keops_rt_dtype_name(dtypeOf(array, what)))
              .c_str());
  };
  check(floats, "floats", slots * desc.state_floats, desc.state_dtype);
  check(ints, "ints", slots * desc.state_ints, KEOPS_RT_INT64);
}

/// Runs `run(in, out, options)` with the GIL released on the views of the
/// arrays, after checking that `floats` and `ints` hold `count` raw states
/// per output row (the partial reductions).
template <typename Run>
void runOnStates(const keops::Kernel &k, std::vector<InputArray> &inputs,
                 std::vector<Array> &outputs, const Array &floats,
                 const Array &ints, int64_t count, int64_t rowsI,
                 int64_t rowsJ, Run run) {
  auto arrays = views(inputs, outputs);
  std::vector<keops_rt_array_t> &in = arrays.first, &out = arrays.second;
  checkStates(k, floats, ints, count * (out.empty() ? 0 : out[0].rows));
  keops::RunOptions options;
  options.rowsI = rowsI;
  options.rowsJ = rowsJ;
  if (llvm::Error error = [&] {
        nb::gil_scoped_release release;
        return run(in, out, options);
      }())
    raise(std::move(error));
}

/// Runs `run` (given an interrupt flag) with the GIL released. Runs of
/// `pairs` >= kWatchedPairs go on a worker thread while this one, the
/// caller's, checks for signals every 50 ms (Python runs signal handlers in
/// its main thread only): when a handler raises (Ctrl-C: KeyboardInterrupt),
/// the flag stops the run at its next piece of work and the exception
/// propagates; smaller runs are not worth the thread.
llvm::Error runInterruptibly(
    int64_t pairs,
    const std::function<llvm::Error(const volatile int32_t *)> &run) {
  constexpr int64_t kWatchedPairs = int64_t(1) << 24;
  if (pairs < kWatchedPairs) {
    nb::gil_scoped_release release;
    return run(nullptr);
  }
  volatile int32_t interrupt = 0;
  std::optional<llvm::Error> result;
  bool raised = false;
  {
    nb::gil_scoped_release release;
    std::mutex mutex;
    std::condition_variable done;
    std::thread worker([&] {
      llvm::Error error = run(&interrupt);
      std::lock_guard<std::mutex> lock(mutex);
      result.emplace(std::move(error));
      done.notify_one();
    });
    std::unique_lock<std::mutex> lock(mutex);
    while (!done.wait_for(lock, std::chrono::milliseconds(50),
                          [&] { return result.has_value(); })) {
      if (raised)
        continue;
      lock.unlock();
      {
        nb::gil_scoped_acquire acquire;
        raised = PyErr_CheckSignals() != 0;
      }
      if (raised)
        interrupt = 1;
      lock.lock();
    }
    lock.unlock();
    worker.join();
  }
  if (raised) {
    llvm::consumeError(std::move(*result));
    throw nb::python_error();
  }
  return std::move(*result);
}

keops_rt_memory_t memoryOf(const std::vector<Place> &places, int32_t &device) {
  bool host = false, cuda = false;
  for (auto [type, id] : places) {
    if (type == nb::device::cpu::value) {
      host = true;
    } else if (type == nb::device::cuda::value) {
      if (cuda && device != id)
        throw nb::value_error(("the arrays are on different GPUs (cuda:" +
                              std::to_string(device) + " and cuda:" +
                              std::to_string(id) + ")")
                                  .c_str());
      cuda = true;
      device = id;
    } else {
      throw nb::value_error("arrays must be in host memory or on a CUDA GPU");
    }
  }
  if (host && cuda)
    throw nb::value_error(("some arrays are in host memory and others on cuda:" +
                          std::to_string(device) +
                          ": put them all on the same device")
                              .c_str());
  return cuda ? KEOPS_RT_MEMORY_DEVICE : KEOPS_RT_MEMORY_HOST;
}

/// A derivative reduction of the compiler for Python (see gradient()'s
/// docstring), or None.
nb::object
toPython(llvm::Expected<std::optional<keops::GradientFormula>> described) {
  if (!described)
    raise(described.takeError());
  if (!*described)
    return nb::none();
  auto reduction = [](const mlir::keops::ReductionText &text) {
    return nb::make_tuple(text.name, text.formula, text.weight, text.axis,
                          text.k);
  };
  using Input = keops::GradientFormula::Input;
  nb::list inputs;
  for (const Input &input : (*described)->inputs) {
    nb::object what = nb::none();
    if (input.kind == Input::Kind::LogSumExp ||
        input.kind == Input::Kind::Indices)
      what = reduction(input.reduction);
    else if (input.kind == Input::Kind::Tangent)
      what = nb::int_(input.position);
    inputs.append(nb::make_tuple(Input::kindName(input.kind), what));
  }
  return nb::make_tuple(reduction((*described)->reduction), inputs,
                        (*described)->sumRows);
}

} // namespace

NB_MODULE(_C, m) {
  m.doc() = "KeOps-MLIR compiler and runtime";

  nb::class_<keops::Kernel>(m, "Kernel")
      .def_prop_ro("inputs",
                   [](const keops::Kernel &k) {
                     std::vector<std::tuple<std::string, int, int64_t>> result;
                     for (const keops::KernelInput &input : k.getInputs())
                       result.emplace_back(input.name,
                                           static_cast<int>(input.category),
                                           input.dim);
                     return result;
                   },
                   "(name, category 0=i 1=j 2=param, dim) of each variable")
      .def_prop_ro("outputs",
                   [](const keops::Kernel &k) {
                     std::vector<std::tuple<std::string, int64_t>> result;
                     for (const keops::KernelOutput &output : k.getOutputs())
                       result.emplace_back(keops_rt_dtype_name(output.dtype), output.dim);
                     return result;
                   },
                   "(dtype, dim) of each result")
      .def_prop_ro("row_category",
                   [](const keops::Kernel &k) {
                     return static_cast<int>(k.getRowCategory());
                   },
                   "the category indexing output rows: 0 (i) or 1 (j)")
      .def_prop_ro(
          "compiled_as",
          [](const keops::Kernel &k) {
            keops_rt_kernel_desc_t desc;
            keops_rt_kernel_describe(k.getRuntimeKernel(), &desc);
            nb::dict info;
            info["reduction"] = desc.reduction;
            info["k"] = desc.k;
            info["target"] = desc.target == KEOPS_RT_TARGET_GPU ? "gpu" : "cpu";
            info["arch"] = desc.arch;
            info["lanes"] = desc.lanes;
            info["tile_rows"] = desc.tile_rows;
            info["tile_cols"] = desc.tile_cols;
            info["state_floats"] = desc.state_floats;
            info["state_ints"] = desc.state_ints;
            return info;
          },
          "how the kernel was compiled (its runtime descriptor): reduction, "
          "k, target, arch, lanes, tile_rows, tile_cols, state_floats, "
          "state_ints")
      .def_prop_ro("dtype",
                   [](const keops::Kernel &k) {
                     return std::string(keops_rt_dtype_name(k.getDtype()));
                   },
                   "the dtype of the variables: float16, float32 or float64")
      .def_prop_ro("compile_ms", &keops::Kernel::getCompileMs)
      .def_prop_ro("backend", &keops::Kernel::getBackend,
                   "'cpu' or 'gpu': where the kernel runs")
      .def_prop_ro("from_disk_cache",
                   [](const keops::Kernel &k) {
                     return k.getSource() == keops::KernelSource::DiskCache;
                   },
                   "whether the code was loaded from the on-disk cache")
      .def_prop_ro(
          "state_layout",
          [](const keops::Kernel &k) {
            keops_rt_kernel_desc_t desc;
            keops_rt_kernel_describe(k.getRuntimeKernel(), &desc);
            return std::make_tuple(
                desc.state_floats, desc.state_ints,
                std::string(keops_rt_dtype_name(desc.state_dtype)));
          },
          "(floats, ints, dtype): a row's raw accumulator state, floats "
          "values of dtype then ints int64 column indices")
      .def(
          "run_partial",
          [](const keops::Kernel &k, std::vector<InputArray> inputs,
             std::vector<Array> outputs, int64_t colBegin, int64_t colEnd,
             Array floats, Array ints, int64_t rowsI, int64_t rowsJ) {
            runOnStates(k, inputs, outputs, floats, ints, 1, rowsI, rowsJ,
                        [&](auto &in, auto &out, auto &options) {
                          return k.runPartial(
                              in, out, colBegin, colEnd, floats.data(),
                              static_cast<int64_t *>(ints.data()), options);
                        });
          },
          nb::arg("inputs"), nb::arg("outputs"), nb::arg("col_begin"),
          nb::arg("col_end"), nb::arg("floats"), nb::arg("ints"),
          nb::arg("rows_i") = -1, nb::arg("rows_j") = -1,
          "Reduces every output row over the columns [col_begin, col_end) "
          "into raw states (CPU, dense): `floats` (rows x state floats, of "
          "the state dtype) and `ints` (rows x state ints, int64), C-ordered; "
          "the outputs give the rows and are not written.")
      .def(
          "merge_partials",
          [](const keops::Kernel &k, std::vector<InputArray> inputs,
             std::vector<Array> outputs, int32_t count, Array floats,
             Array ints, int64_t rowsI, int64_t rowsJ) {
            runOnStates(k, inputs, outputs, floats, ints, count, rowsI, rowsJ,
                        [&](auto &in, auto &out, auto &options) {
                          return k.mergePartials(
                              in, out, count, floats.data(),
                              static_cast<const int64_t *>(ints.data()),
                              options);
                        });
          },
          nb::arg("inputs"), nb::arg("outputs"), nb::arg("count"),
          nb::arg("floats"), nb::arg("ints"), nb::arg("rows_i") = -1,
          nb::arg("rows_j") = -1,
          "Merges `count` partials laid one after the other (run_partial's "
          "states, C-ordered) into the outputs, as one run over all their "
          "columns.")
      .def(
          "run",
          [](const keops::Kernel &k, std::vector<InputArray> inputs,
             std::vector<Array> outputs, int64_t rowsI, int64_t rowsJ,
             std::optional<RangeArrays> ranges, int32_t deviceId,
             uintptr_t stream) {
            std::vector<Place> places;
            for (const InputArray &input : inputs)
              places.emplace_back(input.device_type(), input.device_id());
            for (const Array &output : outputs)
              places.emplace_back(output.device_type(), output.device_id());
            int32_t device = deviceId;
            keops_rt_memory_t memory = memoryOf(places, device);
            auto [in, out] = views(inputs, outputs);
            std::optional<keops::BlockSparseRanges> blocks;
            if (ranges)
              blocks = keops::BlockSparseRanges{
                  toVector(std::get<0>(*ranges)), toVector(std::get<1>(*ranges)),
                  toVector(std::get<2>(*ranges))};
            keops::RunOptions options;
            options.rowsI = rowsI;
            options.rowsJ = rowsJ;
            options.ranges = blocks ? &*blocks : nullptr;
            options.memory = memory;
            options.deviceId = device;
            options.stream = reinterpret_cast<void *>(stream);
            int64_t rows = 1, columns = 1;
            for (const keops_rt_array_t &array : in)
              columns = std::max(columns, array.rows);
            for (const keops_rt_array_t &array : out)
              rows = std::max(rows, array.rows);
            if (llvm::Error error = runInterruptibly(
                    rows * columns, [&](const volatile int32_t *interrupt) {
                      keops::RunOptions interruptible = options;
                      interruptible.interrupt = interrupt;
                      return k.run(in, out, interruptible);
                    }))
              raise(std::move(error));
          },
          nb::arg("inputs"), nb::arg("outputs"), nb::arg("rows_i") = -1,
          nb::arg("rows_j") = -1, nb::arg("ranges") = nb::none(),
          nb::arg("device_id") = -1, nb::arg("stream") = 0,
          "Computes the outputs (2-D, rows contiguous) from the inputs (2-D, "
          "rows contiguous, any row stride); ranges "
          "= (row_ranges, slices, col_ranges), flat int64 arrays, makes the "
          "reduction block-sparse. GPU kernels take host arrays (rows split "
          "over every GPU, or on device_id) or arrays on one CUDA device, launched "
          "on `stream` (a CUstream handle, such as torch's "
          "current_stream().cuda_stream; 0: the default stream).");

  m.def(
      "wrap_kernel",
      [](uintptr_t handle) {
        if (!handle)
          throw nb::value_error("wrap_kernel: null kernel handle");
        return std::const_pointer_cast<keops::Kernel>(keops::Kernel::wrap(
            reinterpret_cast<const keops_rt_kernel_t *>(handle)));
      },
      nb::arg("handle"),
      "A Kernel over a runtime kernel handle (keops_rt_kernel_t *, as an "
      "int) that its owner, such as a loaded kernel library, keeps alive.");
  m.def("clear_kernel_cache", &keops::clearKernelCache,
        "Empties the process cache of compiled kernels (kernels held "
        "elsewhere stay usable).");
  m.def("kernel_cache_size", &keops::getKernelCacheSize,
        "The kernels in the process cache (at most 256, the least recently "
        "used evicted first).");
  m.def("cache_directory", &keops::getDiskCacheDirectory,
        "The directory of the on-disk kernel cache ('' when disabled).");
  m.def("default_cache_directory", &keops::getDefaultDiskCacheDirectory,
        "The directory the on-disk kernel cache starts with.");
  m.def(
      "set_cache_directory",
      [](const std::string &directory) {
        if (llvm::Error error = keops::setDiskCacheDirectory(directory))
          raise(std::move(error));
      },
      nb::arg("directory"),
      "Moves the on-disk kernel cache ('' or 'off' disables it).");

  m.def(
      "compile",
      [](const std::string &formula, const std::vector<std::string> &aliases,
         const std::string &dtype, const std::string &sumScheme,
         bool doubleAccumulator, const std::string &backend) {
        keops::CompileOptions options;
        options.dtype = dtype;
        options.sumScheme = sumScheme;
        options.doubleAccumulator = doubleAccumulator;
        options.backend = backend;
        llvm::Expected<std::shared_ptr<const keops::Kernel>> kernel =
            [&] {
              nb::gil_scoped_release release;
              return keops::compile(formula, aliases, options);
            }();
        if (!kernel)
          raise(kernel.takeError());
        return std::const_pointer_cast<keops::Kernel>(*kernel);
      },
      nb::arg("formula"), nb::arg("aliases"),
      nb::arg("dtype") = keops::CompileOptions().dtype,
      nb::arg("sum_scheme") = keops::CompileOptions().sumScheme,
      nb::arg("double_acc") = keops::CompileOptions().doubleAccumulator,
      nb::arg("backend") = keops::CompileOptions().backend,
      "Compiles (or finds in the process cache) the kernel of a formula for "
      "backend 'cpu', 'gpu' or 'auto' (the GPU when one is usable).");

  m.def(
      "reductions",
      []() {
        static const char *weights[] = {"none", "optional", "required"};
        nb::list names;
        for (const keops::ReductionName &name : keops::getReductionNames())
          names.append(nb::make_tuple(name.name, name.kind, name.takesK,
                                      weights[static_cast<int>(name.weight)],
                                      name.sumType));
        return names;
      },
      "The reductions of the formula language, as (name, kind, takes K, "
      "weight formula 'none', 'optional' or 'required', sum type).");
  m.def(
      "gradient",
      [](const std::string &formula, const std::vector<std::string> &aliases,
         unsigned wrt) {
        return toPython(keops::gradientFormula(formula, aliases, wrt));
      },
      nb::arg("formula"), nb::arg("aliases"), nb::arg("wrt"),
      "The backward reduction of the reduction `formula` with respect to the "
      "variable at position `wrt`, or None for a zero gradient: (reduction, "
      "inputs, sum_rows). A reduction is (name, formula, weight, axis tag, "
      "K or None); the inputs after the forward variables are "
      "('eta' | 'output' | 'column', None) or ('logsumexp' | 'indices', "
      "reduction of the forward variables whose output they are).");
  m.def(
      "expanded_formula",
      [](const std::string &formula, const std::vector<std::string> &aliases) {
        auto expanded = keops::expandedFormula(formula, aliases);
        if (!expanded)
          raise(expanded.takeError());
        return expanded->formula;
      },
      nb::arg("formula"), nb::arg("aliases"),
      "The formula of the reduction `formula` with its derivatives (Grad, "
      "Diff, TraceOperator, ...) expanded and simplified, its variables "
      "written Var(position, dimension, category).");
  m.def(
      "tangent",
      [](const std::string &formula, const std::vector<std::string> &aliases,
         const std::vector<unsigned> &positions) {
        return toPython(keops::tangentFormula(formula, aliases, positions));
      },
      nb::arg("formula"), nb::arg("aliases"), nb::arg("positions"),
      "The tangent (forward-mode derivative) reduction of the value output "
      "of `formula` along tangents of the variables at `positions`, or None "
      "for a zero tangent: (reduction, inputs, False), as gradient() gives, "
      "the inputs starting with ('tangent', position) for each position.");
  m.def(
      "gpu_devices",
      []() {
        std::vector<std::tuple<std::string, int, int>> devices;
        auto count = keops::gpuDeviceCount();
        if (!count) {
          llvm::consumeError(count.takeError());
          return devices;
        }
        for (int d = 0; d < *count; ++d) {
          char name[256] = {};
          int32_t major = 0, minor = 0;
          if (keops_rt_status_t status =
                  keops_rt_gpu_device_info(d, name, sizeof name, &major, &minor)) {
            keops_rt_status_free(status);
            continue;
          }
          devices.emplace_back(name, major, minor);
        }
        return devices;
      },
      "(name, compute capability major, minor) of each usable GPU.");
  m.def(
      "gpu_release_memory",
      []() {
        // Without a GPU there is nothing to release.
        if (keops_rt_status_t status = keops_rt_gpu_release_memory()) {
          bool noGpu = keops_rt_status_code(status) == KEOPS_RT_NO_GPU;
          std::string message = keops_rt_status_message(status);
          keops_rt_status_free(status);
          if (!noGpu)
            throw nb::value_error(message.c_str());
        }
      },
      "Frees the device memory kept for the next GPU runs.");
  m.def(
      "gpu_unavailable_reason",
      []() -> std::string {
        auto count = keops::gpuDeviceCount();
        if (count)
          return "";
        return llvm::toString(count.takeError());
      },
      "Why no GPU is usable ('' when one is).");
}
