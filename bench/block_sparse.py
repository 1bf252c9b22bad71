# block_sparse.py - Benchmark: block-sparse vs dense Gaussian kernel sums.
# SPDX-License-Identifier: MIT
"""Times a_i = sum_j exp(-|x_i - y_j|^2 / (2 s^2)) b_j (D=2, float32, s = 0.01) for N = M
points uniform in the unit square, with keops.numpy: dense, and block-sparse with
ranges from keops.numpy.cluster (cells of side 0.02, keeping the pairs of cells whose
centroids are closer than 5 s + one cell diagonal). Reports the clustering time apart,
the fraction of pairs kept and the largest error of the truncation relative to max |a|.
Writes bench/results/block_sparse_cpu.{md,json}.
"""
import argparse

import numpy as np

from common import median_time, ratio, write_results
from keops.numpy import Genred
from keops.numpy.cluster import (cluster_ranges_centroids, from_matrix, grid_cluster,
                                 sort_clusters)

SIGMA, CELL = 0.01, 0.02
GAUSS = Genred("Exp(-SqDist(x,y)*g)*b", ["x = Vi(2)", "y = Vj(2)", "b = Vj(1)",
                                          "g = Pm(1)"], axis=1)


def block_sparse_ranges(x, y, b):
    """Sorted points and weights, and the ranges of the kept blocks."""
    x, x_labels = sort_clusters(x, grid_cluster(x, CELL))
    (y, b), y_labels = sort_clusters((y, b), grid_cluster(y, CELL))
    ranges_x, centroids_x, _ = cluster_ranges_centroids(x, x_labels)
    ranges_y, centroids_y, _ = cluster_ranges_centroids(y, y_labels)
    distances = ((centroids_x ** 2).sum(1)[:, None] + (centroids_y ** 2).sum(1)[None]
                 - 2 * centroids_x @ centroids_y.T)
    keep = distances < (5 * SIGMA + CELL * np.sqrt(2)) ** 2
    kept = float((np.diff(ranges_x, axis=1).T @ keep @ np.diff(ranges_y, axis=1))[0, 0])
    return x, y, b, from_matrix(ranges_x, ranges_y, keep), kept / (len(x) * len(y))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    g = np.array([1 / (2 * SIGMA ** 2)], dtype=np.float32)
    rows, lines = [], []
    for n in args.sizes:
        x, y = (rng.random((n, 2), dtype=np.float32) for _ in range(2))
        b = rng.random((n, 1), dtype=np.float32)
        cluster_s, (xs, ys, bs, ranges, kept) = median_time(
            lambda: block_sparse_ranges(x, y, b), args.repeat)
        GAUSS(xs, ys, bs, g, ranges=ranges)  # compile before timing
        dense_s, dense = median_time(lambda: GAUSS(xs, ys, bs, g), args.repeat)
        sparse_s, sparse = median_time(lambda: GAUSS(xs, ys, bs, g, ranges=ranges),
                                       args.repeat)
        error = float(np.abs(sparse - dense).max() / np.abs(dense).max())
        rows.append({"n": n, "m": n, "kept_pairs": kept, "cluster_s": cluster_s,
                     "dense_s": dense_s, "block_sparse_s": sparse_s,
                     "max_rel_err_vs_dense": error})
        lines.append("| %d | %.2f%% | %.3f | %.3f | %.4f | %s | %.1e |" % (
            n, 100 * kept, cluster_s, dense_s, sparse_s, ratio(dense_s, sparse_s), error))
    write_results("block_sparse_cpu",
                  "Block-sparse Gaussian kernel sum, D=2, float32, sigma=0.01 (keops.numpy)",
                  ["N = M", "pairs kept", "clustering (s)", "dense (s)",
                   "block-sparse (s)", "speed-up", "truncation error"],
                  rows, lines, args.repeat)


if __name__ == "__main__":
    main()
