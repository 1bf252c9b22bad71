# wide_outputs.py - Benchmark: reductions with outputs of many components (CPU).
# SPDX-License-Identifier: MIT
"""Times a_i = sum_j exp(-|x_i - y_j|^2) b_j with x, y of D=3 and b of --dims
components (float32, N = M = --size) with keops-run: the default kernel, which
reduces the output in chunks of 16 components, and the same formula with every
component unrolled (--feature-loop-min-dim 0, what KeOps-MLIR generated before
chunks), compile time and run time (median of --repeat runs), beside dense NumPy on
the same data. Writes bench/results/wide_outputs_cpu.{md,json}.
"""
import argparse
import os
import tempfile

import numpy as np

from common import keops_run, median_time, ratio, write_results
from gaussian_sum import FORMULA, numpy_gaussian_sum


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
            chunked, ours = keops_run(tmp, FORMULA, aliases, arrays, args.repeat,
                                      ["--backend", "cpu"])
            unrolled, theirs = keops_run(tmp, FORMULA, aliases, arrays, args.repeat,
                                         ["--backend", "cpu", "--feature-loop-min-dim",
                                          "0"])
            numpy_s, expected = median_time(lambda: numpy_gaussian_sum(x, y, b),
                                            args.repeat)
            scale = np.abs(expected).max()
            error = max(np.abs(ours - expected).max(), np.abs(theirs - expected).max())
            assert error <= 1e-4 * scale, "results differ: %g" % (error / scale)
            chunked_s, unrolled_s = chunked["run_ms"] / 1e3, unrolled["run_ms"] / 1e3
            rows.append({"dim": dim, "size": n,
                         "chunked_compile_ms": chunked["compile_ms"],
                         "unrolled_compile_ms": unrolled["compile_ms"],
                         "chunked_s": chunked_s, "unrolled_s": unrolled_s,
                         "numpy_s": numpy_s})
            lines.append("| %d | %.0f | %.0f | %.4f | %.4f | %.4f | %s | %s |" % (
                dim, chunked["compile_ms"], unrolled["compile_ms"], chunked_s,
                unrolled_s, numpy_s, ratio(unrolled_s, chunked_s),
                ratio(numpy_s, chunked_s)))
    write_results("wide_outputs_cpu",
                  "Outputs of D components: Gaussian sum with b of D (float32, "
                  "N = M = %d)" % n,
                  ["D", "compile, chunks (ms)", "compile, unrolled (ms)",
                   "run, chunks (s)", "run, unrolled (s)", "NumPy dense (s)",
                   "unrolled / chunks", "NumPy / chunks"],
                  rows, lines, args.repeat)


if __name__ == "__main__":
    main()
