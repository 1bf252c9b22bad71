# check.py - Runs the kernel bundles of prepare.py on a GPU, through the runtime alone.
# SPDX-License-Identifier: MIT
"""On a machine with an NVIDIA GPU, its driver and Python with NumPy (no compiler,
MLIR or LLVM needed): loads DIR/libKeOpsRuntime.so with ctypes, creates each case's
GPU kernel from its bundle (descriptor, PTX and cubin), runs it on the case's inputs
from host memory (from the cubin, again from the PTX, and on column slices of wider
arrays) and, when torch sees the GPU, from CUDA tensors in place, and compares the
outputs with those of the CPU kernel (value outputs within a relative tolerance of the
largest value, index outputs equal but for near-ties). Then times the benchmark
kernels at N = M in --sizes against dense PyTorch on the same GPU (also when a
case fails). Prints one line per case and a table, writes DIR/results.json and
DIR/results.md (a page for bench/results/; both to $OUT too when it is set) after
the checks and again after the timings, and exits with status 1 when a case fails.

Usage: python3 scripts/gpu-check/check.py [DIR] [--sizes 10000 100000 1000000]
"""
import argparse
import base64
import ctypes
import json
import os
import sys
import time

import numpy as np

DTYPES = {0: np.float32, 1: np.float64, 2: np.int64, 3: np.float16}
TOLERANCE = {0: 1e-4, 1: 1e-10, 3: 1e-2}
HOST, DEVICE = 0, 1


class Array(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int),
                ("rows", ctypes.c_int64), ("cols", ctypes.c_int64),
                ("row_stride", ctypes.c_int64)]


class RunArgs(ctypes.Structure):
    _fields_ = [("num_inputs", ctypes.c_int32), ("inputs", ctypes.POINTER(Array)),
                ("num_outputs", ctypes.c_int32), ("outputs", ctypes.POINTER(Array)),
                ("rows_i", ctypes.c_int64), ("rows_j", ctypes.c_int64),
                ("num_threads", ctypes.c_int32), ("num_row_ranges", ctypes.c_int64),
                ("row_ranges", ctypes.c_void_p), ("slices", ctypes.c_void_p),
                ("num_col_ranges", ctypes.c_int64), ("col_ranges", ctypes.c_void_p),
                ("memory", ctypes.c_int), ("device_id", ctypes.c_int32),
                ("stream", ctypes.c_void_p)]


class Desc(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_int32), ("name", ctypes.c_char_p),
                ("dtype", ctypes.c_int), ("row_category", ctypes.c_int),
                ("num_inputs", ctypes.c_int32), ("categories", ctypes.POINTER(ctypes.c_int)),
                ("dims", ctypes.POINTER(ctypes.c_int64)),
                ("input_names", ctypes.POINTER(ctypes.c_char_p)),
                ("num_outputs", ctypes.c_int32),
                ("output_dims", ctypes.POINTER(ctypes.c_int64)),
                ("output_dtypes", ctypes.POINTER(ctypes.c_int)),
                ("allows_empty_reduction", ctypes.c_int32),
                ("state_floats", ctypes.c_int32), ("state_ints", ctypes.c_int32),
                ("state_dtype", ctypes.c_int), ("reduction", ctypes.c_char_p),
                ("k", ctypes.c_int32), ("target", ctypes.c_int),
                ("arch", ctypes.c_char_p), ("lanes", ctypes.c_int32),
                ("tile_rows", ctypes.c_int32), ("tile_cols", ctypes.c_int32)]


class GpuCode(ctypes.Structure):
    _fields_ = [("ptx", ctypes.c_char_p), ("entry", ctypes.c_char_p),
                ("block_size", ctypes.c_int32), ("cubin", ctypes.c_char_p),
                ("cubin_size", ctypes.c_size_t), ("cubin_arch", ctypes.c_char_p),
                ("rows_per_thread", ctypes.c_int32)]

GPU_TARGET = 1


class Runtime:
    def __init__(self, path):
        self.lib = lib = ctypes.CDLL(path)
        lib.keops_rt_status_message.restype = ctypes.c_char_p
        lib.keops_rt_status_message.argtypes = [ctypes.c_void_p]
        lib.keops_rt_status_free.argtypes = [ctypes.c_void_p]
        lib.keops_rt_kernel_create_gpu.restype = ctypes.c_void_p
        lib.keops_rt_kernel_create_gpu.argtypes = [ctypes.POINTER(Desc),
                                                   ctypes.POINTER(GpuCode),
                                                   ctypes.POINTER(ctypes.c_void_p)]
        lib.keops_rt_kernel_run.restype = ctypes.c_void_p
        lib.keops_rt_kernel_run.argtypes = [ctypes.c_void_p, ctypes.POINTER(RunArgs)]
        lib.keops_rt_run_args_initialize.argtypes = [ctypes.POINTER(RunArgs)]
        lib.keops_rt_gpu_device_info.restype = ctypes.c_void_p
        lib.keops_rt_gpu_device_info.argtypes = [
            ctypes.c_int32, ctypes.c_char_p, ctypes.c_int32,
            ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_int32)]

    def check(self, status):
        if status:
            message = self.lib.keops_rt_status_message(status).decode()
            self.lib.keops_rt_status_free(status)
            raise RuntimeError(message)

    def device_name(self):
        name = ctypes.create_string_buffer(256)
        major, minor = ctypes.c_int32(), ctypes.c_int32()
        self.check(self.lib.keops_rt_gpu_device_info(0, name, 256, ctypes.byref(major),
                                                     ctypes.byref(minor)))
        return "%s (sm_%d%d)" % (name.value.decode(), major.value, minor.value)

    def kernel(self, bundle, cubin=True):
        """A GPU kernel of the runtime from a bundle, loaded from its cubin (when it
        has one and `cubin`) or its PTX."""
        inputs, outputs = bundle["inputs"], bundle["outputs"]
        keep = [(ctypes.c_int * len(inputs))(*[i["category"] for i in inputs]),
                (ctypes.c_int64 * len(inputs))(*[i["dim"] for i in inputs]),
                (ctypes.c_int64 * len(outputs))(*[o["dim"] for o in outputs]),
                (ctypes.c_int * len(outputs))(*[o["dtype"] for o in outputs])]
        desc = Desc(bundle["abi_version"], b"keops_kernel", bundle["dtype"],
                    bundle["row_category"], len(inputs), keep[0], keep[1], None,
                    len(outputs), keep[2], keep[3],
                    int(bundle["allows_empty_reduction"]), bundle["state_floats"],
                    bundle["state_ints"], bundle["state_dtype"],
                    bundle["reduction"].encode(), bundle["k"], GPU_TARGET,
                    bundle["arch"].encode(), 1,
                    bundle["block_size"] * bundle["rows_per_thread"],
                    bundle["block_size"])
        image = base64.b64decode(bundle["cubin"]) if cubin else b""
        code = GpuCode(bundle["ptx"].encode(), bundle["entry"].encode(),
                       bundle["block_size"], image or None, len(image),
                       bundle["arch"].encode(), bundle["rows_per_thread"])
        handle = ctypes.c_void_p()
        self.check(self.lib.keops_rt_kernel_create_gpu(ctypes.byref(desc),
                                                       ctypes.byref(code),
                                                       ctypes.byref(handle)))
        return handle

    def run(self, kernel, inputs, outputs, memory=HOST, ranges=None, stream=None):
        """inputs/outputs: (pointer, dtype code, rows, cols) tuples; ranges:
        the (row ranges, slices, column ranges) int64 arrays, or None; stream:
        a CUstream handle for device arrays."""
        ins = (Array * len(inputs))(*[Array(*a) for a in inputs])
        outs = (Array * len(outputs))(*[Array(*a) for a in outputs])
        args = RunArgs()
        self.lib.keops_rt_run_args_initialize(ctypes.byref(args))
        args.num_inputs, args.inputs = len(inputs), ins
        args.num_outputs, args.outputs = len(outputs), outs
        args.memory = memory
        args.stream = stream
        if ranges is not None:
            rows, slices, cols = ranges
            args.num_row_ranges, args.row_ranges = len(slices), rows.ctypes.data
            args.slices = slices.ctypes.data
            args.num_col_ranges, args.col_ranges = len(cols) // 2, cols.ctypes.data
        self.check(self.lib.keops_rt_kernel_run(kernel, ctypes.byref(args)))


def code_of(array):
    return {np.dtype(v): k for k, v in DTYPES.items()}[array.dtype]


def host_run(rt, kernel, bundle, inputs, ranges=None, pad=0):
    """Runs on host arrays; with `pad`, every array is the column slice of a
    wider one (row stride cols + pad), read and written in place."""
    rows = inputs[[i["category"] for i in bundle["inputs"]].index(bundle["row_category"])
                  ].shape[0]
    wide = [np.pad(a, ((0, 0), (0, pad))) for a in inputs]
    outputs = [np.zeros((rows, o["dim"] + pad), dtype=DTYPES[o["dtype"]])
               for o in bundle["outputs"]]
    spans = [(a, a.shape[1] - pad) for a in wide + outputs]
    arrays = [(a.ctypes.data, code_of(a), a.shape[0], cols, a.shape[1]) for a, cols in spans]
    rt.run(kernel, arrays[:len(wide)], arrays[len(wide):], ranges=ranges)
    return [o[:, :o.shape[1] - pad] for o in outputs]


def torch_run(rt, kernel, bundle, inputs, torch, ranges=None):
    """The same on CUDA tensors, used in place (KEOPS_RT_MEMORY_DEVICE), on a
    side stream of torch: the inputs are copied there without waiting, so the
    launches must queue after the copies on that stream."""
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        tensors = [torch.from_numpy(a).pin_memory().cuda(non_blocking=True)
                   for a in inputs]
        rows = inputs[[i["category"] for i in bundle["inputs"]].index(
            bundle["row_category"])].shape[0]
        outputs = [torch.empty((rows, o["dim"]), dtype=getattr(torch, np.dtype(
            DTYPES[o["dtype"]]).name), device="cuda") for o in bundle["outputs"]]
        rt.run(kernel, [(t.data_ptr(), code_of(a), *a.shape)
                        for t, a in zip(tensors, inputs)],
               [(o.data_ptr(), info["dtype"], *o.shape)
                for o, info in zip(outputs, bundle["outputs"])],
               memory=DEVICE, ranges=ranges, stream=stream.cuda_stream)
        return [o.cpu().numpy() for o in outputs]


def compare(bundle, outputs, expected):
    """The largest relative error of the value outputs, and the share of index
    outputs that differ."""
    error, mismatch = 0.0, 0.0
    for out, ref in zip(outputs, expected):
        if out.dtype == np.int64:
            mismatch = max(mismatch, float(np.mean(out != ref)))
            continue
        out, ref = out.astype(np.float64), ref.astype(np.float64)
        scale = max(1.0, float(np.abs(ref[np.isfinite(ref)]).max(initial=0)))
        same = (out == ref) | (np.isnan(out) & np.isnan(ref))
        error = max(error, float(np.where(same, 0, np.abs(out - ref)).max()) / scale)
    return error, mismatch


def check_cases(rt, directory, torch):
    results, failed = [], 0
    cases = os.path.join(directory, "cases")
    for name in sorted(os.listdir(cases)):
        case = os.path.join(cases, name)
        with open(os.path.join(case, "bundle.json")) as f:
            bundle = json.load(f)
        inputs = [np.load(os.path.join(case, "in%d.npy" % k))
                  for k in range(len(bundle["inputs"]))]
        expected = [np.load(os.path.join(case, "expected.npy"))]
        if len(bundle["outputs"]) > 1:
            expected.append(np.load(os.path.join(case, "expected.1.npy")))
        ranges = None
        if os.path.exists(os.path.join(case, "ranges0.npy")):
            ranges = tuple(np.load(os.path.join(case, "ranges%d.npy" % k))
                           for k in range(3))
        runs = [("host", True, lambda k: host_run(rt, k, bundle, inputs, ranges))]
        if bundle["cubin"]:
            runs.append(("host, ptx", False,
                         lambda k: host_run(rt, k, bundle, inputs, ranges)))
        runs.append(("host, strided", True,
                     lambda k: host_run(rt, k, bundle, inputs, ranges, pad=2)))
        if torch is not None:
            runs.append(("cuda, side stream", True,
                         lambda k: torch_run(rt, k, bundle, inputs, torch, ranges)))
        for memory, cubin, run in runs:
            try:
                kernel = rt.kernel(bundle, cubin)
                error, mismatch = compare(bundle, run(kernel), expected)
                ok = error <= TOLERANCE[bundle["dtype"]] and mismatch <= 0.005
                note = "max_rel_err %.1e, index mismatches %.2f%%" % (error, 100 * mismatch)
            except RuntimeError as e:
                ok, error, mismatch, note = False, None, None, str(e)
            failed += not ok
            print("%-4s %-24s %-17s %s" % ("ok" if ok else "FAIL", name, memory, note))
            results.append({"case": name, "memory": memory, "ok": ok,
                            "max_rel_err": error, "index_mismatch": mismatch,
                            "note": note})
    return results, failed


def bench(rt, directory, sizes, torch):
    """Seconds per run of each benchmark kernel, with dense torch beside it."""
    rows = []
    rng = np.random.default_rng(0)
    for name in sorted(os.listdir(os.path.join(directory, "bench"))):
        with open(os.path.join(directory, "bench", name)) as f:
            bundle = json.load(f)
        kernel = rt.kernel(bundle)
        for n in sizes:
            if "knn" in name and n > 100_000:
                continue
            inputs = [rng.random((n, i["dim"]), dtype=np.float32)
                      for i in bundle["inputs"]]
            host_run(rt, kernel, bundle, inputs)  # loads the module
            times = []
            for _ in range(3):
                start = time.perf_counter()
                outputs = host_run(rt, kernel, bundle, inputs)
                times.append(time.perf_counter() - start)
            ours = sorted(times)[1]
            in_place = dense = None
            if torch is not None:
                tensors = [torch.from_numpy(a).cuda() for a in inputs]
                outs = [torch.empty((n, o["dim"]), device="cuda",
                                    dtype=torch.int64 if o["dtype"] == 2 else torch.float32)
                        for o in bundle["outputs"]]
                ptrs = ([(t.data_ptr(), 0, *t.shape) for t in tensors],
                        [(o.data_ptr(), 2 if o.dtype == torch.int64 else 0, *o.shape)
                         for o in outs])
                rt.run(kernel, *ptrs, memory=DEVICE)
                times = []
                for _ in range(3):
                    start = time.perf_counter()
                    rt.run(kernel, *ptrs, memory=DEVICE)
                    times.append(time.perf_counter() - start)
                in_place = sorted(times)[1]
                if n <= 100_000:
                    dense = dense_torch(torch, name, tensors)
            rows.append({"kernel": name, "n": n, "host_arrays_s": ours,
                         "cuda_tensors_s": in_place, "torch_dense_s": dense,
                         "pairs_per_s": n * n / (in_place or ours)})
            print("%-14s N=M=%-8d host %.4f s  cuda tensors %s  torch dense %s  %.2e pairs/s"
                  % (name, n, ours, "%.4f s" % in_place if in_place else "n/a",
                     "%.4f s" % dense if dense else "n/a", rows[-1]["pairs_per_s"]))
            del outputs
    return rows


def dense_torch(torch, name, tensors):
    x, y = tensors[0], tensors[1]

    def run():
        for start in range(0, x.shape[0], 8192):
            d2 = torch.cdist(x[start:start + 8192], y) ** 2
            if name.startswith("gaussian"):
                (torch.exp(-d2) @ tensors[2]).sum()
            elif name.startswith("logsumexp"):
                torch.logsumexp(-d2, 1)
            else:
                torch.topk(d2, 100 if name.endswith("_k100") else 10, dim=1,
                           largest=False)
        torch.cuda.synchronize()

    run()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def markdown(report):
    """The report as a page for bench/results/: the checks, then the timings."""
    cases = report["cases"]
    failed = [c for c in cases if not c["ok"]]
    lines = ["# GPU checks and timings: %s" % report["gpu"], "",
             "`scripts/gpu-check/check.py`: %d of %d runs agree with the CPU kernels."
             % (len(cases) - len(failed), len(cases)), ""]
    lines += ["- FAIL %s (%s): %s" % (c["case"], c["memory"], c["note"]) for c in failed]
    if failed:
        lines.append("")
    fmt = lambda v: "%.4f" % v if v else "n/a"  # noqa: E731
    lines += ["| kernel | N = M | host arrays (s) | CUDA tensors (s) | torch dense (s) "
              "| pairs/s |", "|---|---|---|---|---|---|"]
    lines += ["| %s | %d | %s | %s | %s | %.2e |" % (
        row["kernel"][:-len(".json")], row["n"], fmt(row["host_arrays_s"]),
        fmt(row["cuda_tensors_s"]), fmt(row["torch_dense_s"]), row["pairs_per_s"])
        for row in report["bench"]]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", nargs="?", default="gpucheck")
    parser.add_argument("--sizes", type=int, nargs="+",
                        default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    rt = Runtime(os.path.join(args.dir, "libKeOpsRuntime.so"))
    try:
        import torch
        torch = torch if torch.cuda.is_available() else None
    except ImportError:
        torch = None
    try:
        device = rt.device_name()
    except RuntimeError as e:
        print(e)
        return 2
    print("GPU:", device)
    results, failed = check_cases(rt, args.dir, torch)
    report = {"gpu": device, "cases": results, "bench": []}

    def write():
        for folder in (args.dir, os.environ.get("OUT")):
            if folder:
                with open(os.path.join(folder, "results.json"), "w") as f:
                    json.dump(report, f, indent=2)
                with open(os.path.join(folder, "results.md"), "w") as f:
                    f.write(markdown(report))

    # The checks are kept even if a benchmark fails; a failed check does not
    # stop the timings (a device session is short).
    write()
    print("%d of %d runs failed" % (failed, len(results)))
    report["bench"] = bench(rt, args.dir, args.sizes, torch)
    write()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
