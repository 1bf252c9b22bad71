# test_package_utils.py - pykeops's package-level utilities.
# SPDX-License-Identifier: MIT
import numpy as np
import pytest

import keops
from keops.numpy import Genred


@pytest.fixture
def build_folder(tmp_path):
    """A fresh cache folder for the test; the previous one afterwards."""
    previous = keops.get_build_folder()
    keops.set_build_folder(tmp_path / "cache")
    yield tmp_path / "cache"
    keops.set_build_folder(previous or "off")


def test_build_folder_receives_kernels_and_clean_empties_it(build_folder):
    assert keops.get_build_folder() == str(build_folder)
    # A formula no other test compiles, so that this process compiles it now.
    # On the CPU (its kernels' files are object code) wherever a GPU is.
    routine = Genred("Exp(-SqDist(x,y)*IntCst(7))*b",
                     ["x = Vi(2)", "y = Vj(2)", "b = Vj(1)"],
                     axis=1).with_call_options(backend="CPU")
    x, y, b = np.ones((3, 2)), np.zeros((4, 2)), np.ones((4, 1))
    np.testing.assert_allclose(routine(x, y, b), np.full((3, 1), 4 * np.exp(-14)))
    assert len(list(build_folder.glob("*.kobj"))) == 1
    assert keops._C.kernel_cache_size() >= 1
    keops.clean_pykeops()
    assert list(build_folder.glob("*.kobj")) == []
    assert keops._C.kernel_cache_size() == 0  # the process cache too
    np.testing.assert_allclose(routine(x, y, b), np.full((3, 1), 4 * np.exp(-14)))


def test_set_build_folder_off_disables_the_cache(build_folder):
    keops.set_build_folder("off")
    assert keops.get_build_folder() == ""


def test_verbose_reports_each_new_kernel_once(capsys):
    keops.set_verbose(True)
    try:
        routine = Genred("SqDist(x,y)*IntCst(3)", ["x = Vi(1)", "y = Vj(1)"],
                         reduction_op="Min", axis=1)
        for _ in range(2):
            routine(np.ones((2, 1)), np.zeros((3, 1)))
    finally:
        keops.set_verbose(False)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "Min_Reduction(SqDist(x,y)*IntCst(3),0)" in lines[0]


def test_self_checks_pass_and_report(capsys):
    assert keops.check_health()
    out = capsys.readouterr().out
    assert "numpy bindings is working" in out and "torch bindings is working" in out
    if keops.config.gpu_available:
        assert "GPU backend on " in out
    else:
        assert "GPU backend not available (no GPU: " in out
