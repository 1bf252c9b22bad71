# plot.py - Plots of the benchmark results (matplotlib PNG).
# SPDX-License-Identifier: MIT
"""Reads the JSON results in bench/results/ and draws bench/results/summary_cpu.png:
one panel per benchmark that has run (throughput against N and against D, the call
overhead of the Python front ends, kNN), KeOps-MLIR beside the peers measured in the
same run. Panels whose results are missing are left out."""
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from common import RESULTS  # noqa: E402


def load(name):
    path = os.path.join(RESULTS, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def pairs_per_s(row, key):
    seconds = row.get(key)
    return row["n"] * row["m"] / seconds if seconds else None


def plot_series(axis, rows, x_key, series):
    for label, key in series:
        points = [(row[x_key], pairs_per_s(row, key)) for row in rows]
        points = [(x, y) for x, y in points if y]
        if points:
            axis.plot(*zip(*points), marker="o", label=label)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_ylabel("pairs / s")
    axis.legend(fontsize=8)


def by_n(axis, data):
    for dtype in sorted({row.get("dtype", "float32") for row in data["rows"]}):
        rows = [row for row in data["rows"] if row.get("dtype", "float32") == dtype]
        plot_series(axis, rows, "n", [
            ("KeOps-MLIR " + dtype, "keops_mlir_s"), ("pykeops " + dtype, "pykeops_s"),
            ("NumPy dense " + dtype, "numpy_dense_s")])
    axis.set_xlabel("N = M")
    axis.set_title("Gaussian sum, D = 3")


def by_dim(axis, data):
    plot_series(axis, data["rows"], "dim", [("KeOps-MLIR", "keops_mlir_s"),
                                            ("pykeops", "pykeops_s"),
                                            ("NumPy dense", "numpy_dense_s")])
    axis.set_xlabel("D")
    axis.set_title("Gaussian sum by dimension, float32")


def call_overhead(axis, data):
    rows = data["rows"]
    names = [row["call"] for row in rows]
    positions = range(len(rows))
    axis.bar([p - 0.2 for p in positions], [row["keops_mlir_us"] for row in rows],
             width=0.4, label="KeOps-MLIR")
    axis.bar([p + 0.2 for p in positions], [row["pykeops_us"] or 0 for row in rows],
             width=0.4, label="pykeops")
    axis.set_xticks(list(positions), names, fontsize=8)
    axis.set_ylabel("microseconds per call")
    axis.set_title("Call overhead, N = M = %d" % rows[0]["n"])
    axis.legend(fontsize=8)


def knn(axis, data):
    rows = data["rows"]
    labels = ["D=%d K=%d" % (row["dim"], row["k"]) for row in rows]
    peers = ["keops_mlir", "pykeops", "FAISS", "scikit-learn", "dense torch"]
    width = 0.8 / len(peers)
    for n, peer in enumerate(peers):
        values = [row.get(peer + "_s") or 0 for row in rows]
        axis.bar([p + (n - len(peers) / 2) * width for p in range(len(rows))],
                 values, width=width,
                 label="KeOps-MLIR" if peer == "keops_mlir" else peer)
    axis.set_xticks(list(range(len(rows))), labels, fontsize=7)
    axis.set_yscale("log")
    axis.set_ylabel("seconds")
    axis.set_title("K nearest neighbours, N = M = %d" % rows[0]["n"])
    axis.legend(fontsize=7)


def main():
    panels = [(name, draw, load(name)) for name, draw in [
        ("gaussian_sum_cpu", by_n), ("feature_dims_cpu", by_dim),
        ("call_overhead_cpu", call_overhead), ("knn_cpu", knn)]]
    panels = [(name, draw, data) for name, draw, data in panels if data]
    columns = min(2, len(panels))
    lines = (len(panels) + columns - 1) // columns
    figure, axes = plt.subplots(lines, columns, figsize=(6.5 * columns, 4.5 * lines),
                                squeeze=False)
    for axis, (_, draw, data) in zip(axes.flat, panels):
        draw(axis, data)
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    figure.suptitle(panels[0][2]["machine"], fontsize=9)
    figure.tight_layout()
    path = os.path.join(RESULTS, "summary_cpu.png")
    figure.savefig(path, dpi=110)
    print("wrote", path)


if __name__ == "__main__":
    main()
