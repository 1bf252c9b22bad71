# test_kernel_library.py - Kernel libraries built by keops-aot, called from
# Python on NumPy arrays and torch tensors, against dense float64 NumPy.
# SPDX-License-Identifier: MIT
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

import keops

KEOPS_AOT = os.environ.get("KEOPS_AOT") or shutil.which("keops-aot")
pytestmark = pytest.mark.skipif(KEOPS_AOT is None, reason="no keops-aot")

SPEC = {
    "name": "pylib",
    "kernels": [
        {"name": "gauss", "formula": "Sum_Reduction(Exp(-p*SqDist(x,y))*b,0)",
         "aliases": ["x=Vi(3)", "y=Vj(3)", "b=Vj(2)", "p=Pm(1)"],
         "gradients": True},
        {"name": "nearest", "formula": "Min_ArgMin_Reduction(SqDist(x,y),0)",
         "aliases": ["x=Vi(3)", "y=Vj(3)"], "dtype": "float64"},
        {"name": "softmax", "formula": "SumSoftMaxWeight_Reduction(-SqDist(x,y),1,b)",
         "aliases": ["x=Vi(3)", "y=Vj(3)", "b=Vi(2)"], "dtype": "float64",
         "gradients": True},
        {"name": "closest", "formula": "Min_Reduction(SqDist(x,y)*b,0)",
         "aliases": ["x=Vi(3)", "y=Vj(3)", "b=Vj(1)"], "dtype": "float64",
         "gradients": True},
    ],
}


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    directory = tmp_path_factory.mktemp("aot")
    spec = directory / "spec.json"
    spec.write_text(json.dumps(SPEC))
    subprocess.run([KEOPS_AOT, "--spec", str(spec), "-o", str(directory / "lib")],
                   check=True)
    return keops.load_library(directory / "lib" / "libpylib.so")


def _data(dtype, rng=np.random.default_rng(0)):
    return (rng.random((40, 3)).astype(dtype), rng.random((60, 3)).astype(dtype),
            rng.standard_normal((60, 2)).astype(dtype))


def test_numpy_calls_match_dense_references(library):
    assert {"gauss", "nearest", "softmax", "closest"} <= set(library.kernels)
    x, y, b = _data(np.float32)
    p = np.array([0.7], dtype=np.float32)
    d = ((x[:, None, :].astype(np.float64) - y[None, :, :]) ** 2).sum(-1)
    a = library.gauss(x, y, b, p)
    assert a.shape == (40, 2) and a.dtype == np.float32
    np.testing.assert_allclose(a, np.exp(-0.7 * d) @ b, rtol=1e-5, atol=1e-6)

    x, y, _ = _data(np.float64)
    d = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    values, indices = library["nearest"](x, y)
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices[:, 0], d.argmin(1))
    np.testing.assert_allclose(values[:, 0], d.min(1), rtol=1e-12)


def test_torch_tensors_give_torch_tensors(library):
    torch = pytest.importorskip("torch")
    x, y, b = (torch.from_numpy(a) for a in _data(np.float32))
    p = torch.tensor([0.7])
    a = library.gauss(x, y, b, p)
    assert isinstance(a, torch.Tensor) and a.shape == (40, 2)
    d = ((x[:, None, :].double() - y[None, :, :].double()) ** 2).sum(-1)
    reference = torch.exp(-0.7 * d) @ b.double()
    assert torch.allclose(a.double(), reference, rtol=1e-5, atol=1e-6)
    # A kernel built without its gradients: a clear error rather than a
    # result without gradient.
    with pytest.raises(RuntimeError, match="kernel 'nearest' of the library has "
                       "no backward"):
        library.nearest(x.double().requires_grad_(), y.double())
    with torch.no_grad():
        assert library.gauss(x.requires_grad_(), y, b, p).shape == (40, 2)


def test_gradients_are_library_kernels(library, tmp_path):
    manifest = json.loads((library.path.parent / "pylib.json").read_text())
    kernels = {k["name"]: k for k in manifest["kernels"]}
    assert "gradients" not in kernels["nearest"]
    gauss = kernels["gauss"]["gradients"]
    assert [g["kernel"] for g in gauss] == ["gauss_grad_%d" % k for k in range(4)]
    assert [g["sum_rows"] for g in gauss] == [False, False, False, True]
    assert [i["kind"] for i in kernels["softmax"]["gradients"][0]["inputs"]] == [
        "eta", "output", "logsumexp"]
    assert kernels["closest"]["gradients"][0]["inputs"][1:] == [
        {"kind": "indices", "kernel": "closest_indices"}, {"kind": "column"}]
    header = (library.path.parent / "pylib.h").read_text()
    assert "gauss_grad_3(" in header and "softmax_logsumexp(" in header


def _dense_gradients(function, tensors, weights):
    """The float64 torch gradients of (function(*tensors) * weights).sum()."""
    torch = pytest.importorskip("torch")
    leaves = [t.detach().double().requires_grad_() for t in tensors]
    (function(*leaves) * weights.double()).sum().backward()
    return [leaf.grad for leaf in leaves]


def test_torch_autograd_runs_the_backward_kernels(library):
    torch = pytest.importorskip("torch")
    x, y, b = (torch.from_numpy(a) for a in _data(np.float32))
    p = torch.tensor([0.7])
    leaves = [t.clone().requires_grad_() for t in (x, y, b, p)]
    out = library.gauss(*leaves)
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
    (out * weights).sum().backward()

    def gauss(x, y, b, p):
        return torch.exp(-p * ((x[:, None] - y[None]) ** 2).sum(-1)) @ b

    for leaf, reference in zip(leaves, _dense_gradients(gauss, (x, y, b, p), weights)):
        assert leaf.grad.shape == leaf.shape
        torch.testing.assert_close(leaf.grad.double(), reference, rtol=2e-4, atol=2e-4)

    # Softmax (a logsumexp kernel of the library) over axis 0, and Min (its
    # argmin kernel and the column index), in float64.
    x, y, b = (torch.from_numpy(a).double() for a in _data(np.float64))
    w = torch.from_numpy(np.random.default_rng(2).random((60, 1)))

    def softmax(x, y, b):
        return torch.softmax(-((x[:, None] - y[None]) ** 2).sum(-1), 0).T @ b

    def closest(x, y, w):
        return (((x[:, None] - y[None]) ** 2).sum(-1) * w[:, 0]).min(1).values[:, None]

    for kernel, reference, tensors in ((library.softmax, softmax, (x, y, b[:40])),
                                       (library.closest, closest, (x, y, w))):
        leaves = [t.clone().requires_grad_() for t in tensors]
        out = kernel(*leaves)
        weights = torch.randn(out.shape, dtype=torch.float64,
                              generator=torch.Generator().manual_seed(3))
        (out * weights).sum().backward()
        for leaf, expected in zip(leaves, _dense_gradients(reference, tensors, weights)):
            torch.testing.assert_close(leaf.grad, expected, rtol=1e-9, atol=1e-9)


def test_bad_calls_raise_clear_errors(library, tmp_path):
    x, y, b = _data(np.float64)
    with pytest.raises(TypeError, match="kernel 'gauss' of the library takes "
                       "float32 arrays, got float64"):
        library.gauss(x, y, b, np.array([1.0]))
    x, y, b = _data(np.float32)
    with pytest.raises(ValueError, match=r"argument 2 \('b'\) \(Vj\(2\)\) must "
                       r"have shape \(rows, 2\)"):
        library.gauss(x, y, b[:, :1], np.array([1.0], dtype=np.float32))
    with pytest.raises(AttributeError, match="has no kernel 'gaus'"):
        library.gaus
    (tmp_path / "libalone.so").write_bytes(b"")
    with pytest.raises(ValueError, match="no manifest alone.json"):
        keops.load_library(tmp_path / "libalone.so")
