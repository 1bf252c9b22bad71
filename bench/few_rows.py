# few_rows.py - Benchmark: few output rows over many columns (CPU).
# SPDX-License-Identifier: MIT
"""Times a_i = sum_j exp(-|x_i - y_j|^2) b_j (D=3, float32) for N in --rows output
rows and M = --columns reduced columns with keops-run (median of --repeat runs), dense
NumPy on the same data, and, with --baseline PATH, another keops-run binary (an
earlier build) in the same run. With few rows the runtime splits the columns over the
threads and merges the partial states. Writes bench/results/few_rows_cpu.{md,json}.
"""
import argparse
import sys
import tempfile

import numpy as np

from common import KEOPS_RUN, keops_run, median_time, ratio, write_results
from gaussian_sum import ALIASES, FORMULA, numpy_gaussian_sum


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--columns", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--baseline", help="another keops-run binary to measure too")
    args, _ = parser.parse_known_args()  # run.sh passes the others' --sizes too
    rng = np.random.default_rng(0)
    m = args.columns
    y, b = rng.random((m, 3), dtype=np.float32), rng.random((m, 1), dtype=np.float32)
    rows, lines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            x = rng.random((n, 3), dtype=np.float32)
            arrays = {"x": x, "y": y, "b": b}
            report, ours = keops_run(tmp, FORMULA, ALIASES, arrays, args.repeat,
                                     ["--backend", "cpu"])
            baseline_s = None
            if args.baseline:
                import common
                saved, common.KEOPS_RUN = common.KEOPS_RUN, args.baseline
                try:
                    baseline_s = keops_run(tmp, FORMULA, ALIASES, arrays,
                                           args.repeat)[0]["run_ms"] / 1e3
                finally:
                    common.KEOPS_RUN = saved
            numpy_s, reference = median_time(lambda: numpy_gaussian_sum(x, y, b),
                                             args.repeat)
            keops_s = report["run_ms"] / 1e3
            error = float(np.abs(ours - reference).max() / np.abs(reference).max())
            rows.append({"n": n, "m": m, "keops_mlir_s": keops_s,
                         "pairs_per_s": report["pairs_per_s"],
                         "baseline_s": baseline_s, "numpy_dense_s": numpy_s,
                         "max_rel_diff_vs_numpy": error})
            lines.append("| %d | %d | %.5f | %.2e | %s | %.4f | %s | %s | %.1e |" % (
                n, m, keops_s, report["pairs_per_s"],
                "%.5f" % baseline_s if baseline_s else "n/a", numpy_s,
                ratio(baseline_s, keops_s), ratio(numpy_s, keops_s), error))
    write_results("few_rows_cpu", "Few rows, many columns: Gaussian kernel sum, D=3, float32",
                  ["N", "M", "KeOps-MLIR (s)", "pairs/s", "baseline build (s)",
                   "NumPy dense (s)", "vs baseline", "vs NumPy", "max rel. diff"],
                  rows, lines, args.repeat)


if __name__ == "__main__":
    if not __import__("os").path.exists(KEOPS_RUN):
        sys.exit("build keops-run first: cmake --preset default && cmake --build --preset default")
    main()
