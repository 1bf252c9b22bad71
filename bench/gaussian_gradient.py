# gaussian_gradient.py - Benchmark: gradient of the Gaussian kernel sum w.r.t. x.
# SPDX-License-Identifier: MIT
"""Times g_i = d/dx_i [e_i . sum_j exp(-|x_i - y_j|^2) b_j] (D=3, float32) for N = M in
--sizes: KeOps-MLIR runs the symbolic gradient Sum_Reduction(Grad(F, x, e), 0) through
keops-run; dense NumPy uses the closed form -2 e_i sum_j K_ij b_j (x_i - y_j) in row
blocks; PyTorch (when importable) differentiates the dense kernel matrix with autograd,
which needs the N x M matrix in memory, so it runs only where that fits (N*M <= 2e8).
Writes bench/results/gaussian_gradient_cpu.{md,json}.
"""
import argparse
import sys
import tempfile

import numpy as np

from common import KEOPS_RUN, keops_run, median_time, ratio, write_results

FORMULA = "Sum_Reduction(Grad(Exp(-SqDist(x,y))*b, x, e), 0)"
ALIASES = ["x=Vi(3)", "y=Vj(3)", "b=Vj(1)", "e=Vi(1)"]


def numpy_gradient(x, y, b, e, block=2048):
    out = np.empty_like(x)
    y2 = (y * y).sum(axis=1)
    by = b * y
    for start in range(0, x.shape[0], block):
        xb = x[start:start + block]
        d2 = (xb * xb).sum(axis=1)[:, None] + y2[None, :] - 2.0 * (xb @ y.T)
        np.exp(-d2, out=d2)
        out[start:start + block] = -2.0 * e[start:start + block] * (
            xb * (d2 @ b) - d2 @ by)
    return out


def torch_gradient(x, y, b, e):
    import torch
    xt = torch.from_numpy(x).requires_grad_()
    yt, bt, et = (torch.from_numpy(v) for v in (y, b, e))
    d2 = (xt * xt).sum(1)[:, None] + (yt * yt).sum(1)[None, :] - 2.0 * xt @ yt.T
    a = torch.exp(-d2) @ bt
    (gx,) = torch.autograd.grad(a, xt, et)
    return gx.numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    rng = np.random.default_rng(0)
    rows, lines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            x, y, b, e = (rng.random((n, d), dtype=np.float32) for d in (3, 3, 1, 1))
            report, ours = keops_run(tmp, FORMULA, ALIASES,
                                     {"x": x, "y": y, "b": b, "e": e}, args.repeat)
            numpy_s, reference = median_time(lambda: numpy_gradient(x, y, b, e),
                                             args.repeat)
            torch_s = None
            if have_torch and n * n <= 2e8:
                torch_s = median_time(lambda: torch_gradient(x, y, b, e), args.repeat)[0]
            keops_s = report["run_ms"] / 1e3
            error = float(np.abs(ours - reference).max() / np.abs(reference).max())
            rows.append({"n": n, "m": n, "keops_mlir_s": keops_s,
                         "keops_mlir_compile_ms": report["compile_ms"],
                         "numpy_dense_s": numpy_s, "torch_dense_s": torch_s,
                         "max_rel_diff_vs_numpy": error})
            lines.append("| %d | %.4f | %.0f | %.3f | %s | %s | %s | %.1e |" % (
                n, keops_s, report["compile_ms"], numpy_s,
                "%.3f" % torch_s if torch_s else "n/a (memory)" if have_torch else "n/a",
                ratio(numpy_s, keops_s), ratio(torch_s, keops_s), error))
    write_results("gaussian_gradient_cpu",
                  "Gradient of the Gaussian kernel sum w.r.t. x, D=3, float32",
                  ["N = M", "KeOps-MLIR (s)", "compile (ms)", "NumPy dense (s)",
                   "PyTorch autograd dense (s)", "vs NumPy", "vs PyTorch",
                   "max rel. diff"], rows, lines, args.repeat)


if __name__ == "__main__":
    if not __import__("os").path.exists(KEOPS_RUN):
        sys.exit("build keops-run first: cmake --preset default && cmake --build --preset default")
    main()
