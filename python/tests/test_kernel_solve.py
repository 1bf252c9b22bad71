# test_kernel_solve.py - KernelSolve against numpy.linalg.solve / torch.linalg.solve.
# SPDX-License-Identifier: MIT
import numpy as np
import pytest
import torch

from keops.numpy import KernelSolve
from keops.torch import KernelSolve as TorchKernelSolve

FORMULA = "Exp(-SqDist(x,y)*g)*a"
ALIASES = ["x = Vi(2)", "y = Vj(2)", "a = Vj(3)", "g = Pm(1)"]
RNG = np.random.default_rng(3)
X, B = RNG.random((150, 2)), RNG.random((150, 3))


def dense_solve(x, b, g, alpha, lib):
    d2 = ((x[:, None] - x[None]) ** 2).sum(-1)
    eye = np.eye(len(x)) if lib is np else torch.eye(len(x), dtype=x.dtype)
    return lib.linalg.solve(lib.exp(-g * d2) + alpha * eye, b)


def test_numpy_solve_matches_linalg():
    solver = KernelSolve(FORMULA, ALIASES, "a", axis=1)
    a = solver(X, X, B, np.array([10.0]), alpha=0.1, eps=1e-10)
    np.testing.assert_allclose(a, dense_solve(X, B, 10.0, 0.1, np), rtol=1e-7, atol=1e-9)


def test_torch_solve_is_differentiable():
    x = torch.tensor(X, requires_grad=True)
    b = torch.tensor(B, requires_grad=True)
    g = torch.tensor([10.0], dtype=torch.float64, requires_grad=True)
    solver = TorchKernelSolve(FORMULA, ALIASES, "a", axis=1)
    ours = solver(x, x, b, g, alpha=0.1, eps=1e-12)
    reference = dense_solve(x, b, g, 0.1, torch)
    torch.testing.assert_close(ours, reference)
    eta = torch.rand_like(ours)
    for got, want in zip(torch.autograd.grad((ours * eta).sum(), (x, b, g)),
                         torch.autograd.grad((reference * eta).sum(), (x, b, g))):
        torch.testing.assert_close(got, want)


def test_unknown_variable():
    with pytest.raises(ValueError, match="varinvalias 'c' is not one of the aliases"):
        KernelSolve(FORMULA, ALIASES, "c")
