# compile_time.py - Benchmark: time to compile a formula, and to load it from the disk cache.
# SPDX-License-Identifier: MIT
"""For formulas of growing dimension, runs keops-run twice on a fresh on-disk cache:
the first process compiles the formula (import, lowering, LLVM), the second loads its
object file from the cache. Sizes are tiny: only the compile time matters here.
Then times a third process that compiles the GPU kernel to PTX (keops-run --emit=ptx,
the whole process: no GPU needed), and, when pykeops is importable (bench/setup-env.sh),
pykeops's first CPU call of the same formula in a fresh build folder (its C++ binder
compiled before, apart), in a child process with a time limit (--pykeops-timeout).
Writes bench/results/compile_time_cpu.{md,json}.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from common import KEOPS_RUN, ratio, write_results

CASES = [
    ("Gaussian sum, D=3", "Sum_Reduction(Exp(-SqDist(x,y))*b,0)",
     ["x=Vi(3)", "y=Vj(3)", "b=Vj(1)"]),
    ("Gaussian gradient, D=3", "Sum_Reduction(Grad(Exp(-SqDist(x,y))*b,x,e),0)",
     ["x=Vi(3)", "y=Vj(3)", "b=Vj(1)", "e=Vi(1)"]),
    ("LogSumExp, D=3", "LogSumExp_Reduction(-SqDist(x,y),0)", ["x=Vi(3)", "y=Vj(3)"]),
    ("ArgKMin K=10, D=3", "ArgKMin_Reduction(SqDist(x,y),10,0)", ["x=Vi(3)", "y=Vj(3)"]),
    ("Gaussian sum, b of D=100", "Sum_Reduction(Exp(-SqDist(x,y))*b,0)",
     ["x=Vi(3)", "y=Vj(3)", "b=Vj(100)"]),
    ("Gaussian sum, x of D=300", "Sum_Reduction(Exp(-SqDist(x,y))*b,0)",
     ["x=Vi(300)", "y=Vj(300)", "b=Vj(1)"]),
    ("Gaussian sum, b of D=300", "Sum_Reduction(Exp(-SqDist(x,y))*b,0)",
     ["x=Vi(3)", "y=Vj(3)", "b=Vj(300)"]),
    ("ArgKMin K=10, D=64", "ArgKMin_Reduction(SqDist(x,y),10,0)",
     ["x=Vi(64)", "y=Vj(64)"]),
    ("Gaussian sum, x of D=990", "Sum_Reduction(Exp(-SqDist(x,y))*b,0)",
     ["x=Vi(990)", "y=Vj(990)", "b=Vj(1)"]),
    ("Min_ArgMin, D=990", "Min_ArgMin_Reduction(SqDist(x,y),0)",
     ["x=Vi(990)", "y=Vj(990)"]),
    # Op families at dimensions 100-300, with gradients (issue 18, item 6).
    ("Gaussian gradient in x, b of D=300",
     "Sum_Reduction(Grad(Exp(-SqDist(x,y))*b,x,e),0)",
     ["x=Vi(3)", "y=Vj(3)", "b=Vj(300)", "e=Vi(300)"]),
    ("Gaussian gradient in x, x of D=300",
     "Sum_Reduction(Grad(Exp(-SqDist(x,y))*b,x,e),0)",
     ["x=Vi(300)", "y=Vj(300)", "b=Vj(1)", "e=Vi(1)"]),
    ("MatVecMult 10x30", "Sum_Reduction(MatVecMult(a,y),0)", ["a=Vi(300)", "y=Vj(30)"]),
    ("MatVecMult 10x30, gradient", "Sum_Reduction(Grad(MatVecMult(a,y),y,e),0)",
     ["a=Vi(300)", "y=Vj(30)", "e=Vi(10)"]),
    ("TensorDot 16x16 . 16", "Sum_Reduction(TensorDot(a,y,(16,16),(16,),(1,),(0,)),0)",
     ["a=Vi(256)", "y=Vj(16)"]),
    ("TensorDot 16x16 . 16, gradient",
     "Sum_Reduction(Grad(TensorDot(a,y,(16,16),(16,),(1,),(0,)),y,e),0)",
     ["a=Vi(256)", "y=Vj(16)", "e=Vi(16)"]),
    ("TensorDot 32 . 32x128 (4096 products)",
     "Sum_Reduction(TensorDot(x,y,(32,),(32,128),(0,),(0,)),0)",
     ["x=Vi(32)", "y=Vj(4096)"]),
    ("TensorDot 32 . 32x128, gradient in x",
     "Sum_Reduction(Grad(TensorDot(x,y,(32,),(32,128),(0,),(0,)),x,e),0)",
     ["x=Vi(32)", "y=Vj(4096)", "e=Vi(128)"]),
    ("TensorDot 32 . 32x128, gradient in y (4096 outputs)",
     "Sum_Reduction(Grad(TensorDot(x,y,(32,),(32,128),(0,),(0,)),y,e),1)",
     ["x=Vi(32)", "y=Vj(4096)", "e=Vi(128)"]),
    ("TensorDot 96 . 96x240 (23040 products)",
     "Sum_Reduction(TensorDot(x,y,(96,),(96,240),(0,),(0,)),0)",
     ["x=Vi(96)", "y=Vj(23040)"]),
    ("MatVecMult 100x300", "Sum_Reduction(MatVecMult(a,y),0)",
     ["a=Vi(30000)", "y=Vj(300)"]),
    ("MatVecMult 100x300, gradient in y", "Sum_Reduction(Grad(MatVecMult(a,y),y,e),0)",
     ["a=Vi(30000)", "y=Vj(300)", "e=Vi(100)"]),
    ("Gradient in a parameter of a Gaussian x TensorProd 96 x 240 (23040 terms)",
     "Sum_Reduction(Grad(Exp(-p*SqDist(x,y))*TensorProd(a,b),p,e),0)",
     ["x=Vi(3)", "y=Vj(3)", "a=Vi(96)", "b=Vj(240)", "p=Pm(1)", "e=Vi(23040)"]),
    # K best lists of wide formulas, in output chunks (issue 19, item 1).
    ("ArgKMin K=10 of x-y, D=64 (640 outputs)", "ArgKMin_Reduction(x-y,10,0)",
     ["x=Vi(64)", "y=Vj(64)"]),
    ("KMin_ArgKMin K=100 of x-y, D=256", "KMin_ArgKMin_Reduction(x-y,100,0)",
     ["x=Vi(256)", "y=Vj(256)"]),
    ("ArgKMin K=1000, D=3", "ArgKMin_Reduction(SqDist(x,y),1000,0)",
     ["x=Vi(3)", "y=Vj(3)"]),
    # The largest K whose lists a GPU thread keeps in registers (from 32: in
    # its local memory, issue 19).
    ("ArgKMin K=31, D=3", "ArgKMin_Reduction(SqDist(x,y),31,0)",
     ["x=Vi(3)", "y=Vj(3)"]),
]


def run(formula, aliases, cache):
    command = [KEOPS_RUN, "--formula", formula, "--json", "--size", "i=64",
               "--size", "j=64", "--backend", "cpu"]
    for alias in aliases:
        command += ["--alias", alias]
    env = dict(os.environ, KEOPS_CACHE_DIR=cache)
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True,
                                     env=env).stdout)


def median(values):
    return sorted(values)[len(values) // 2]


def ptx_seconds(formula, aliases, cache):
    """Wall time of a keops-run process that compiles the GPU kernel to PTX."""
    command = [KEOPS_RUN, "--formula", formula, "--emit=ptx"]
    for alias in aliases:
        command += ["--alias", alias]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True,
                   env=dict(os.environ, KEOPS_CACHE_DIR=cache))
    return time.perf_counter() - start


def top_level_split(text):
    """The comma-separated arguments of `text`, not splitting inside brackets."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += c in "([" and 1 or c in ")]" and -1 or 0
        if c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def pykeops_arguments(formula):
    """(formula, reduction_op, axis, opt_arg) of pykeops's Genred for a formula
    `Kind_Reduction(F, [K,] axis)`."""
    kind, inner = re.fullmatch(r"(\w+)_Reduction\((.*)\)", formula).groups()
    args = top_level_split(inner)
    if "KMin" in kind:
        return args[0], kind, int(args[2]), int(args[1])
    return args[0], kind, int(args[1]), None


def pykeops_child(index):
    """In a child process: the seconds of pykeops's first CPU call of case
    `index` in a fresh build folder, its binder compiled before."""
    import numpy as np
    import pykeops
    from pykeops.numpy import Genred
    _, formula, aliases = CASES[index]
    with tempfile.TemporaryDirectory() as folder:
        pykeops.set_build_folder(folder)
        warm = np.ones((4, 1))
        Genred("x*y", ["x=Vi(1)", "y=Vj(1)"], reduction_op="Sum", axis=1)(
            warm, warm, backend="CPU")
        text, reduction, axis, opt_arg = pykeops_arguments(formula)
        inputs = []
        for alias in aliases:
            dim = int(re.search(r"\((\d+)\)", alias).group(1))
            inputs.append(np.random.rand(dim) if "Pm" in alias else np.random.rand(64, dim))
        routine = Genred(text, aliases, reduction_op=reduction, axis=axis, opt_arg=opt_arg)
        start = time.perf_counter()
        routine(*inputs, backend="CPU")
        print(json.dumps(time.perf_counter() - start))


def pykeops_seconds(index, timeout):
    """pykeops_child in a child process; None where pykeops is missing or
    fails, the timeout where it runs past it."""
    try:
        child = subprocess.run([sys.executable, __file__, "--pykeops-child", str(index)],
                               capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return float(timeout)
    if child.returncode != 0:
        return None
    return json.loads(child.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pykeops-timeout", type=float, default=300)
    parser.add_argument("--pykeops-child", type=int, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()  # run.sh passes the others' options too
    if args.pykeops_child is not None:
        return pykeops_child(args.pykeops_child)
    try:
        import pykeops  # noqa: F401
        have_pykeops = True
    except ImportError:
        have_pykeops = False
    rows, lines = [], []
    for index, (name, formula, aliases) in enumerate(CASES):
        compile_ms, load_ms, ptx_ms = [], [], []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as cache:
                compiled, loaded = run(formula, aliases, cache), run(formula, aliases, cache)
            assert compiled["kernel_source"] == "compiled"
            assert loaded["kernel_source"] == "disk-cache"
            compile_ms.append(compiled["compile_ms"])
            load_ms.append(loaded["compile_ms"])
            with tempfile.TemporaryDirectory() as cache:
                ptx_ms.append(1000 * ptx_seconds(formula, aliases, cache))
        theirs = pykeops_seconds(index, args.pykeops_timeout) if have_pykeops else None
        rows.append({"case": name, "formula": formula, "compile_ms": median(compile_ms),
                     "disk_cache_ms": median(load_ms), "ptx_process_ms": median(ptx_ms),
                     "pykeops_first_call_s": theirs})
        if theirs is None:
            pykeops_text = "n/a"
        elif theirs >= args.pykeops_timeout:
            pykeops_text = "> %.0f s" % args.pykeops_timeout
        else:
            pykeops_text = "%.1f s" % theirs
        lines.append("| %s | %.0f | %.1f | %.0f | %s | %s |"
                     % (name, median(compile_ms), median(load_ms), median(ptx_ms),
                        pykeops_text, ratio(theirs and 1000 * theirs, median(compile_ms))))
        print(lines[-1], flush=True)
    write_results("compile_time_cpu", "Compile time and disk-cache load time (float32)",
                  ["formula", "compile (ms)", "load from disk cache (ms)",
                   "to PTX, whole process (ms)", "pykeops first CPU call (one run)",
                   "vs pykeops"], rows, lines, args.repeat)


if __name__ == "__main__":
    main()
