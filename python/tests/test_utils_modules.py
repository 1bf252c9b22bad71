# test_utils_modules.py - keops.numpy.utils and keops.torch.utils, as pykeops's.
# SPDX-License-Identifier: MIT
"""The dense helpers of pykeops's utils modules, against direct float64
formulas and finite differences; the tools classes; WarmUpGpu without a GPU."""
import numpy as np
import pytest
import torch

from keops.numpy.utils import (WarmUpGpu, chain_rules, differences, grad_np_kernel,
                               log_np_kernel, log_sum_exp, np_kernel, np_kernel_sphere,
                               numpytools, squared_distances)
from keops.torch.utils import is_on_device, torch_kernel, torchtools

RNG = np.random.default_rng(11)
KERNELS = {
    "gaussian": lambda d2, s: np.exp(-d2 / s ** 2),
    "laplacian": lambda d2, s: np.exp(-np.sqrt(d2) / s),
    "cauchy": lambda d2, s: 1 / (1 + d2 / s ** 2),
    "inverse_multiquadric": lambda d2, s: (1 + d2 / s ** 2) ** -0.5,
}


def brute_squared_distances(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_dense_kernels_match_their_formulas(name):
    x, y, s = RNG.random((7, 3)), RNG.random((5, 3)) + 0.5, 0.8
    d2 = brute_squared_distances(x, y)
    np.testing.assert_allclose(squared_distances(x, y), d2, atol=1e-12)
    np.testing.assert_allclose(np_kernel(x, y, s, name), KERNELS[name](d2, s), rtol=1e-10)
    np.testing.assert_allclose(log_np_kernel(x, y, s, name), np.log(KERNELS[name](d2, s)),
                               rtol=1e-10)
    # The derivative with respect to the squared distance.
    h = 1e-6
    numeric = (KERNELS[name](d2 + h, s) - KERNELS[name](d2 - h, s)) / (2 * h)
    np.testing.assert_allclose(grad_np_kernel(x, y, s, name), numeric, rtol=1e-5)
    torch.testing.assert_close(
        torch_kernel(torch.tensor(x), torch.tensor(y), s, name),
        torch.tensor(KERNELS[name](d2, s)), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="unknown kernel 'gauss'"):
        np_kernel(x, y, s, "gauss")


def test_sphere_kernels_differences_chain_rules_and_log_sum_exp():
    a, b, s = RNG.random((4, 3)), RNG.random((6, 3)), 0.7
    prs = a @ b.T
    np.testing.assert_allclose(np_kernel_sphere(a, b, s, "binet"), prs ** 2)
    np.testing.assert_allclose(np_kernel_sphere(a, b, s, "gaussian_oriented"),
                               np.exp((2 * prs - 2) / s ** 2))
    diff = differences(a, b)
    assert diff.shape == (3, 4, 6)
    np.testing.assert_allclose(diff[1, 2, 3], a[2, 1] - b[3, 1])
    q, p, Aa = RNG.random((4, 2)), RNG.random((6, 2)), RNG.random((4, 6))
    expected = np.stack([(q * ((2 * (a[:, None, k] - b[None, :, k]) * Aa) @ p)).sum(1)
                         for k in range(3)], 1)
    np.testing.assert_allclose(chain_rules(q, a, b, Aa, p), expected, rtol=1e-5)
    mat = RNG.random((5, 8)) * 100
    np.testing.assert_allclose(log_sum_exp(mat, axis=1),
                               np.log(np.exp(mat - 100).sum(1)) + 100, rtol=1e-12)


def test_tools_and_warm_up():
    x = numpytools.rand(3, 2, "float32")
    assert x.shape == (3, 2) and x.dtype == np.float32
    assert numpytools.is_tensor(x) and numpytools.dtypename(x.dtype) == "float32"
    assert numpytools.Genred is not None and numpytools.swap_axes is not None
    t = torchtools.rand(3, 2, torch.float64, "cpu")
    assert torchtools.is_tensor(t) and torchtools.dtypename(t.dtype) == "float64"
    np.testing.assert_allclose(torchtools.numpy(torchtools.transpose(t)), t.numpy().T)
    assert not is_on_device(t)
    WarmUpGpu()  # without a GPU: nothing to do, no error
