# test_lazy_tensor.py - keops LazyTensor against the same expressions on dense arrays.
# SPDX-License-Identifier: MIT
import numpy as np
import pytest
import torch

from keops.numpy import LazyTensor, Pm, Vi, Vj
from keops.torch import LazyTensor as TorchLazyTensor

RNG = np.random.default_rng(1)
X = RNG.random((30, 1, 3)) - 0.5
Y = RNG.random((1, 40, 3)) - 0.5
B = RNG.random((1, 40, 1)) + 0.5


def op(name):
    """A function applied to LazyTensors (method) or dense arrays (NumPy)."""
    dense = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin,
             "cos": np.cos, "abs": np.abs, "sign": np.sign,
             "relu": lambda a: np.maximum(a, 0),
             "step": lambda a: (a >= 0).astype(float),
             "sqnorm2": lambda a: (a ** 2).sum(-1, keepdims=True),
             "norm2": lambda a: np.sqrt((a ** 2).sum(-1, keepdims=True)),
             "normalize": lambda a: a / np.sqrt((a ** 2).sum(-1, keepdims=True)),
             "sum": lambda a: a.sum(-1, keepdims=True),
             "min": lambda a: a.min(-1, keepdims=True),
             "max": lambda a: a.max(-1, keepdims=True)}[name]
    return lambda t: getattr(t, name)() if isinstance(t, LazyTensor) else dense(t)


def sqdist(a, b):
    return a.sqdist(b) if isinstance(a, LazyTensor) else ((a - b) ** 2).sum(-1, keepdims=True)


def concat(a, b):
    if isinstance(a, LazyTensor):
        return a.concat(b)
    return np.concatenate([np.broadcast_to(t, (30, 40, t.shape[-1])) for t in (a, b)], -1)


EXPRESSIONS = {
    "arithmetic": lambda x, y, b: (x + y) * b - x / (b + 1) + 2 * y - 0.5,
    "negation and powers": lambda x, y, b: -x ** 2 + (b ** 3) * y + b ** 0.5 + b ** -0.5 + b ** 1.5,
    "math": lambda x, y, b: op("exp")(x) + op("log")(b) + op("sqrt")(b) + op("sin")(y) + op("cos")(x),
    "piecewise": lambda x, y, b: op("abs")(x - y) + op("relu")(x) + op("step")(y) + op("sign")(x),
    "comparisons": lambda x, y, b: (x < y) * 1.0 + (x >= y) * 2.0,
    "vector ops": lambda x, y, b: op("sqnorm2")(x) + op("norm2")(y) + sqdist(x, y) * b,
    "normalize": lambda x, y, b: op("normalize")(x - y) * b,
    "component reductions": lambda x, y, b: op("sum")(x * y) + op("min")(x) + op("max")(y),
    "indexing": lambda x, y, b: x[..., 0:2] * y[..., 1:2] + b,
    "concat": lambda x, y, b: concat(x, b) * 2,
}


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
@pytest.mark.parametrize("dim", [0, 1])
def test_expression_sums_match_dense(name, dim):
    expression = EXPRESSIONS[name]
    lazy = expression(LazyTensor(X), LazyTensor(Y), LazyTensor(B))
    dense = expression(X, Y, B)
    dense = np.broadcast_to(dense, (30, 40, dense.shape[-1]))
    np.testing.assert_allclose(lazy.sum(dim=dim), dense.sum(dim), rtol=1e-10, atol=1e-10)


def test_integer_index_is_a_component():
    dense = X[..., 2:3] * Y[..., 0:1]
    np.testing.assert_allclose((LazyTensor(X)[2] * LazyTensor(Y)[..., 0]).sum(dim=1),
                               np.broadcast_to(dense, (30, 40, 1)).sum(1))


def test_reductions_match_dense():
    x, y, b = LazyTensor(X), LazyTensor(Y), LazyTensor(B)
    d = ((X - Y) ** 2).sum(-1)
    f = x.sqdist(y)
    np.testing.assert_allclose((-f).logsumexp(dim=1)[:, 0], np.log(np.exp(-d).sum(1)))
    np.testing.assert_allclose((-f).logsumexp(dim=1, weight=b)[:, 0],
                               np.log((np.exp(-d) * B[..., 0]).sum(1)))
    np.testing.assert_allclose((-f).sumsoftmaxweight(y, dim=1),
                               np.exp(-d) @ Y[0] / np.exp(-d).sum(1, keepdims=True))
    np.testing.assert_allclose(f.min(dim=0)[:, 0], d.min(0))
    np.testing.assert_array_equal(f.argmin(dim=1)[:, 0], d.argmin(1))
    np.testing.assert_array_equal(f.argmax(dim=0)[:, 0], d.argmax(0))
    values, indices = f.min_argmin(dim=1)
    np.testing.assert_allclose(values[:, 0], d.min(1))
    np.testing.assert_array_equal(indices[:, 0], d.argmin(1))
    np.testing.assert_array_equal(f.argKmin(4, dim=1), np.argsort(d, 1)[:, :4])
    np.testing.assert_allclose(f.Kmin(4, dim=0), np.sort(d, 0)[:4].T)
    kmin, kargs = f.Kmin_argKmin(2, dim=1)
    np.testing.assert_array_equal(kargs, np.argsort(d, 1)[:, :2])


def test_vi_vj_pm_matmul_and_grad():
    x, y = Vi(X[:, 0, :]), Vj(Y[0])
    scale = Pm(2.0)
    K = (-scale * x.sqdist(y)).exp()
    v = RNG.random(40)
    dense = np.exp(-2.0 * ((X - Y) ** 2).sum(-1))
    np.testing.assert_allclose(K @ v, dense @ v)
    assert K.shape == (30, 40) and K._shape == (30, 40, 1)  # pykeops drops D = 1
    # d/dx of sum_j K_ij e_i = -4 e_i sum_j K_ij (x_i - y_j)
    e = Vi(np.ones((30, 1)))
    gradient = K.grad(x, e).sum(dim=1)
    expected = -4 * (dense[..., None] * (X - Y)).sum(1)
    np.testing.assert_allclose(gradient, expected, rtol=1e-10)
    assert "Grad(" in str(K.grad(x, e))


def test_torch_lazy_tensor_autograd():
    x = torch.tensor(X[:, 0, :], requires_grad=True)
    y = torch.tensor(Y[0])
    K = (-TorchLazyTensor(x[:, None, :]).sqdist(TorchLazyTensor(y[None]))).exp()
    a = K.sum(dim=1)
    dense = torch.exp(-((x[:, None, :] - y[None]) ** 2).sum(-1)).sum(1, keepdim=True)
    torch.testing.assert_close(a, dense)
    (g,) = torch.autograd.grad(a.sum(), x)
    (h,) = torch.autograd.grad(dense.sum(), x)
    torch.testing.assert_close(g, h)
    assert torch.autograd.gradcheck(
        lambda t: (-TorchLazyTensor(t[:, None, :]).sqdist(TorchLazyTensor(y[None]))).exp()
        .sum(dim=1), (x,))


def test_errors():
    with pytest.raises(ValueError, match="expected an array of shape \\(M, 1, D\\)"):
        LazyTensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="reductions need dim=0"):
        LazyTensor(X).sum(dim=3)
    with pytest.raises(ValueError, match="incompatible numbers of i-rows"):
        LazyTensor(X) + LazyTensor(X[:5])
    with pytest.raises(ValueError, match="do not broadcast"):
        LazyTensor(X) + LazyTensor(np.zeros((1, 40, 2)))
    with pytest.raises(TypeError, match="built from an array"):
        LazyTensor(None)


def test_transpose_and_solve():
    x, y = LazyTensor(X), LazyTensor(Y)
    K = (-x.sqdist(y)).exp()
    d = np.exp(-((X - Y) ** 2).sum(-1))
    np.testing.assert_allclose(K.t().sum(dim=1)[:, 0], d.sum(0))
    assert K.T.shape == (40, 30) and K.T._shape == (40, 30, 1)
    points = RNG.random((100, 1, 2))
    Kxx = (-LazyTensor(points).sqdist(LazyTensor(np.swapaxes(points, 0, 1))) * 10).exp()
    b = RNG.random((100, 2))
    a = Kxx.solve(b, alpha=0.1, eps=1e-12)
    dense = np.exp(-10 * ((points - np.swapaxes(points, 0, 1)) ** 2).sum(-1))
    np.testing.assert_allclose(a, np.linalg.solve(dense + 0.1 * np.eye(100), b),
                               rtol=1e-8, atol=1e-10)


def test_call_false_results_are_callable_objects_with_callfun():
    """As in pykeops, reductions and solve with call=False return callable
    objects whose `callfun` runs them, with the same results as call=True."""
    x = np.random.default_rng(3).random((100, 2))
    b = np.random.default_rng(4).random((100, 1))
    Kxx = (-LazyTensor(x[:, None, :]).sqdist(LazyTensor(x[None, :, :]))).exp()
    reduction = (Kxx * LazyTensor(b[None, :, :])).sum(dim=1, call=False)
    assert callable(reduction) and callable(reduction.callfun)
    assert "reduction" in str(reduction)
    expected = (Kxx * LazyTensor(b[None, :, :])).sum(dim=1)
    np.testing.assert_allclose(reduction(), expected)
    # callfun is the Genred, on the arrays of the variables in order.
    np.testing.assert_allclose(reduction.callfun(x, x, b), expected)
    solve = Kxx.solve(b, alpha=0.1, eps=1e-12, call=False)
    assert callable(solve) and callable(solve.callfun)
    assert "solve" in str(solve)
    np.testing.assert_allclose(solve(), Kxx.solve(b, alpha=0.1, eps=1e-12))
    np.testing.assert_allclose(solve.callfun(), solve())
