# test_disk_cache.py - Kernels compiled by one process serve the next ones.
# SPDX-License-Identifier: MIT
import json
import os
import subprocess
import sys

import pytest

SCRIPT = """
import json, numpy as np
from keops.numpy import Genred
# On the CPU (the cache file is its object code) wherever a GPU is.
routine = Genred("Exp(-SqDist(x,y))*b", ["x=Vi(3)", "y=Vj(3)", "b=Vj(2)"],
                 axis=1).with_call_options(backend="CPU")
rng = np.random.default_rng(0)
x, y, b = rng.random((40, 3)), rng.random((30, 3)), rng.random((30, 2))
kernel = routine.kernel("float64")
out = routine(x, y, b)
ref = np.exp(-((x[:, None] - y[None]) ** 2).sum(-1)) @ b
print(json.dumps({"from_disk_cache": kernel.from_disk_cache,
                  "error": float(np.abs(out - ref).max())}))
"""


def run_process(cache_dir):
    env = dict(os.environ, KEOPS_CACHE_DIR=str(cache_dir))
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout)


def test_second_process_loads_the_kernel_from_disk(tmp_path):
    first, second = run_process(tmp_path), run_process(tmp_path)
    assert not first["from_disk_cache"] and second["from_disk_cache"]
    assert first["error"] < 1e-12 and second["error"] < 1e-12
    assert len(list(tmp_path.glob("*.kobj"))) == 1


def test_disabled_cache_compiles_every_time(tmp_path):
    for _ in range(2):
        assert not run_process("off")["from_disk_cache"]


def test_a_file_or_an_unwritable_folder_is_refused_and_the_cache_kept(tmp_path):
    import keops
    before = keops.get_build_folder()
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")
    with pytest.raises(ValueError, match="is not a directory"):
        keops.set_build_folder(a_file)
    assert keops.get_build_folder() == before
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(ValueError, match="is not writable"):
            keops.set_build_folder(locked)
        assert keops.get_build_folder() == before
