# aot_first_call.py - Benchmark: the first call of a kernel in a fresh process,
# from a keops-aot library against the JIT (cold, and with the disk cache).
# SPDX-License-Identifier: MIT
"""Builds a kernel library with keops-aot and a C program that calls its
kernel once; then, in fresh processes, times that program (whole process, and
the first call inside it) against keops-run compiling the same formula (empty
disk cache) and loading it (warm disk cache), at N = M = 1000 so that the
first call, not the reduction, dominates. Every output is checked against a
float64 reference. Writes bench/results/aot_first_call_cpu.{md,json}.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np

from common import KEOPS_RUN, ROOT, ratio, write_results

KEOPS_AOT = os.path.join(ROOT, "build", "bin", "keops-aot")
INCLUDE = os.path.join(ROOT, "build", "include")
LIB = os.path.join(ROOT, "build", "lib")
FORMULA = "Sum_Reduction(Exp(-SqDist(x,y))*b,0)"
ALIASES = ["x=Vi(3)", "y=Vj(3)", "b=Vj(1)"]
N = M = 1000

PROGRAM = r"""
#include "gauss.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) {
  struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}
int main(int argc, char **argv) {
  enum { N = %d, M = %d };
  static float x[N * 3], y[M * 3], b[M], a[N];
  FILE *in = fopen(argv[1], "rb");
  if (fread(x, 4, N * 3, in) != N * 3 || fread(y, 4, M * 3, in) != M * 3 ||
      fread(b, 4, M, in) != M) return 2;
  fclose(in);
  double start = now();
  keops_rt_status_t status = gauss(N, M, x, y, b, a);
  double first = now() - start;
  if (status) { puts(keops_rt_status_message(status)); return 1; }
  FILE *out = fopen(argv[2], "wb");
  fwrite(a, 4, N, out);
  fclose(out);
  printf("%%f\n", first);
  return 0;
}
""" % (N, M)


def timed(command, env=None):
    """Wall milliseconds of a process, and its stdout."""
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return (time.perf_counter() - start) * 1e3, done.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args, _ = parser.parse_known_args()  # run.sh passes the others' options too
    rng = np.random.default_rng(0)
    x, y = rng.random((N, 3), np.float32), rng.random((M, 3), np.float32)
    b = rng.standard_normal((M, 1)).astype(np.float32)
    d = ((x[:, None, :].astype(np.float64) - y[None, :, :]) ** 2).sum(-1)
    reference = np.exp(-d) @ b
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([KEOPS_AOT, "--name", "gauss", "--formula", FORMULA, "-o", tmp]
                       + ["--alias=" + a for a in ALIASES], check=True)
        with open(os.path.join(tmp, "main.c"), "w") as f:
            f.write(PROGRAM)
        program = os.path.join(tmp, "first-call")
        subprocess.run(["cc", "-O2", "-I" + tmp, "-I" + INCLUDE, os.path.join(tmp, "main.c"),
                        "-L" + tmp, "-lgauss", "-L" + LIB, "-lKeOpsRuntime",
                        "-Wl,-rpath," + tmp + ":" + LIB, "-o", program], check=True)
        inputs, output = os.path.join(tmp, "in.bin"), os.path.join(tmp, "out.bin")
        with open(inputs, "wb") as f:
            f.write(x.tobytes() + y.tobytes() + b.tobytes())
        np.save(os.path.join(tmp, "x.npy"), x)
        np.save(os.path.join(tmp, "y.npy"), y)
        np.save(os.path.join(tmp, "b.npy"), b)

        aot_process, aot_call, cold_process, cold_call, warm_process, warm_call = (
            [] for _ in range(6))
        for _ in range(args.repeat):
            wall, out = timed([program, inputs, output])
            aot_process.append(wall)
            aot_call.append(float(out))
            got = np.fromfile(output, np.float32).reshape(N, 1)
            assert np.abs(got - reference).max() <= 1e-5 * np.abs(reference).max()
            with tempfile.TemporaryDirectory() as cache:
                env = dict(os.environ, KEOPS_CACHE_DIR=cache)
                command = [KEOPS_RUN, "--formula", FORMULA, "--json", "--backend", "cpu",
                           "--output", os.path.join(tmp, "jit.npy")]
                command += ["--alias=" + a for a in ALIASES]
                command += ["--input=%s=%s" % (n, os.path.join(tmp, n + ".npy"))
                            for n in "xyb"]
                for process, call in ((cold_process, cold_call), (warm_process, warm_call)):
                    wall, out = timed(command, env)
                    report = json.loads(out)
                    process.append(wall)
                    call.append(report["compile_ms"] + report["run_ms"])
                    got = np.load(os.path.join(tmp, "jit.npy"))
                    assert np.abs(got - reference).max() <= 1e-5 * np.abs(reference).max()

    median = lambda values: sorted(values)[len(values) // 2]  # noqa: E731
    cases = [("keops-aot library (C program)", aot_process, aot_call),
             ("JIT, empty disk cache (keops-run)", cold_process, cold_call),
             ("JIT, warm disk cache (keops-run)", warm_process, warm_call)]
    rows, lines = [], []
    for name, process, call in cases:
        rows.append({"case": name, "process_ms": median(process),
                     "first_call_ms": median(call)})
        lines.append("| %s | %.1f | %.2f | %s |" % (
            name, median(process), median(call), ratio(median(call), median(aot_call))))
    write_results("aot_first_call_cpu",
                  "First call of a Gaussian sum in a fresh process (N = M = %d, float32)"
                  % N,
                  ["kernel from", "whole process (ms)", "first call (ms)",
                   "first call vs AOT"], rows, lines, args.repeat)


if __name__ == "__main__":
    main()
