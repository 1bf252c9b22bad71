# gaussian_sum.py - Benchmark: Gaussian kernel sum, KeOps-MLIR (keops-run) vs dense NumPy.
# SPDX-License-Identifier: MIT
"""Times a_i = sum_j exp(-|x_i - y_j|^2) b_j (D=3, float32) for N = M in SIZES with
keops-run (median of --repeat runs, compile time apart) and with dense NumPy, computed
in row blocks so that the N x M matrix never has to fit in memory. Both run in this
process's machine, one after the other. Writes a Markdown table and a JSON file to
bench/results/ and prints the table. pykeops is timed too when it is importable.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEOPS_RUN = os.path.join(ROOT, "build", "bin", "keops-run")
FORMULA = "Sum_Reduction(Exp(-SqDist(x,y))*b,0)"
ALIASES = ["x=Vi(3)", "y=Vj(3)", "b=Vj(1)"]


def numpy_gaussian_sum(x, y, b, block=2048):
    """Dense NumPy, blocked over rows: |x|^2 + |y|^2 - 2 x.y^T, exp, then a matvec."""
    out = np.empty((x.shape[0], 1), dtype=x.dtype)
    y2 = (y * y).sum(axis=1)
    for start in range(0, x.shape[0], block):
        xb = x[start:start + block]
        d2 = (xb * xb).sum(axis=1)[:, None] + y2[None, :] - 2.0 * (xb @ y.T)
        np.exp(-d2, out=d2)
        out[start:start + block] = d2 @ b
    return out


def save(path, array):
    np.save(path, np.ascontiguousarray(array))


def time_numpy(x, y, b, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = numpy_gaussian_sum(x, y, b)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2], result


def time_keops_run(tmp, x, y, b, repeat):
    paths = {}
    for name, array in (("x", x), ("y", y), ("b", b)):
        paths[name] = os.path.join(tmp, name + ".npy")
        save(paths[name], array)
    out = os.path.join(tmp, "a.npy")
    command = [KEOPS_RUN, "--formula", FORMULA, "--json", "--repeat", str(repeat),
               "--output", out]
    for alias in ALIASES:
        command += ["--alias", alias]
    for name, path in paths.items():
        command += ["--input", "%s=%s" % (name, path)]
    report = json.loads(subprocess.run(command, check=True, capture_output=True,
                                       text=True).stdout)
    return report, np.load(out)


def time_pykeops(x, y, b, repeat):
    try:
        from pykeops.numpy import Genred
    except ImportError:
        return None
    routine = Genred(FORMULA.split("_Reduction(")[1].rsplit(",", 1)[0], ALIASES,
                     reduction_op="Sum", axis=1)
    routine(x, y, b, backend="CPU")  # compile
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        routine(x, y, b, backend="CPU")
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "results"))
    args = parser.parse_args()
    if not os.path.exists(KEOPS_RUN):
        sys.exit("build keops-run first: cmake --preset default && cmake --build --preset default")

    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            x = rng.random((n, 3), dtype=np.float32)
            y = rng.random((n, 3), dtype=np.float32)
            b = rng.random((n, 1), dtype=np.float32)
            report, ours = time_keops_run(tmp, x, y, b, args.repeat)
            numpy_s, reference = time_numpy(x, y, b, args.repeat)
            pykeops_s = time_pykeops(x, y, b, args.repeat)
            keops_s = report["run_ms"] / 1e3
            error = float(np.abs(ours - reference).max() / np.abs(reference).max())
            rows.append({
                "n": n, "m": n, "keops_mlir_s": keops_s,
                "keops_mlir_compile_ms": report["compile_ms"],
                "keops_mlir_pairs_per_s": report["pairs_per_s"],
                "numpy_dense_s": numpy_s, "pykeops_s": pykeops_s,
                "speedup_vs_numpy": numpy_s / keops_s,
                "speedup_vs_pykeops": pykeops_s / keops_s if pykeops_s else None,
                "max_rel_diff_vs_numpy": error,
            })

    machine = "%s, %d cores (%s)" % (cpu_model(), os.cpu_count(), platform.platform())
    lines = [
        "# Gaussian kernel sum, D=3, float32",
        "",
        "Machine: %s. Median of %d runs; KeOps-MLIR compile time reported apart."
        % (machine, args.repeat),
        "",
        "| N = M | KeOps-MLIR (s) | pairs/s | compile (ms) | NumPy dense (s) | pykeops (s) "
        "| vs NumPy | vs pykeops | max rel. diff |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append("| %d | %.4f | %.2e | %.0f | %.3f | %s | %.1fx | %s | %.1e |" % (
            r["n"], r["keops_mlir_s"], r["keops_mlir_pairs_per_s"],
            r["keops_mlir_compile_ms"], r["numpy_dense_s"],
            "%.3f" % r["pykeops_s"] if r["pykeops_s"] else "n/a",
            r["speedup_vs_numpy"],
            "%.1fx" % r["speedup_vs_pykeops"] if r["speedup_vs_pykeops"] else "n/a",
            r["max_rel_diff_vs_numpy"]))
    table = "\n".join(lines) + "\n"
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "gaussian_sum_cpu.md"), "w") as f:
        f.write(table)
    with open(os.path.join(args.output, "gaussian_sum_cpu.json"), "w") as f:
        json.dump({"machine": machine, "rows": rows}, f, indent=2)
    print(table)


if __name__ == "__main__":
    main()
