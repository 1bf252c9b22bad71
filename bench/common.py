# common.py - Shared helpers of the benchmarks: run keops-run, time callables, write tables.
# SPDX-License-Identifier: MIT
import json
import os
import platform
import subprocess
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEOPS_RUN = os.path.join(ROOT, "build", "bin", "keops-run")
RESULTS = os.path.join(ROOT, "bench", "results")


def median_time(function, repeat):
    """Median wall time of `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2], result


def keops_run(tmp, formula, aliases, arrays, repeat, extra=()):
    """Runs keops-run on .npy inputs (with the `extra` options); returns its
    JSON report and its output."""
    command = [KEOPS_RUN, "--formula", formula, "--json", "--repeat", str(repeat),
               "--output", os.path.join(tmp, "out.npy")] + list(extra)
    for alias in aliases:
        command += ["--alias", alias]
    for name, array in arrays.items():
        path = os.path.join(tmp, name + ".npy")
        np.save(path, np.ascontiguousarray(array))
        command += ["--input", "%s=%s" % (name, path)]
    report = json.loads(subprocess.run(command, check=True, capture_output=True,
                                       text=True).stdout)
    return report, np.load(os.path.join(tmp, "out.npy"))


def machine():
    model = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores (%s)" % (model, os.cpu_count(), platform.platform())


def write_results(name, title, header, rows, lines, repeat, device=None):
    """Writes bench/results/NAME.md (the table) and NAME.json (the rows);
    `device` names the GPU the figures come from."""
    where = machine() + ("; GPU: " + device if device else "")
    text = "\n".join(["# " + title, "",
                      "Machine: %s. Median of %d runs; KeOps-MLIR compile time "
                      "reported apart." % (where, repeat), "",
                      "| " + " | ".join(header) + " |",
                      "|" + "---|" * len(header)] + lines) + "\n"
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, name + ".md"), "w") as f:
        f.write(text)
    with open(os.path.join(RESULTS, name + ".json"), "w") as f:
        json.dump({"machine": machine(), "gpu": device, "rows": rows}, f, indent=2)
    print(text)


def ratio(slow, fast):
    return "%.1fx" % (slow / fast) if slow and fast else "n/a"
