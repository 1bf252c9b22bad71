# gpu.py - Benchmark: the GPU backend vs dense PyTorch on CUDA (and pykeops).
# SPDX-License-Identifier: MIT
"""Times, on the GPU, the Gaussian kernel sum a_i = sum_j exp(-|x_i - y_j|^2) b_j
(D=3, float32, N = M in --sizes), the logsumexp of -|x_i - y_j|^2 and the K=10
nearest neighbours (argKmin, D=3 and D=64) with keops-run --backend gpu (host
arrays: the times include the copies to and from the device; once more with one
row per thread, to show what the register blocking gives), with keops.torch
on CUDA tensors (used in place), with dense PyTorch on CUDA computed in row
blocks, and with pykeops when it is importable. Writes
bench/results/gpu_<card>.{md,json} with the card's name. Without a GPU it says
so and writes nothing.
"""
import argparse
import os
import re
import sys
import tempfile

import numpy as np

from common import KEOPS_RUN, ROOT, keops_run, median_time, ratio, write_results

sys.path.insert(0, os.path.join(ROOT, "build", "python"))

CASES = {
    # name: (formula, aliases, dim, torch reduction)
    "gaussian sum": ("Sum_Reduction(Exp(-SqDist(x,y))*b,0)",
                     ["x=Vi(3)", "y=Vj(3)", "b=Vj(1)"], 3, "sum"),
    "logsumexp": ("LogSumExp_Reduction(-SqDist(x,y),0)",
                  ["x=Vi(3)", "y=Vj(3)", "b=Vj(1)"], 3, "lse"),
    "kNN K=10 D=3": ("ArgKMin_Reduction(SqDist(x,y),10,0)",
                     ["x=Vi(3)", "y=Vj(3)"], 3, "knn"),
    "kNN K=10 D=64": ("ArgKMin_Reduction(SqDist(x,y),10,0)",
                      ["x=Vi(64)", "y=Vj(64)"], 64, "knn"),
}


def torch_dense(torch, kind, x, y, b, block=4096):
    """Dense PyTorch on the GPU, blocked over rows."""
    parts = []
    for start in range(0, x.shape[0], block):
        d2 = torch.cdist(x[start:start + block], y) ** 2
        if kind == "sum":
            parts.append(torch.exp(-d2) @ b)
        elif kind == "lse":
            parts.append(torch.logsumexp(-d2, 1, keepdim=True))
        else:
            parts.append(torch.topk(d2, 10, dim=1, largest=False).indices)
    torch.cuda.synchronize()
    return torch.cat(parts)


def time_keops_torch(torch, formula, aliases, tensors, repeat):
    from keops.torch import Genred
    body = re.match(r"(\w+)_Reduction\((.*),(\d+,)?0\)$", formula)
    op, inner = body.group(1), body.group(2)
    routine = Genred(inner, aliases, reduction_op=op, axis=1,
                     opt_arg=10 if op == "ArgKMin" else None)
    routine(*tensors)  # compile
    return median_time(lambda: routine(*tensors), repeat)[0]


def time_pykeops(formula, aliases, arrays, repeat):
    try:
        from pykeops.numpy import Genred
    except ImportError:
        return None
    body = re.match(r"(\w+)_Reduction\((.*),(\d+,)?0\)$", formula)
    op, inner = body.group(1), body.group(2)
    routine = Genred(inner, aliases, reduction_op=op, axis=1,
                     opt_arg=10 if op == "ArgKMin" else None)
    routine(*arrays, backend="GPU")
    return median_time(lambda: routine(*arrays, backend="GPU"), repeat)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import keops
    import torch
    if not keops.config.gpu_available:
        print("%s; nothing measured" % keops.config.gpu_unavailable_reason)
        return
    card = keops.config.gpu_devices[0][0]
    rng = np.random.default_rng(0)
    rows, lines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (formula, aliases, dim, kind) in CASES.items():
            for n in args.sizes:
                if kind == "knn" and n > 100_000:
                    continue
                arrays = {"x": rng.random((n, dim), dtype=np.float32),
                          "y": rng.random((n, dim), dtype=np.float32)}
                if len(aliases) == 3:
                    arrays["b"] = rng.random((n, 1), dtype=np.float32)
                report, _ = keops_run(tmp, formula, aliases, arrays, args.repeat,
                                      ["--backend", "gpu"])
                keops_s = report["run_ms"] / 1e3
                one_row, _ = keops_run(tmp, formula, aliases, arrays, args.repeat,
                                       ["--backend", "gpu", "--gpu-rows-per-thread", "1"])
                one_row_s = one_row["run_ms"] / 1e3
                tensors = [torch.from_numpy(a).cuda() for a in arrays.values()]
                in_place_s = time_keops_torch(torch, formula, aliases, tensors,
                                              args.repeat)
                torch_s = None
                if n <= 100_000 or kind == "sum":
                    x, y = tensors[0], tensors[1]
                    b = tensors[2] if len(tensors) > 2 else None
                    torch_s = median_time(lambda: torch_dense(torch, kind, x, y, b),
                                          args.repeat)[0]
                pykeops_s = time_pykeops(formula, aliases, list(arrays.values()),
                                         args.repeat)
                kernel = report["kernel"]
                rows.append({"case": name, "n": n, "keops_mlir_s": keops_s,
                             "block_size": kernel["tile_cols"],
                             "rows_per_thread": kernel["tile_rows"] // kernel["tile_cols"],
                             "keops_mlir_one_row_per_thread_s": one_row_s,
                             "keops_mlir_torch_cuda_s": in_place_s,
                             "keops_mlir_compile_ms": report["compile_ms"],
                             "pairs_per_s": report["pairs_per_s"],
                             "torch_dense_s": torch_s, "pykeops_s": pykeops_s})
                fmt = lambda v: "%.4f" % v if v else "n/a"  # noqa: E731
                lines.append("| %s | %d | %s | %s | %s | %.2e | %.0f | %s | %s | %s | %s |" % (
                    name, n, fmt(keops_s), fmt(one_row_s), fmt(in_place_s),
                    n * n / in_place_s,
                    report["compile_ms"], fmt(torch_s), fmt(pykeops_s),
                    ratio(torch_s, in_place_s), ratio(pykeops_s, in_place_s)))
    slug = re.sub(r"[^a-z0-9]+", "_", card.lower()).strip("_")
    write_results("gpu_" + slug, "GPU reductions, float32, N = M",
                  ["case", "N", "keops-run (s, with copies)",
                   "keops-run, 1 row/thread (s)",
                   "keops.torch CUDA (s)", "pairs/s", "compile (ms)",
                   "torch dense (s)", "pykeops (s)", "vs torch", "vs pykeops"],
                  rows, lines, args.repeat, device=card)


if __name__ == "__main__":
    if not os.path.exists(KEOPS_RUN):
        sys.exit("build keops-run first: cmake --preset default && cmake --build --preset default")
    main()
