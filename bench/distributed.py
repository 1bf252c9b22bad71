# distributed.py - Benchmark: reductions over torch.distributed (gloo) groups on one machine.
# SPDX-License-Identifier: MIT
"""Times keops.torch reductions with process_group= (layout="sharded") in
groups of --procs processes on this machine (torch.multiprocessing, gloo):

- strong scaling: a Gaussian sum (D=3, float32) and a kNN (ArgKMin, K=10)
  of fixed N = M, each rank holding 1/P of the rows;
- weak scaling: each rank holds --weak-rows rows of x and y (N = M = P rows);
  the ring does P steps of (rows x rows) per rank, so ideal is time ~ P;
- the ring steps of the largest strong case: seconds of compute
  (run_partial) and of waiting for the exchange after it, per step, and the
  bytes sent (keops.torch.distributed.ring_outputs(steps=...));
- memory: a Gaussian sum with many rows (D=16, N = --memory-rows, M=1000)
  run under a cap on each process's data segment (RLIMIT_DATA = the process's
  data after imports and a warm-up + --memory-cap-mb), which the single
  process exceeds (its allocation fails) and each of 2 ranks fits in; the
  growth of each process's peak resident memory over its resident memory
  when the cap was set is measured, and 32 rows per rank are checked
  against float64.

Every process's runtime uses all the machine's cores (the thread count is
not settable from Python): on a machine with fewer cores than P x threads,
the ranks share the cores, and strong scaling then measures what the ring
costs, not a speedup. Times are the slowest rank's, median of --repeat.
Writes bench/results/distributed_cpu.{md,json}.
"""
import argparse
import json
import os
import resource
import tempfile
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from common import RESULTS, machine

GAUSS = ("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"])
WIDE = ("Exp(-SqDist(x,y))*b", ["x = Vi(16)", "y = Vj(16)", "b = Vj(1)"])
K = 10


def shard(total, rank, size):
    return total * rank // size, total * (rank + 1) // size


def rows_of(seed, total, dim, begin, end):
    """Rows [begin, end) of a (total, dim) uniform float32 array that every
    rank generates alike, in chunks (never the whole of it)."""
    chunk = 1 << 16
    rows = torch.empty((end - begin, dim))
    for first in range(begin - begin % chunk, end, chunk):
        generator = torch.Generator().manual_seed(seed * 1_000_003 + first // chunk)
        block = torch.rand((min(chunk, total - first), dim), generator=generator)
        low, high = max(first, begin), min(first + chunk, end)
        rows[low - begin:high - begin] = block[low - first:high - first]
    return rows


def slowest(seconds, group):
    value = torch.tensor([seconds], dtype=torch.float64)
    dist.all_reduce(value, op=dist.ReduceOp.MAX, group=group)
    return float(value)


def timed(call, repeat, group):
    """Median over `repeat` of the slowest rank's seconds for call()."""
    times = []
    for _ in range(repeat):
        dist.barrier(group)
        start = time.perf_counter()
        call()
        times.append(slowest(time.perf_counter() - start, group))
    return sorted(times)[len(times) // 2]


def gaussian_call(n, m, rank, size, group, formula=GAUSS):
    from keops.torch import Genred
    dim = int(formula[1][0].split("(")[1].rstrip(")"))
    begin, end = shard(n, rank, size)
    first, last = shard(m, rank, size)
    x = rows_of(1, n, dim, begin, end)
    y, b = rows_of(2, m, dim, first, last), rows_of(3, m, 1, first, last)
    genred = Genred(formula[0], formula[1], axis=1)
    return genred, (x, y, b), lambda: genred(x, y, b, process_group=group,
                                             layout="sharded")


def knn_call(n, rank, size, group):
    from keops.torch import Vi, Vj
    begin, end = shard(n, rank, size)
    x, y = rows_of(4, n, 3, begin, end), rows_of(5, n, 3, begin, end)
    return lambda: (Vi(x) - Vj(y)).sqnorm2().argKmin(K, dim=1, process_group=group,
                                                    layout="sharded")


def ring_steps(genred, args, group):
    """Per step: the slowest rank's compute and wait seconds, bytes sent."""
    from keops.torch import distributed
    bound = distributed.bind(genred, group, "sharded")
    ranks_rows = distributed.agree(bound, args)
    kernel, inputs, rows = bound.kernel_inputs(args)
    steps = []
    dist.barrier(group)
    distributed.ring_outputs(kernel, inputs, rows, ranks_rows, group, steps)
    return [{"compute_s": slowest(s["compute_s"], group),
             "wait_s": slowest(s["wait_s"], group),
             "bytes_sent": s["bytes_sent"]} for s in steps]


def data_kb():
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmData:")).split()[1])


def rss_mb():
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS:")).split()[1]) / 1024


def memory_case(options, rank, size, group):
    """The wide Gaussian sum under RLIMIT_DATA: its seconds and each rank's
    peak resident memory, or why it could not run."""
    n, m = options["memory_rows"], 1000
    genred, _, _ = gaussian_call(64, m, rank, size, group, WIDE)
    genred(rows_of(1, 64, 16, 0, 64), rows_of(2, m, 16, 0, m), rows_of(3, m, 1, 0, m),
           process_group=group, layout="sharded")  # warm-up: threads, kernels
    cap = data_kb() * 1024 + (options["memory_cap_mb"] << 20)
    resident_mb = rss_mb()
    resource.setrlimit(resource.RLIMIT_DATA, (cap, resource.getrlimit(
        resource.RLIMIT_DATA)[1]))
    outcome = {"n": n, "m": m, "cap_mb_above_baseline": options["memory_cap_mb"]}
    error = ""
    try:
        genred, (x, y, b), call = gaussian_call(n, m, rank, size, group, WIDE)
        start = time.perf_counter()
        result = call()
        outcome["seconds"] = time.perf_counter() - start
        rows = torch.arange(0, len(x), max(1, len(x) // 32))
        y, b = rows_of(2, m, 16, 0, m).double(), rows_of(3, m, 1, 0, m).double()
        exact = torch.exp(-((x[rows, None].double() - y[None]) ** 2).sum(-1)) @ b
        outcome["max_rel_error"] = float(((result[rows] - exact).abs().max() /
                                          exact.abs().max()))
    except (MemoryError, RuntimeError) as failure:
        error = "%s: %s" % (type(failure).__name__, str(failure).splitlines()[0][:120])
    errors = [None] * size
    dist.all_gather_object(errors, error, group=group)
    outcome["errors"] = [e for e in errors if e]
    peaks = [None] * size
    dist.all_gather_object(peaks, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                           / 1024 - resident_mb, group=group)
    outcome["peak_rss_growth_mb"] = peaks
    outcome["held_mb_per_rank"] = held_mb(n, m, size)
    return outcome


def held_mb(n, m, size):
    """What each rank holds in the wide case, in MB (float32): its rows of x
    and of the output, its y and b shard, their packed copy and the shard it
    receives, and the raw states of its rows, one per rank."""
    rows = -(-n // size)
    floats = rows * 16 + rows * 1 + 3 * -(-m // size) * 17 + size * rows * 1
    return floats * 4 / 1e6


def worker(rank, size, init_file, options, out_file):
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=rank,
                            world_size=size)
    group, repeat = dist.group.WORLD, options["repeat"]
    report = {"procs": size, "strong": [], "weak": []}
    for n in options["strong_rows"]:
        genred, args, call = gaussian_call(n, n, rank, size, group)
        call()  # compile, warm up
        report["strong"].append({"case": "gaussian", "n": n,
                                 "seconds": timed(call, repeat, group)})
        steps = ring_steps(genred, args, group)
        knn = knn_call(n, rank, size, group)
        knn()
        report["strong"].append({"case": "knn", "n": n,
                                 "seconds": timed(knn, repeat, group)})
    report["steps"] = {"n": options["strong_rows"][-1], "steps": steps}
    for per_rank in options["weak_rows"]:
        n = per_rank * size
        _, _, call = gaussian_call(n, n, rank, size, group)
        knn = knn_call(n, rank, size, group)
        call()
        knn()
        report["weak"].append({"rows_per_rank": per_rank, "n": n,
                               "gaussian_s": timed(call, repeat, group),
                               "knn_s": timed(knn, repeat, group)})
    if options["memory_rows"]:
        report["memory"] = memory_case(options, rank, size, group)
    if rank == 0:
        with open(out_file, "w") as f:
            json.dump(report, f)
    dist.barrier(group)
    dist.destroy_process_group()


def run_group(size, options, directory):
    out_file = os.path.join(directory, "procs%d.json" % size)
    mp.start_processes(worker, (size, os.path.join(directory, "init%d" % size),
                                options, out_file), nprocs=size, start_method="spawn")
    with open(out_file) as f:
        return json.load(f)


def tables(reports):
    """The markdown of the reports (one per group size)."""
    base = reports[0]
    lines = ["## Strong scaling (N = M, sharded, slowest rank)", "",
             "| case | N = M | " + " | ".join("%d proc (s)" % r["procs"] for r in reports)
             + " | time ratio 1 / %d |" % reports[-1]["procs"], "|---|---|" +
             "---|" * (len(reports) + 1)]
    for k, row in enumerate(base["strong"]):
        times = [r["strong"][k]["seconds"] for r in reports]
        lines.append("| %s | %d | %s | %.2f |" % (
            row["case"], row["n"], " | ".join("%.3f" % t for t in times),
            times[0] / times[-1]))
    lines += ["", "## Weak scaling (each rank holds the given rows of x and y)", "",
              "| rows per rank | procs | N = M | Gaussian (s) | kNN (s) | "
              "Gaussian s per step | kNN s per step |", "|---|---|---|---|---|---|---|"]
    for r in reports:
        for row in r["weak"]:
            lines.append("| %d | %d | %d | %.3f | %.3f | %.3f | %.3f |" % (
                row["rows_per_rank"], r["procs"], row["n"], row["gaussian_s"],
                row["knn_s"], row["gaussian_s"] / r["procs"], row["knn_s"] / r["procs"]))
    for r in reports[1:]:
        lines += ["", "## Ring steps, Gaussian N = M = %d, %d procs (slowest rank)"
                  % (r["steps"]["n"], r["procs"]), "",
                  "| step | compute (s) | wait after compute (s) | bytes sent |",
                  "|---|---|---|---|"]
        for k, step in enumerate(r["steps"]["steps"]):
            lines.append("| %d | %.4f | %.5f | %d |" % (
                k, step["compute_s"], step["wait_s"], step["bytes_sent"]))
    lines += ["", "## Memory cap (Gaussian sum, D = 16, M = 1000, float32)", "",
              "| procs | N | cap above baseline (MB) | held per rank, computed (MB) | "
              "peak RSS growth per process (MB) | seconds | max rel. error | failure |",
              "|---|---|---|---|---|---|---|---|"]
    for r in reports:
        case = r.get("memory")
        if case:
            lines.append("| %d | %d | %d | %.0f | %s | %s | %s | %s |" % (
                r["procs"], case["n"], case["cap_mb_above_baseline"],
                case["held_mb_per_rank"], ", ".join("%.0f" % p for p in case["peak_rss_growth_mb"]),
                "%.2f" % case["seconds"] if "seconds" in case else "-",
                "%.1e" % case["max_rel_error"] if "max_rel_error" in case else "-",
                "; ".join(case["errors"]) or "-"))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--strong-rows", type=int, nargs="+", default=[20000, 60000])
    parser.add_argument("--weak-rows", type=int, nargs="+", default=[30000])
    parser.add_argument("--memory-rows", type=int, default=6_000_000)
    parser.add_argument("--memory-cap-mb", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args, _ = parser.parse_known_args()  # run.sh passes the others' options too
    options = {"strong_rows": args.strong_rows, "weak_rows": args.weak_rows,
               "memory_rows": args.memory_rows, "memory_cap_mb": args.memory_cap_mb,
               "repeat": args.repeat}
    with tempfile.TemporaryDirectory() as directory:
        reports = [run_group(size, options, directory) for size in args.procs]
    text = "\n".join([
        "# Distributed reductions (torch.distributed, gloo, one machine)", "",
        "Machine: %s. Median of %d runs of the slowest rank; compile time apart. "
        "Every process's runtime uses all the cores: with more processes than "
        "cores' worth of threads the ranks share them (strong scaling then "
        "shows what the ring costs, ideal ratio 1.0 on 2 cores)."
        % (machine(), args.repeat), "", tables(reports)]) + "\n"
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "distributed_cpu.md"), "w") as f:
        f.write(text)
    with open(os.path.join(RESULTS, "distributed_cpu.json"), "w") as f:
        json.dump({"machine": machine(), "reports": reports}, f, indent=2)
    print(text)


if __name__ == "__main__":
    main()
