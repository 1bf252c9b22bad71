# wide_outputs.py - Benchmark: reductions with outputs of many components (CPU).
# SPDX-License-Identifier: MIT
"""Times a_i = sum_j exp(-|x_i - y_j|^2) b_j with x, y of D=3 and b of --dims
components (float32, N = M = --size) with keops-run: the default kernel, which
computes it as a column product (per tile, the factors exp(-|x_i - y_j|^2) first,
then their product with the rows of b, 4 rows x 4 vectors of FMAs), and the same
formula with every component unrolled (--feature-loop-min-dim 0), compile time and
run time (median of --repeat runs), beside dense NumPy and, when importable
(bench/setup-env.sh), pykeops on the same data. Writes
bench/results/wide_outputs_cpu.{md,json}.
"""
import argparse
import os
import tempfile

import numpy as np

from common import keops_run, median_time, ratio, write_results
from gaussian_sum import FORMULA, numpy_gaussian_sum, time_pykeops


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 100, 300])
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=5)
    args, _ = parser.parse_known_args()  # run.sh passes the others' options too
    os.environ["KEOPS_CACHE_DIR"] = "off"  # every kernel compiled in the run
    rng = np.random.default_rng(0)
    n = args.size
    x, y = rng.random((n, 3), dtype=np.float32), rng.random((n, 3), dtype=np.float32)
    rows, lines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for dim in args.dims:
            b = rng.random((n, dim), dtype=np.float32)
            aliases = ["x=Vi(3)", "y=Vj(3)", "b=Vj(%d)" % dim]
            arrays = {"x": x, "y": y, "b": b}
            default, ours = keops_run(tmp, FORMULA, aliases, arrays, args.repeat,
                                      ["--backend", "cpu"])
            unrolled, theirs = keops_run(tmp, FORMULA, aliases, arrays, args.repeat,
                                         ["--backend", "cpu", "--feature-loop-min-dim",
                                          "0"])
            numpy_s, expected = median_time(lambda: numpy_gaussian_sum(x, y, b),
                                            args.repeat)
            pykeops_s = time_pykeops(x, y, b, args.repeat, aliases)
            scale = np.abs(expected).max()
            error = max(np.abs(ours - expected).max(), np.abs(theirs - expected).max())
            assert error <= 1e-4 * scale, "results differ: %g" % (error / scale)
            default_s, unrolled_s = default["run_ms"] / 1e3, unrolled["run_ms"] / 1e3
            rows.append({"dim": dim, "size": n,
                         "compile_ms": default["compile_ms"],
                         "unrolled_compile_ms": unrolled["compile_ms"],
                         "run_s": default_s, "unrolled_s": unrolled_s,
                         "numpy_s": numpy_s, "pykeops_s": pykeops_s})
            lines.append("| %d | %.0f | %.0f | %.4f | %.4f | %.4f | %s | %s | %s | %s |" % (
                dim, default["compile_ms"], unrolled["compile_ms"], default_s,
                unrolled_s, numpy_s, "%.4f" % pykeops_s if pykeops_s else "n/a",
                ratio(unrolled_s, default_s), ratio(numpy_s, default_s),
                ratio(pykeops_s, default_s)))
    write_results("wide_outputs_cpu",
                  "Outputs of D components: Gaussian sum with b of D (float32, "
                  "N = M = %d)" % n,
                  ["D", "compile (ms)", "compile, unrolled (ms)", "run (s)",
                   "run, unrolled (s)", "NumPy dense (s)", "pykeops (s)",
                   "unrolled / ours", "NumPy / ours", "pykeops / ours"],
                  rows, lines, args.repeat)


if __name__ == "__main__":
    main()
