#!/usr/bin/env python3
# fuzz-formulas.py - Random and mutated formulas through keops-run --check:
# no crash, no hang, and the float64 reference wherever a kernel runs.
# SPDX-License-Identifier: MIT
"""Draws formulas from the formula language (seeded: the same seed gives the
same cases), some of them mutated into bad text, and runs each with
`keops-run --check` on small random inputs. A case passes when keops-run
either runs the kernel and its output agrees with the float64 reference
evaluation (exit 0), or refuses the formula with an error message (exit 1);
it fails on a crash (a signal), a check failure (exit 2), a bad exit or a
run past the timeout. With --backend gpu the kernels run on the GPU (the GPU
emulation of the tests where there is none). ctest runs a few hundred cases
on the CPU (keops-formula-fuzz) and fewer on the GPU emulation
(keops-formula-fuzz-gpu-emulation); run more on demand, e.g.

    scripts/fuzz-formulas.py --cases 20000 --seed 7 --jobs 2
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Ops of one formula: the result's dimension from the operands' (None: no
# such op on these dimensions).
UNARY = ["Exp", "Log", "Sqrt", "Rsqrt", "Abs", "Sin", "Cos", "Square", "Minus",
         "Inv", "Sign", "Step", "ReLU", "Atan", "Asin", "Acos", "XLogX",
         "SinXDivX", "Floor"]
COMPONENT_SUMS = ["Sum", "SqNorm2", "Norm2", "Min", "Max"]
BINARY = ["+", "-", "*", "/"]
REDUCTIONS = ["Sum", "Min", "Max", "ArgMin", "ArgMax", "Min_ArgMin", "LogSumExp",
              "KMin", "ArgKMin", "KMin_ArgKMin", "SumSoftMaxWeight"]


class Formulas:
    """A random formula over x = Vi(dx), y = Vj(dy), b = Vj(1), p = Pm(dp)."""

    def __init__(self, rng):
        self.rng = rng
        self.dims = {"x": rng.choice([1, 2, 3, 5]), "y": rng.choice([1, 2, 3, 5]),
                     "b": 1, "p": rng.choice([1, 2])}

    def leaf(self):
        rng = self.rng
        if rng.random() < 0.15:
            return rng.choice(["2", "0.5", "IntCst(3)", "Rat(1,3)"]), 1
        name = rng.choice(list(self.dims))
        return name, self.dims[name]

    def expr(self, depth):
        """(text, dimension) of a random expression."""
        rng = self.rng
        if depth == 0 or rng.random() < 0.25:
            return self.leaf()
        kind = rng.random()
        if kind < 0.35:
            text, dim = self.expr(depth - 1)
            op = rng.choice(UNARY + ["Pow"])
            if op == "Pow":
                return "Pow(%s,%d)" % (text, rng.randint(-2, 3)), dim
            return "%s(%s)" % (op, text), dim
        if kind < 0.7:
            (a, da), (b, db) = self.expr(depth - 1), self.expr(depth - 1)
            if da != db and 1 not in (da, db):
                b, db = self.leaf()
                if da != db and 1 not in (da, db):
                    return a, da
            return "(%s%s%s)" % (a, rng.choice(BINARY), b), max(da, db)
        if kind < 0.8:
            text, _ = self.expr(depth - 1)
            return "%s(%s)" % (rng.choice(COMPONENT_SUMS), text), 1
        if kind < 0.88:
            (a, da), (b, db) = self.expr(depth - 1), self.expr(depth - 1)
            if da == db:
                return rng.choice(["SqDist(%s,%s)", "(%s|%s)"]) % (a, b), 1
            return "Concat(%s,%s)" % (a, b), da + db
        if kind < 0.94:
            text, dim = self.expr(depth - 1)
            k = rng.randrange(dim)
            if rng.random() < 0.5:
                return "Elem(%s,%d)" % (text, k), 1
            return "Extract(%s,%d,%d)" % (text, k, dim - k), dim - k
        (c, dc), (a, da), (b, db) = (self.expr(depth - 1) for _ in range(3))
        if dc == da == db:
            return rng.choice(["IfElse(%s,%s,%s)", "Clamp(%s,%s,%s)"]) % (c, a, b), da
        return c, dc

    def reduction(self):
        """(formula text, aliases) of a random reduction."""
        rng = self.rng
        text, dim = self.expr(rng.randint(1, 4))
        kind = rng.choice(REDUCTIONS)
        axis = rng.randint(0, 1)
        if kind in ("LogSumExp", "SumSoftMaxWeight"):
            if dim != 1:
                text = "Sum(%s)" % text
            weight, _ = self.expr(2)
            if kind == "LogSumExp" and rng.random() < 0.5:
                return "LogSumExp_Reduction(%s,%d)" % (text, axis), self.aliases()
            return "%s_Reduction(%s,%d,%s)" % (kind, text, axis, weight), self.aliases()
        if kind.startswith(("KMin", "ArgKMin")):
            return "%s_Reduction(%s,%d,%d)" % (kind, text, rng.randint(1, 4),
                                               axis), self.aliases()
        return "%s_Reduction(%s,%d)" % (kind, text, axis), self.aliases()

    def aliases(self):
        categories = {"x": "Vi", "y": "Vj", "b": "Vj", "p": "Pm"}
        return ["%s=%s(%d)" % (name, categories[name], dim)
                for name, dim in self.dims.items()]


def mutate(rng, text):
    """`text` with a random edit: a character dropped, doubled or replaced, or
    a number made huge."""
    at = rng.randrange(len(text))
    edit = rng.random()
    if edit < 0.3:
        return text[:at] + text[at + 1:]
    if edit < 0.5:
        return text[:at] + text[at] + text[at:]
    if edit < 0.8:
        return text[:at] + rng.choice("(),+*-/|#0123456789xyzKe ") + text[at + 1:]
    return text.replace("(1", "(%d" % rng.choice([2 ** 31, 2 ** 40, 10 ** 30]), 1)


def case(seed, index):
    """(formula, aliases, dtype) of case `index`."""
    rng = random.Random("%d/%d" % (seed, index))
    formula, aliases = Formulas(rng).reduction()
    if rng.random() < 0.2:
        formula = mutate(rng, formula)
    return formula, aliases, rng.choice(["float64", "float64", "float32"])


def run(keops_run, backend, cache, timeout, formula, aliases, dtype):
    """None when the case passes, else what went wrong."""
    command = [keops_run, "--formula", formula, "--dtype", dtype, "--check",
               "--json", "--size", "i=13", "--size", "j=29", "--backend", backend]
    for alias in aliases:
        command += ["--alias", alias]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, KEOPS_CACHE_DIR=cache))
    except subprocess.TimeoutExpired:
        return "no result within %d s" % timeout
    if done.returncode == 1 and "error" in done.stderr:
        return None  # a clear refusal
    if done.returncode == 0:
        json.loads(done.stdout)  # valid JSON whatever the values
        return None
    return "exit %d: %s" % (done.returncode, (done.stderr or done.stdout)[-400:])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=60, help="seconds per case")
    parser.add_argument("--backend", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--keops-run", default=os.path.join(ROOT, "build", "bin",
                                                            "keops-run"))
    args = parser.parse_args()
    cases = [case(args.seed, k) for k in range(args.cases)]
    with tempfile.TemporaryDirectory() as cache, ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(
            lambda c: run(args.keops_run, args.backend, cache, args.timeout, *c), cases))
    failures = [(c, r) for c, r in zip(cases, results) if r is not None]
    for (formula, aliases, dtype), problem in failures:
        print("FAIL %s %s [%s]: %s" % (formula, " ".join(aliases), dtype, problem))
    print("%d cases (seed %d, %s): %d failed"
          % (len(cases), args.seed, args.backend, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
