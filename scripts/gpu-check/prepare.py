# prepare.py - Builds, on a machine without a GPU, what check.py runs on one.
# SPDX-License-Identifier: MIT
"""Writes DIR (default gpucheck/, ignored by git) with the runtime library
(build/lib/libKeOpsRuntime.so: no MLIR or LLVM in it), and for every case a GPU
kernel bundle (keops-run --emit=bundle: descriptor, PTX and cubin), its inputs and the
outputs of the same kernel on the CPU (keops-run --backend cpu), plus the bundles of
the benchmark formulas. Then, on the GPU machine (CUDA driver, Python with NumPy):

    python3 scripts/gpu-check/check.py gpucheck

Usage: .venv/bin/python scripts/gpu-check/prepare.py [DIR] [--arch sm_90]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEOPS_RUN = os.path.join(ROOT, "build", "bin", "keops-run")
XYB = ["x=Vi(3)", "y=Vj(3)", "b=Vj(1)"]

# name: (formula, aliases, dtype, rows of i, rows of j[, keops-run options of
# the bundle])
CASES = {}
for dtype in ("float32", "float64"):
    for name, formula in [
            ("sum", "Sum_Reduction(Exp(-SqDist(x,y))*b,0)"),
            ("sum_i", "Sum_Reduction(Exp(-SqDist(x,y))*b,1)"),
            ("lse", "LogSumExp_Reduction(-SqDist(x,y),0)"),
            ("lse_weight", "LogSumExp_Reduction(-SqDist(x,y),0,b)"),
            ("softmax", "SumSoftMaxWeight_Reduction(-SqDist(x,y),0,y)"),
            ("min", "Min_Reduction(SqDist(x,y),0)"),
            ("max_i", "Max_Reduction(SqDist(x,y),1)"),
            ("argmin", "ArgMin_Reduction(SqDist(x,y),0)"),
            ("min_argmin", "Min_ArgMin_Reduction(SqDist(x,y),0)"),
            ("max_argmax_i", "Max_ArgMax_Reduction(SqDist(x,y),1)"),
            ("kmin", "KMin_Reduction(SqDist(x,y),3,0)"),
            ("argkmin_i", "ArgKMin_Reduction(SqDist(x,y),5,1)"),
            ("kmin_argkmin", "KMin_ArgKMin_Reduction(SqDist(x,y),4,0)"),
            ("math", "Sum_Reduction(Sin(x|y)*Cos(b)+Atan(b)+Sqrt(Abs(x-y))+Log(b+1),0)")]:
        CASES["%s_%s" % (name, dtype)] = (formula, XYB, dtype, 1000, 777)
    # Few rows: the columns split over the grid's second dimension.
    CASES["sum_few_rows_" + dtype] = ("Sum_Reduction(Exp(-SqDist(x,y))*b,0)", XYB,
                                      dtype, 3, 100000)
    CASES["kmin_few_rows_" + dtype] = ("KMin_ArgKMin_Reduction(SqDist(x,y),3,0)",
                                       XYB, dtype, 5, 50000)
CASES["knn_d64_float32"] = ("ArgKMin_Reduction(SqDist(x,y),10,0)",
                            ["x=Vi(64)", "y=Vj(64)"], "float32", 700, 900)
CASES["sum_d990_float32"] = ("Sum_Reduction(Exp(-SqDist(x,y)/990)*b,0)",
                             ["x=Vi(990)", "y=Vj(990)", "b=Vj(1)"], "float32", 300, 400)
# Outputs reduced in chunks of 16 components (the last one partial).
XYW = ["x=Vi(3)", "y=Vj(3)", "b=Vj(300)"]
XYZ = ["x=Vi(3)", "y=Vj(3)", "z=Vj(41)"]
XYU = ["x=Vi(3)", "y=Vj(3)", "u=Vi(41)"]
CASES["sum_wide_out_float32"] = ("Sum_Reduction(Exp(-SqDist(x,y))*b,0)", XYW,
                                 "float32", 500, 700)
CASES["sum_wide_out_few_rows_float32"] = ("Sum_Reduction(Exp(-SqDist(x,y))*z,0)",
                                          XYZ, "float32", 3, 30000)
CASES["min_argmin_wide_float64"] = ("Min_ArgMin_Reduction(Abs(u-z),0)",
                                    ["u=Vi(41)", "z=Vj(41)"], "float64", 300, 400)
CASES["lse_weight_wide_float32"] = ("LogSumExp_Reduction(-SqDist(x,y),0,Exp(z))",
                                    XYZ, "float32", 400, 500)
CASES["softmax_wide_i_float32"] = ("SumSoftMaxWeight_Reduction(-SqDist(x,y),1,u)",
                                   XYU, "float32", 300, 400)
# K best lists in each thread's local memory (K >= 32): one row-block, split
# columns (raw states and their merge), output chunks of a wide formula.
CASES["knn_k100_float32"] = ("ArgKMin_Reduction(SqDist(x,y),100,0)", XYB,
                             "float32", 1000, 2000)
CASES["kmin_k500_few_rows_float64"] = ("KMin_ArgKMin_Reduction(SqDist(x,y),500,0)",
                                       XYB, "float64", 5, 50000)
CASES["argkmin_k40_wide_float32"] = ("ArgKMin_Reduction(u-z,40,1)",
                                     ["u=Vj(41)", "z=Vi(41)"], "float32", 300, 400)
for name in ("sum", "min_argmin", "lse"):
    formula = CASES[name + "_float32"][0]
    CASES[name + "_float16"] = (formula, XYB, "float16", 1000, 777)
# Rows per thread given (the others are automatic): one, and three (rows of
# a block past the end in each of them), on one row-block and on split columns.
for rows_per_thread in (1, 3):
    for name in ("sum_float32", "argkmin_i_float64", "lse_weight_float32",
                 "sum_few_rows_float32", "kmin_few_rows_float64"):
        CASES["%s_r%d" % (name, rows_per_thread)] = CASES[name] + (
            ["--gpu-rows-per-thread", str(rows_per_thread)],)

# Block-sparse cases: (formula, reduction_op, opt_arg) on clustered 2-D points.
SPARSE = {"sparse_sum": ("Exp(-SqDist(x,y)*20)*b", "Sum", None),
          "sparse_argkmin": ("SqDist(x,y)", "ArgKMin", 3),
          "sparse_lse": ("-SqDist(x,y)*20", "LogSumExp", None)}

# name: (formula, aliases[, keops-run options of the bundle])
BENCH = {"gaussian_sum": ("Sum_Reduction(Exp(-SqDist(x,y))*b,0)", XYB),
         "gaussian_sum_r1": ("Sum_Reduction(Exp(-SqDist(x,y))*b,0)", XYB,
                             ["--gpu-rows-per-thread", "1"]),
         "logsumexp": ("LogSumExp_Reduction(-SqDist(x,y),0)", XYB),
         "logsumexp_r1": ("LogSumExp_Reduction(-SqDist(x,y),0)", XYB,
                          ["--gpu-rows-per-thread", "1"]),
         "knn_d3": ("ArgKMin_Reduction(SqDist(x,y),10,0)", ["x=Vi(3)", "y=Vj(3)"]),
         "knn_d64": ("ArgKMin_Reduction(SqDist(x,y),10,0)", ["x=Vi(64)", "y=Vj(64)"]),
         "knn_d3_k100": ("ArgKMin_Reduction(SqDist(x,y),100,0)", ["x=Vi(3)", "y=Vj(3)"])}


def keops_run(*args):
    return subprocess.run([KEOPS_RUN, *args], check=True, capture_output=True,
                          text=True).stdout


def alias_args(aliases):
    return [a for alias in aliases for a in ("--alias", alias)]


def bundle(formula, aliases, dtype, arch, options=()):
    return json.loads(keops_run("--formula", formula, *alias_args(aliases), "--dtype",
                                dtype, "--emit=bundle", "--gpu-arch", arch, *options))


def write_sparse_cases(directory, arch, rng):
    """Block-sparse cases: the CPU outputs come from the Python package, the
    ranges (row ranges, slices, column ranges of the kernel's rows) are saved."""
    sys.path.insert(0, os.path.join(ROOT, "build", "python"))
    import keops.numpy.cluster as npc
    from keops.numpy import Genred
    x, y = rng.random((3000, 2)), rng.random((4000, 2))
    x, x_labels = npc.sort_clusters(x, npc.grid_cluster(x, 0.1))
    y, y_labels = npc.sort_clusters(y, npc.grid_cluster(y, 0.1))
    ranges_i, centroids_i, _ = npc.cluster_ranges_centroids(x, x_labels)
    ranges_j, centroids_j, _ = npc.cluster_ranges_centroids(y, y_labels)
    keep = ((centroids_i[:, None] - centroids_j[None]) ** 2).sum(-1) < 0.3 ** 2
    ranges = npc.from_matrix(ranges_i, ranges_j, keep)
    b = rng.random((len(y), 1))
    aliases = ["x=Vi(2)", "y=Vj(2)", "b=Vj(1)"]
    for name, (formula, op, k) in SPARSE.items():
        case = os.path.join(directory, "cases", name)
        os.makedirs(case)
        reduction = {"Sum": "Sum_Reduction(%s,0)", "LogSumExp": "LogSumExp_Reduction(%s,0)",
                     "ArgKMin": "ArgKMin_Reduction(%s,3,0)"}[op] % formula
        kernel = bundle(reduction, aliases, "float32", arch)
        with open(os.path.join(case, "bundle.json"), "w") as f:
            json.dump(kernel, f)
        inputs = [a.astype(np.float32) for a in (x, y, b)]
        for n, data in enumerate(inputs):
            np.save(os.path.join(case, "in%d.npy" % n), data)
        out = Genred(formula, ["x = Vi(2)", "y = Vj(2)", "b = Vj(1)"], reduction_op=op,
                     axis=1, opt_arg=k)(*inputs, ranges=ranges, backend="CPU")
        np.save(os.path.join(case, "expected.npy"), out.reshape(len(x), -1))
        for n, array in enumerate(ranges[:3]):
            np.save(os.path.join(case, "ranges%d.npy" % n),
                    np.ascontiguousarray(array, dtype=np.int64).reshape(-1))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", nargs="?", default=os.path.join(ROOT, "gpucheck"))
    parser.add_argument("--arch", default="sm_90")
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    os.makedirs(os.path.join(args.dir, "cases"))
    shutil.copy(os.path.join(ROOT, "build", "lib", "libKeOpsRuntime.so"), args.dir)
    rng = np.random.default_rng(0)
    for name, (formula, aliases, dtype, n, m, *options) in CASES.items():
        case = os.path.join(args.dir, "cases", name)
        os.makedirs(case)
        kernel = bundle(formula, aliases, dtype, args.arch, *options)
        with open(os.path.join(case, "bundle.json"), "w") as f:
            json.dump(kernel, f)
        # The CPU reference runs in float32 on the float16-rounded inputs.
        cpu_dtype = "float32" if dtype == "float16" else dtype
        files = []
        for k, alias in enumerate(aliases):
            var, kind = alias.split("=")
            dim = int(kind[kind.index("(") + 1:-1])
            rows = n if kind.startswith("Vi") else m
            data = rng.random((rows, dim)).astype(dtype)
            np.save(os.path.join(case, "in%d.npy" % k), data)
            path = os.path.join(case, "cpu_in%d.npy" % k)
            np.save(path, data.astype(cpu_dtype))
            files += ["--input", "%s=%s" % (var, path)]
        keops_run("--formula", formula, *alias_args(aliases), "--dtype", cpu_dtype,
                  "--backend", "cpu", *files, "--output",
                  os.path.join(case, "expected.npy"))
        for k in range(len(aliases)):
            os.remove(os.path.join(case, "cpu_in%d.npy" % k))
    write_sparse_cases(args.dir, args.arch, rng)
    os.makedirs(os.path.join(args.dir, "bench"))
    for name, (formula, aliases, *options) in BENCH.items():
        with open(os.path.join(args.dir, "bench", name + ".json"), "w") as f:
            json.dump(bundle(formula, aliases, "float32", args.arch, *options), f)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(args.dir)
               for f in fs)
    print("wrote %d cases and %d benchmark kernels to %s (%.1f MB)" % (
        len(CASES) + len(SPARSE), len(BENCH), args.dir, size / 1e6))


if __name__ == "__main__":
    if not os.path.exists(KEOPS_RUN):
        sys.exit("build keops-run first: scripts/build.sh")
    main()
