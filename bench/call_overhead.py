# call_overhead.py - Benchmark: the cost of one small reduction call from Python.
# SPDX-License-Identifier: MIT
"""Times one call of a_i = sum_j exp(-|x_i - y_j|^2) b_j (D=3, float32) at N = M in
--sizes (100 by default: the call is nearly all overhead) through the Python front
ends: a pre-built torch Genred, a LazyTensor reduction built each call, a pre-built
NumPy Genred, and, in the same process, pykeops's same three (when it is importable:
bench/setup-env.sh installs it in bench/.venv) and dense torch. Median over --repeat
batches of --calls calls; every result is checked against float64 dense NumPy.
Writes bench/results/call_overhead_cpu.{md,json}.
"""
import argparse
import time

import numpy as np
import torch

from common import ratio, write_results

FORMULA = "Exp(-SqDist(x,y))*b"
ALIASES = ["x=Vi(3)", "y=Vj(3)", "b=Vj(1)"]


def per_call(function, calls, repeat):
    """Median seconds per call over `repeat` batches of `calls` calls."""
    for _ in range(min(calls, 100)):
        function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        times.append((time.perf_counter() - start) / calls)
    return sorted(times)[len(times) // 2]


def front_ends(package, x, y, b):
    """The three calls of `package` (keops or pykeops), by name."""
    torch_module = __import__(package + ".torch", fromlist=["Genred", "LazyTensor"])
    numpy_module = __import__(package + ".numpy", fromlist=["Genred"])
    genred = torch_module.Genred(FORMULA, ALIASES, reduction_op="Sum", axis=1)
    numpy_genred = numpy_module.Genred(FORMULA, ALIASES, reduction_op="Sum", axis=1)
    LazyTensor = torch_module.LazyTensor
    xn, yn, bn = x.numpy(), y.numpy(), b.numpy()

    def lazy():
        xi, yj = LazyTensor(x[:, None, :]), LazyTensor(y[None, :, :])
        return ((-((xi - yj) ** 2).sum(-1)).exp() * LazyTensor(b[None, :, :])).sum(1)

    options = {"backend": "CPU"} if package == "pykeops" else {}
    return {"torch Genred": lambda: genred(x, y, b, **options),
            "torch LazyTensor": lazy,
            "NumPy Genred": lambda: numpy_genred(xn, yn, bn, **options)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args, _ = parser.parse_known_args()  # run.sh passes the others' options too
    try:
        import pykeops  # noqa: F401
        packages = ["keops", "pykeops"]
    except ImportError:
        packages = ["keops"]
    rows, lines = [], []
    rng = np.random.default_rng(0)
    for n in args.sizes:
        x, y, b = (torch.from_numpy(rng.random((n, d), dtype=np.float32))
                   for d in (3, 3, 1))
        d2 = ((x.double()[:, None] - y.double()[None]) ** 2).sum(-1)
        reference = (torch.exp(-d2) @ b.double()).numpy()
        times = {}
        for package in packages:
            for name, call in front_ends(package, x, y, b).items():
                result = np.asarray(call()).reshape(reference.shape)
                error = float(np.abs(result - reference).max() / np.abs(reference).max())
                assert error < 1e-5, (package, name, error)
                times[package, name] = per_call(call, args.calls, args.repeat)
        dense = per_call(lambda: torch.exp(-((x[:, None] - y[None]) ** 2).sum(-1)) @ b,
                         args.calls, args.repeat)
        for name in ("torch Genred", "torch LazyTensor", "NumPy Genred"):
            ours, theirs = times["keops", name], times.get(("pykeops", name))
            rows.append({"n": n, "m": n, "call": name, "keops_mlir_us": ours * 1e6,
                         "pykeops_us": theirs * 1e6 if theirs else None,
                         "dense_torch_us": dense * 1e6})
            lines.append("| %d | %s | %.1f | %s | %.1f | %s | %s |" % (
                n, name, ours * 1e6, "%.1f" % (theirs * 1e6) if theirs else "n/a",
                dense * 1e6, ratio(theirs, ours), ratio(dense, ours)))
    write_results("call_overhead_cpu",
                  "Call overhead: one small Gaussian kernel sum from Python, float32",
                  ["N = M", "call", "KeOps-MLIR (us)", "pykeops (us)",
                   "dense torch (us)", "vs pykeops", "vs dense torch"],
                  rows, lines, args.repeat)


if __name__ == "__main__":
    main()
