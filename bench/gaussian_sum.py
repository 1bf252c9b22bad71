# gaussian_sum.py - Benchmark: Gaussian kernel sum, KeOps-MLIR vs dense NumPy (and pykeops).
# SPDX-License-Identifier: MIT
"""Times a_i = sum_j exp(-|x_i - y_j|^2) b_j (D=3) for N = M in --sizes and each of
--dtypes with keops-run (median of --repeat runs, compile time apart) and with dense
NumPy computed in row blocks (the N x M matrix never has to fit in memory), one after
the other on this machine; pykeops too when it is importable. float64 rows give their
time against float32 (the lanes alone explain 2x). Writes
bench/results/gaussian_sum_cpu.{md,json}.
"""
import argparse
import sys
import tempfile

import numpy as np

from common import KEOPS_RUN, keops_run, median_time, ratio, write_results

FORMULA = "Sum_Reduction(Exp(-SqDist(x,y))*b,0)"
ALIASES = ["x=Vi(3)", "y=Vj(3)", "b=Vj(1)"]


def numpy_gaussian_sum(x, y, b, block=2048):
    """Dense NumPy, blocked over rows: |x|^2 + |y|^2 - 2 x.y^T, exp, a matvec."""
    out = np.empty((x.shape[0], b.shape[1]), dtype=x.dtype)
    y2 = (y * y).sum(axis=1)
    for start in range(0, x.shape[0], block):
        xb = x[start:start + block]
        d2 = (xb * xb).sum(axis=1)[:, None] + y2[None, :] - 2.0 * (xb @ y.T)
        np.exp(-d2, out=d2)
        out[start:start + block] = d2 @ b
    return out


def time_pykeops(x, y, b, repeat, aliases=ALIASES):
    try:
        from pykeops.numpy import Genred
    except ImportError:
        return None
    routine = Genred("Exp(-SqDist(x,y))*b", aliases, reduction_op="Sum", axis=1)
    routine(x, y, b, backend="CPU")  # compile
    return median_time(lambda: routine(x, y, b, backend="CPU"), repeat)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows, lines = [], []
    float32_s = {}
    with tempfile.TemporaryDirectory() as tmp:
        for dtype in args.dtypes:
            for n in args.sizes:
                x, y, b = (rng.random((n, d)).astype(dtype) for d in (3, 3, 1))
                report, ours = keops_run(tmp, FORMULA, ALIASES, {"x": x, "y": y, "b": b},
                                         args.repeat, ["--dtype", dtype])
                numpy_s, reference = median_time(lambda: numpy_gaussian_sum(x, y, b),
                                                 args.repeat)
                pykeops_s = time_pykeops(x, y, b, args.repeat)
                keops_s = report["run_ms"] / 1e3
                if dtype == "float32":
                    float32_s[n] = keops_s
                error = float(np.abs(ours - reference).max() / np.abs(reference).max())
                rows.append({"dtype": dtype, "n": n, "m": n, "keops_mlir_s": keops_s,
                             "keops_mlir_compile_ms": report["compile_ms"],
                             "keops_mlir_pairs_per_s": report["pairs_per_s"],
                             "numpy_dense_s": numpy_s, "pykeops_s": pykeops_s,
                             "max_rel_diff_vs_numpy": error})
                lines.append("| %s | %d | %.4f | %.2e | %.0f | %.3f | %s | %s | %s | %s | %.1e |" % (
                    dtype, n, keops_s, report["pairs_per_s"], report["compile_ms"],
                    numpy_s, "%.3f" % pykeops_s if pykeops_s else "n/a",
                    ratio(numpy_s, keops_s), ratio(pykeops_s, keops_s),
                    ratio(keops_s, float32_s.get(n)) if dtype != "float32" else "1x",
                    error))
    write_results("gaussian_sum_cpu", "Gaussian kernel sum, D=3",
                  ["dtype", "N = M", "KeOps-MLIR (s)", "pairs/s", "compile (ms)",
                   "NumPy dense (s)", "pykeops (s)", "vs NumPy", "vs pykeops",
                   "time vs float32", "max rel. diff"], rows, lines, args.repeat)


if __name__ == "__main__":
    if not __import__("os").path.exists(KEOPS_RUN):
        sys.exit("build keops-run first: cmake --preset default && cmake --build --preset default")
    main()
