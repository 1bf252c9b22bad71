# feature_dims.py - Benchmark: Gaussian kernel sum over feature dimensions, KeOps-MLIR vs NumPy.
# SPDX-License-Identifier: MIT
"""Times a_i = sum_j exp(-|x_i - y_j|^2) b_j (float32) at N = M = --size for each
feature dimension D in --dims, with keops-run (median of --repeat runs; the CPU
kernel's tiles are reported) and with dense NumPy computed in row blocks (BLAS for
x.y^T), and with pykeops when it is importable (bench/setup-env.sh), one after the
other on this machine. Sweeping D shows where the tiling (rows per block, staged tile,
feature loops) is not smooth. Writes
bench/results/feature_dims_cpu.{md,json}.
"""
import argparse
import sys
import tempfile

import numpy as np

from common import KEOPS_RUN, keops_run, median_time, ratio, write_results
from gaussian_sum import FORMULA, numpy_gaussian_sum, time_pykeops


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--dims", type=int, nargs="+",
                        default=[3, 16, 31, 32, 48, 64, 100, 200, 256, 512, 1024])
    parser.add_argument("--repeat", type=int, default=3)
    args, _ = parser.parse_known_args()  # run.sh passes the others' options too
    rng = np.random.default_rng(0)
    n = args.size
    rows, lines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for dim in args.dims:
            # Scaled so that the kernel values stay away from 0 at every D.
            x, y = (rng.random((n, dim), dtype=np.float32) / np.float32(np.sqrt(dim))
                    for _ in range(2))
            b = rng.random((n, 1), dtype=np.float32)
            aliases = ["x=Vi(%d)" % dim, "y=Vj(%d)" % dim, "b=Vj(1)"]
            report, ours = keops_run(tmp, FORMULA, aliases, {"x": x, "y": y, "b": b},
                                     args.repeat, ["--backend", "cpu"])
            numpy_s, reference = median_time(lambda: numpy_gaussian_sum(x, y, b),
                                             args.repeat)
            pykeops_s = time_pykeops(x, y, b, args.repeat, aliases)
            keops_s = report["run_ms"] / 1e3
            kernel = report["kernel"]
            error = float(np.abs(ours - reference).max() / np.abs(reference).max())
            rows.append({"n": n, "m": n, "dim": dim, "keops_mlir_s": keops_s,
                         "keops_mlir_pairs_per_s": report["pairs_per_s"],
                         "tile_rows": kernel["tile_rows"],
                         "tile_cols": kernel["tile_cols"],
                         "numpy_dense_s": numpy_s, "pykeops_s": pykeops_s,
                         "max_rel_diff_vs_numpy": error})
            lines.append("| %d | %.3f | %.2e | %d x %d | %.3f | %s | %s | %s | %.1e |" % (
                dim, keops_s, report["pairs_per_s"], kernel["tile_rows"],
                kernel["tile_cols"], numpy_s,
                "%.3f" % pykeops_s if pykeops_s else "n/a", ratio(numpy_s, keops_s),
                ratio(pykeops_s, keops_s), error))
    write_results("feature_dims_cpu",
                  "Gaussian kernel sum by feature dimension, N = M = %d, float32" % n,
                  ["D", "KeOps-MLIR (s)", "pairs/s", "tile (rows x cols)",
                   "NumPy dense (s)", "pykeops (s)", "vs NumPy", "vs pykeops",
                   "max rel. diff"],
                  rows, lines, args.repeat)


if __name__ == "__main__":
    if not __import__("os").path.exists(KEOPS_RUN):
        sys.exit("build keops-run first: cmake --preset default && cmake --build --preset default")
    main()
