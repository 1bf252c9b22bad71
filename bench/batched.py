# batched.py - Benchmark: batched reductions against one reduction of as many pairs.
# SPDX-License-Identifier: MIT
"""Times a_bi = sum_j exp(-|x_bi - y_bj|^2) w_bj (D=3, float32) for --entries batch
entries of N = M = --size through the torch Genred (one kernel run: the entries fold
into one block-sparse reduction), against one reduction of the same number of pairs
(N = M = size * sqrt(entries)), the same entries run one call each (how batches ran
before), and pykeops's batched and single reductions in the same process (when it is
importable). Then torch.func.hessian of sum_i a_i^2 with respect to x (--hessian-rows
rows of x, a vmap over the derivative reductions) against dense torch. Every result is
checked against float64 dense torch. Writes bench/results/batched_cpu.{md,json}.
"""
import argparse
import math

import torch

from common import median_time, ratio, write_results

FORMULA = "Exp(-SqDist(x,y))*w"
ALIASES = ["x = Vi(3)", "y = Vj(3)", "w = Vj(1)"]


def dense(x, y, w):
    return torch.exp(-((x[..., :, None, :] - y[..., None, :, :]) ** 2).sum(-1)) @ w


def check(result, x, y, w, rows=100):
    """The largest relative difference against float64 dense torch on the
    first `rows` rows (of every entry)."""
    expected = dense(x[..., :rows, :].double(), y.double(), w.double())
    got = result[..., :rows, :].double()
    return float((got - expected).abs().max() / expected.abs().max())


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--hessian-rows", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args, _ = parser.parse_known_args()  # run.sh passes the others' options too
    import keops.torch
    try:
        import pykeops.torch
        peers = {"pykeops": pykeops.torch}
    except ImportError:
        peers = {}
    torch.manual_seed(0)
    count, n = args.entries, args.size
    big = int(round(n * math.sqrt(count)))
    x, y, w = (torch.rand(count, n, 3), torch.rand(count, n, 3), torch.rand(count, n, 1))
    xs, ys, ws = torch.rand(big, 3), torch.rand(big, 3), torch.rand(big, 1)
    rows, lines = [], []

    def measure(name, package, function, inputs):
        function()  # compile
        seconds, result = median_time(function, args.repeat)
        error = check(result, *inputs)
        rows.append({"case": name, "library": package, "seconds": seconds,
                     "max_rel_diff": error})
        return seconds, error

    libraries = {"KeOps-MLIR": keops.torch, **peers}
    for package, module in libraries.items():
        routine = module.Genred(FORMULA, ALIASES, reduction_op="Sum", axis=1)
        batched, e1 = measure("batched", package, lambda: routine(x, y, w), (x, y, w))
        single, e2 = measure("single", package, lambda: routine(xs, ys, ws),
                             (xs, ys, ws))
        looped, e3 = (measure("loop", package, lambda: torch.stack(
            [routine(x[b], y[b], w[b]) for b in range(count)]), (x, y, w))
            if package == "KeOps-MLIR" else (None, 0.0))
        lines.append("| %s | %d x %d x %d | %.4f | %.4f | %s | %s | %s | %.1e |" % (
            package, count, n, n, batched, single,
            "%.4f" % looped if looped else "n/a", ratio(batched, single),
            ratio(looped, batched), max(e1, e2, e3)))

    # torch.func.hessian: a vmap over the derivative reductions.
    routine = keops.torch.Genred(FORMULA, ALIASES, reduction_op="Sum", axis=1)
    hx = torch.rand(args.hessian_rows, 3, dtype=torch.float64)
    hy, hw = torch.rand(n, 3, dtype=torch.float64), torch.rand(n, 1, dtype=torch.float64)

    def ours():
        return torch.func.hessian(lambda t: (routine(t, hy, hw) ** 2).sum())(hx)

    def reference():
        return torch.func.hessian(lambda t: (dense(t, hy, hw) ** 2).sum())(hx)

    ours()
    ours_s, hessian = median_time(ours, args.repeat)
    dense_s, expected = median_time(reference, args.repeat)
    error = float((hessian - expected).abs().max() / expected.abs().max())
    rows.append({"case": "hessian", "library": "KeOps-MLIR", "seconds": ours_s,
                 "dense_torch_seconds": dense_s, "max_rel_diff": error})
    lines.append("| KeOps-MLIR, torch.func.hessian | %d rows x %d columns, float64 | "
                 "%.4f | n/a | n/a | dense torch %.4f s | | %.1e |" % (
                     args.hessian_rows, n, ours_s, dense_s, error))
    write_results("batched_cpu", "Batched reductions: Gaussian sum, D=3, float32, "
                  "one batched call against one reduction of as many pairs",
                  ["library", "entries x M x N", "batched (s)", "one reduction (s)",
                   "one call per entry (s)", "batched vs one reduction",
                   "one call per entry vs batched", "max rel. diff"],
                  rows, lines, args.repeat)


if __name__ == "__main__":
    main()
