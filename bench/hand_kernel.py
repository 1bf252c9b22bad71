# hand_kernel.py - Benchmark: KeOps-MLIR against a hand-written AVX-512 kernel.
# SPDX-License-Identifier: MIT
"""Times the Gaussian kernel sum (D=3, float32) at N = M in --sizes with keops-run
and with bench/baselines/gauss_avx512.c (intrinsics, OpenMP over the cores, built
here with the system C compiler: -O3 -march=native -fopenmp) on the same machine in
the same run, and reports our throughput as a fraction of the hand kernel's (the
issue's target: at least 0.85). Skipped where the CPU has no AVX-512. Writes
bench/results/hand_kernel_cpu.{md,json}.
"""
import argparse
import os
import subprocess
import tempfile

from common import KEOPS_RUN, write_results

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    args, _ = parser.parse_known_args()  # run.sh passes the others' options too
    if "avx512f" not in open("/proc/cpuinfo").read():
        print("hand_kernel: no AVX-512 on this CPU, skipped")
        return
    rows, lines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        binary = os.path.join(tmp, "gauss_avx512")
        subprocess.run([os.environ.get("CC", "cc"), "-O3", "-march=native", "-fopenmp",
                        os.path.join(HERE, "baselines", "gauss_avx512.c"), "-o",
                        binary, "-lm"], check=True)
        for n in args.sizes:
            hand_s, hand_error = map(float, subprocess.run(
                [binary, str(n), str(args.repeat)], check=True, capture_output=True,
                text=True).stdout.split())
            assert hand_error < 1e-4, ("the hand kernel is wrong", hand_error)
            report = subprocess.run(
                [KEOPS_RUN, "--formula", "Sum_Reduction(Exp(-SqDist(x,y))*b,0)",
                 "--alias", "x=Vi(3)", "--alias", "y=Vj(3)", "--alias", "b=Vj(1)",
                 "--size", "i=%d" % n, "--size", "j=%d" % n, "--repeat",
                 str(args.repeat), "--json", "--check"], check=True, capture_output=True,
                text=True).stdout
            keops_s = __import__("json").loads(report)["run_ms"] / 1e3
            rows.append({"n": n, "m": n, "keops_mlir_s": keops_s, "hand_avx512_s": hand_s,
                         "fraction_of_hand": hand_s / keops_s})
            lines.append("| %d | %.4f | %.4f | %.2f |" % (n, keops_s, hand_s,
                                                         hand_s / keops_s))
    write_results("hand_kernel_cpu",
                  "Gaussian kernel sum, D=3, float32: KeOps-MLIR vs hand-written AVX-512",
                  ["N = M", "KeOps-MLIR (s)", "hand AVX-512 (s)",
                   "KeOps-MLIR throughput / hand"], rows, lines, args.repeat)


if __name__ == "__main__":
    main()
