# knn.py - Benchmark: K nearest neighbours by brute force (CPU).
# SPDX-License-Identifier: MIT
"""Times the K nearest neighbours of N query points among M points (squared
Euclidean distance, float32): KeOps-MLIR (ArgKMin_Reduction through
keops.numpy.Genred, compile time apart), and in the same process, when importable
(bench/setup-env.sh installs them in bench/.venv), pykeops (the same reduction),
FAISS (IndexFlatL2: exact search), scikit-learn (NearestNeighbors, brute force)
and dense torch (blocked cdist + topk). Three tables:

- knn_cpu: N = M = --knn-size, each D in --dims and K in --ks, every peer;
- knn_k_sweep_cpu: D = 3, N = M = --knn-size, each K in --sweep-ks (to 2000),
  KeOps-MLIR's compile time with it, pykeops up to --pykeops-max-k (its code
  grows with K), FAISS;
- knn_size_sweep_cpu: D = 3, K = 10, each (N, M) in --sweep-sizes, pykeops, FAISS.

Every answer is checked against float64 brute force on up to 2000 sampled rows:
the K distances it finds must be the K smallest (ties may order indices
differently). Writes bench/results/<table>.{md,json}.
"""
import argparse
import time

import numpy as np
import torch

from common import median_time, ratio, write_results


def reference_distances(x, y, k, block=1024):
    """The K smallest squared distances of each row of x, in float64."""
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    y2 = (y64 * y64).sum(1)
    out = np.empty((x.shape[0], k))
    for start in range(0, x.shape[0], block):
        xb = x64[start:start + block]
        d = (xb * xb).sum(1)[:, None] + y2[None, :] - 2 * xb @ y64.T
        out[start:start + block] = np.sort(np.partition(d, k - 1, axis=1)[:, :k], 1)
    return out


def check(name, x, y, indices, expected, rows):
    """Raises unless the neighbours found for `rows` have the reference
    distances `expected` (of those rows)."""
    indices = np.asarray(indices).reshape(x.shape[0], -1)[rows].astype(np.int64)
    found = ((x[rows][:, None, :].astype(np.float64) -
              y[indices].astype(np.float64)) ** 2).sum(-1)
    found.sort(1)
    error = np.abs(found - expected).max() / max(1.0, np.abs(expected).max())
    assert error < 1e-4, (name, error)
    return float(error)


def sample_rows(n, rng, most=2000):
    """The rows whose answers are checked: all, or `most` of them."""
    return np.arange(n) if n <= most else np.sort(rng.choice(n, most, replace=False))


def measure(x, y, k, peers, repeat, rng):
    """KeOps-MLIR's time and compile time, and each peer's time (None when
    it is not installed), all checked."""
    rows = sample_rows(x.shape[0], rng)
    expected = reference_distances(x[rows], y, k)
    ours, compile_s = keops_mlir(x, y, k)
    ours_s, result = median_time(ours, repeat)
    check("keops-mlir", x, y, result, expected, rows)
    times = {}
    for name, make in peers:
        run = make(x, y, k)
        if run is None:
            continue
        times[name], result = median_time(run, repeat)
        check(name, x, y, result, expected, rows)
    return ours_s, compile_s, times


def cells(peers, times, ours_s):
    """The table cells of the peers: time (ours vs theirs)."""
    return " | ".join("%s (%s)" % ("%.4f" % times[name] if name in times else "n/a",
                                   ratio(times.get(name), ours_s))
                      for name, _ in peers)


def keops_mlir(x, y, k):
    from keops.numpy import Genred
    d = x.shape[1]
    start = time.perf_counter()
    routine = Genred("SqDist(x,y)", ["x=Vi(%d)" % d, "y=Vj(%d)" % d],
                     reduction_op="ArgKMin", axis=1, opt_arg=k)
    routine(x[:2], y)
    compile_s = time.perf_counter() - start
    return (lambda: routine(x, y)), compile_s


def pykeops(x, y, k):
    try:
        from pykeops.numpy import Genred
    except ImportError:
        return None
    d = x.shape[1]
    routine = Genred("SqDist(x,y)", ["x=Vi(%d)" % d, "y=Vj(%d)" % d],
                     reduction_op="ArgKMin", axis=1, opt_arg=k)
    routine(x[:2], y, backend="CPU")
    return lambda: routine(x, y, backend="CPU")


def faiss_flat(x, y, k):
    try:
        import faiss
    except ImportError:
        return None
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(y)
    return lambda: index.search(x, k)[1]


def sklearn_brute(x, y, k):
    try:
        from sklearn.neighbors import NearestNeighbors
    except ImportError:
        return None
    model = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(y)
    return lambda: model.kneighbors(x, return_distance=False)


def torch_dense(x, y, k, block=2048):
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def run():
        return torch.cat([torch.cdist(xt[s:s + block], yt).topk(k, largest=False)[1]
                          for s in range(0, xt.shape[0], block)])
    return run


def by_dimension(args, rng):
    n = args.knn_size
    peers = [("pykeops", pykeops), ("FAISS", faiss_flat),
             ("scikit-learn", sklearn_brute), ("dense torch", torch_dense)]
    rows, lines = [], []
    for d in args.dims:
        x, y = (rng.random((n, d), dtype=np.float32) for _ in range(2))
        for k in args.ks:
            ours_s, compile_s, times = measure(x, y, k, peers, args.repeat, rng)
            rows.append({"n": n, "m": n, "dim": d, "k": k, "keops_mlir_s": ours_s,
                         "keops_mlir_compile_s": compile_s,
                         **{name + "_s": t for name, t in times.items()}})
            lines.append("| %d | %d | %.4f | %.2f | %s |" % (
                d, k, ours_s, compile_s, cells(peers, times, ours_s)))
    write_results("knn_cpu", "K nearest neighbours, N = M = %d, float32" % n,
                  ["D", "K", "KeOps-MLIR (s)", "compile (s)"] +
                  ["%s (s, ours vs)" % name for name, _ in peers],
                  rows, lines, args.repeat)


def by_k(args, rng):
    n = args.knn_size
    x, y = (rng.random((n, 3), dtype=np.float32) for _ in range(2))
    rows, lines = [], []
    for k in args.sweep_ks:
        peers = [("pykeops", pykeops if k <= args.pykeops_max_k else
                  lambda *_: None), ("FAISS", faiss_flat)]
        ours_s, compile_s, times = measure(x, y, k, peers, args.repeat, rng)
        rows.append({"n": n, "m": n, "dim": 3, "k": k, "keops_mlir_s": ours_s,
                     "keops_mlir_compile_s": compile_s,
                     **{name + "_s": t for name, t in times.items()}})
        lines.append("| %d | %.4f | %.3f | %s |" % (
            k, ours_s, compile_s, cells(peers, times, ours_s)))
    write_results("knn_k_sweep_cpu",
                  "K nearest neighbours by K, N = M = %d, D = 3, float32 "
                  "(pykeops up to K = %d)" % (n, args.pykeops_max_k),
                  ["K", "KeOps-MLIR (s)", "compile (s)", "pykeops (s, ours vs)",
                   "FAISS (s, ours vs)"], rows, lines, args.repeat)


def by_size(args, rng):
    peers = [("pykeops", pykeops), ("FAISS", faiss_flat)]
    rows, lines = [], []
    for size in args.sweep_sizes:
        n, m = (int(float(v)) for v in size.split("x"))
        x = rng.random((n, 3), dtype=np.float32)
        y = rng.random((m, 3), dtype=np.float32)
        ours_s, compile_s, times = measure(x, y, 10, peers, args.repeat, rng)
        rows.append({"n": n, "m": m, "dim": 3, "k": 10, "keops_mlir_s": ours_s,
                     "keops_mlir_compile_s": compile_s,
                     **{name + "_s": t for name, t in times.items()}})
        lines.append("| %d | %d | %.5f | %s |" % (
            n, m, ours_s, cells(peers, times, ours_s)))
    write_results("knn_size_sweep_cpu",
                  "K nearest neighbours by size, D = 3, K = 10, float32",
                  ["N", "M", "KeOps-MLIR (s)", "pykeops (s, ours vs)",
                   "FAISS (s, ours vs)"], rows, lines, args.repeat)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--knn-size", type=int, default=10_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[3, 64])
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 10, 30])
    parser.add_argument("--sweep-ks", type=int, nargs="+",
                        default=[1, 10, 30, 100, 300, 1000, 2000])
    parser.add_argument("--pykeops-max-k", type=int, default=100)
    parser.add_argument("--sweep-sizes", nargs="+",
                        default=["1e2x1e2", "1e3x1e3", "1e4x1e4", "1e5x1e5",
                                 "1e6x1e4"])
    parser.add_argument("--repeat", type=int, default=3)
    args, _ = parser.parse_known_args()  # run.sh passes the others' options too
    rng = np.random.default_rng(0)
    by_dimension(args, rng)
    by_k(args, rng)
    by_size(args, rng)


if __name__ == "__main__":
    main()
