# test_lazy_tensor_api.py - pykeops's LazyTensor API against dense float64 references.
# SPDX-License-Identifier: MIT
"""Batch dimensions, the linear-operator interface (scipy), symbolic and
callable reductions, the remaining vector ops (TensorDot, Kron, BSpline,
SoftDTW, ...), complex LazyTensors and the shape errors, each checked
against the same computation on dense NumPy or PyTorch arrays."""
import math

import numpy as np
import pytest
import scipy.sparse.linalg as sla
import torch

import keops.numpy as kn
import keops.torch as kt

RNG = np.random.default_rng(7)
M, N, D = 9, 11, 3


def rand(*shape):
    return RNG.random(shape) - 0.5


def gaussian(x, y):
    """exp(-|x - y|^2) on LazyTensors or dense arrays (summed over the last axis)."""
    if isinstance(x, kn.LazyTensor) or isinstance(x, kt.LazyTensor):
        return (-((x - y) ** 2).sum(-1)).exp()
    return np.exp(-((x - y) ** 2).sum(-1))


# A framework: its LazyTensor class, how to make its arrays and read them back.
NUMPY = (kn, np.asarray, np.asarray)
TORCH = (kt, torch.as_tensor, lambda t: t.detach().numpy())
FRAMEWORKS = pytest.mark.parametrize("framework", [NUMPY, TORCH], ids=["numpy", "torch"])


# ---------------------------------------------------------------------------
# Batch dimensions
# ---------------------------------------------------------------------------

@FRAMEWORKS
def test_batch_gaussian_matmul(framework):
    keops, array, to_numpy = framework
    x, y, b = rand(1, 4, M, 1, D), rand(2, 4, 1, N, D), rand(2, 1, N, 2)
    K = gaussian(keops.LazyTensor(array(x)), keops.LazyTensor(array(y)))
    assert K.nbatchdims == 2
    assert K._shape == (2, 4, M, N, 1) and K.shape == (2, 4, M, N)
    assert K.dim() == 5 and K.ndim == 1
    result = to_numpy(K @ array(b))
    dense = gaussian(x, y) @ b  # (2, 4, M, N) @ (2, 1, N, 2)
    assert result.shape == (2, 4, M, 2)
    np.testing.assert_allclose(result, dense, rtol=1e-12)


@pytest.mark.parametrize("axis, dense_axis", [(1, -2), (2, -1), (-3, -2), (-2, -1)])
def test_batch_reduction_axes(axis, dense_axis):
    """dim = nbatchdims + 0 reduces over i, + 1 over j; -3 and -2 likewise."""
    x, y, p = rand(3, M, 1, D), rand(3, 1, N, D), rand(3, 1, 1, D)
    lazy = (kn.LazyTensor(x) * kn.LazyTensor(p) - kn.LazyTensor(y)).sqnorm2()
    dense = (((x * p) - y) ** 2).sum(-1)
    rows = M if dense_axis == -1 else N
    for method, reference in (("sum", np.sum), ("max", np.max), ("min", np.min)):
        result = getattr(lazy, method)(dim=axis)
        assert result.shape == (3, rows, 1)
        np.testing.assert_allclose(result[..., 0], reference(dense, axis=dense_axis),
                                   rtol=1e-12)
    np.testing.assert_array_equal(lazy.argmin(axis=axis)[..., 0],
                                  dense.argmin(axis=dense_axis))
    np.testing.assert_allclose(lazy.logsumexp(dim=axis)[..., 0],
                               np.log(np.exp(dense).sum(dense_axis)), rtol=1e-12)


def test_batch_parameters_and_vector_ops():
    x, y, s = rand(2, M, 1, D), rand(1, N, D), rand(2, 1, 1, 1) + 1
    lazy = kn.LazyTensor(x).sqdist(kn.LazyTensor(y)) * kn.LazyTensor(s)
    assert lazy.shape == (2, M, N)
    dense = ((x - y) ** 2).sum(-1, keepdims=True) * s
    np.testing.assert_allclose(lazy.sum(dim=2), dense.sum(2), rtol=1e-12)
    # Component reductions over the last axis of a batched LazyTensor.
    v = kn.LazyTensor(x) * kn.LazyTensor(y)
    dense_v = x * y
    for name in ("sum", "min", "max", "argmin", "argmax"):
        component = getattr(v, name)(-1)
        assert component.shape == (2, M, N)
        np.testing.assert_allclose(component.sum(dim=2)[..., 0],
                                   getattr(dense_v, name)(-1).sum(2), rtol=1e-12)
        np.testing.assert_allclose(getattr(v, name)(dim=3).sum(dim=1),
                                   getattr(dense_v, name)(-1).sum(1)[..., None] * 1.0,
                                   rtol=1e-12)


def test_batch_torch_gradient():
    x = torch.tensor(rand(2, M, 1, D))
    y = torch.tensor(rand(1, N, D)[None])  # (1, 1, N, D)
    b = torch.tensor(rand(2, N, 2), requires_grad=True)
    K = gaussian(kt.LazyTensor(x), kt.LazyTensor(y))
    dense = torch.exp(-((x - y) ** 2).sum(-1))
    (g,) = torch.autograd.grad(((K @ b) ** 2).sum(), [b])
    (h,) = torch.autograd.grad(((dense @ b) ** 2).sum(), [b])
    torch.testing.assert_close(g, h)


def test_pykeops_batch_shapes():
    """pykeops's batch rule: every LazyTensor (..., M, 1, D), (..., 1, N, D)
    or (..., 1, 1, D) has the same number of batch dimensions, each of the
    common size or 1; the result is (..., M, D_out), one kernel run."""
    x, y = rand(2, 3, M, 1, D), rand(2, 1, 1, N, D)
    p, w = rand(1, 3, 1, 1, D), rand(2, 3, 1, N, 1)
    lazy = ((kn.LazyTensor(x) - kn.LazyTensor(y)) * kn.LazyTensor(p)).sqnorm2()
    assert lazy.shape == (2, 3, M, N)
    result = (lazy.exp() * kn.LazyTensor(w)).sum(dim=3)
    assert result.shape == (2, 3, M, 1)
    dense = np.exp((((x - y) * p) ** 2).sum(-1, keepdims=True)) * w
    np.testing.assert_allclose(result, dense.sum(3), rtol=1e-12)


def test_vi_vj_pm_with_batch_dimensions():
    x, y, p = rand(2, M, D), rand(2, N, D), rand(2, D)
    lazy = (kn.Vi(x) * kn.Pm(p) - kn.Vj(y)).sqnorm2()
    dense = ((x[:, :, None] * p[:, None, None] - y[:, None]) ** 2).sum(-1)
    np.testing.assert_allclose(lazy.sum(dim=2)[..., 0], dense.sum(-1), rtol=1e-12)
    same = kn.Var(x, cat=0), kn.Var(y, cat=1), kn.Var(p, cat=2)
    np.testing.assert_allclose(((same[0] * same[2] - same[1]) ** 2).sum(-1).sum(dim=1),
                               dense.sum(-2)[..., None], rtol=1e-12)


# ---------------------------------------------------------------------------
# Linear operators
# ---------------------------------------------------------------------------

def test_scipy_linear_operator_and_cg():
    points = RNG.random((60, 2))
    K = (-kn.LazyTensor(points[:, None]).sqdist(kn.LazyTensor(points[None])) * 8).exp()
    dense = np.exp(-8 * ((points[:, None] - points[None]) ** 2).sum(-1))
    operator = sla.aslinearoperator(K)
    assert operator.shape == (60, 60) and operator.dtype == np.float64
    v = RNG.random(60)
    np.testing.assert_allclose(operator.matvec(v), dense @ v, rtol=1e-12)
    np.testing.assert_allclose(operator.rmatvec(v), dense.T @ v, rtol=1e-12)
    w = RNG.random((60, 3))
    np.testing.assert_allclose(operator.matmat(w), dense @ w, rtol=1e-12)
    regularized = operator + 0.5 * sla.aslinearoperator(np.eye(60))
    solution, info = sla.cg(regularized, v, rtol=1e-12, atol=0)
    assert info == 0
    np.testing.assert_allclose(solution, np.linalg.solve(dense + 0.5 * np.eye(60), v),
                               rtol=1e-8)


def test_rectangular_matvec_rmatvec_and_transpose():
    x, y = rand(M, 1, D), rand(1, N, D)
    K = gaussian(kn.LazyTensor(x), kn.LazyTensor(y))
    dense = gaussian(x, y)
    u, v = rand(M), rand(N, 2)
    np.testing.assert_allclose(K.matvec(v), dense @ v, rtol=1e-12)
    np.testing.assert_allclose(K.rmatvec(u), dense.T @ u, rtol=1e-12)
    np.testing.assert_allclose(K.T @ u, dense.T @ u, rtol=1e-12)
    assert K.t().shape == (N, M)
    assert (K.matvec(v[:, 0])).shape == (M,)


def test_torch_matmul_is_differentiable():
    x = torch.tensor(rand(M, 1, D), requires_grad=True)
    y = torch.tensor(rand(1, N, D))
    v = torch.tensor(rand(N))
    K = gaussian(kt.LazyTensor(x), kt.LazyTensor(y))
    dense = torch.exp(-((x - y) ** 2).sum(-1))
    torch.testing.assert_close(K @ v, dense @ v)
    (g,) = torch.autograd.grad((K @ v).sum(), [x])
    (h,) = torch.autograd.grad((dense @ v).sum(), [x])
    torch.testing.assert_close(g, h)


# ---------------------------------------------------------------------------
# Symbolic variables, callable reductions, properties
# ---------------------------------------------------------------------------

@FRAMEWORKS
def test_symbolic_variables_make_callable_reductions(framework):
    keops, array, to_numpy = framework
    x, y, b = rand(M, D), rand(N, D), rand(N, 1)
    xi, yj = keops.LazyTensor((0, D, 0)), keops.Vj(1, D)
    reduction = (gaussian(xi, yj) * keops.LazyTensor(array(b[None]))).sum(dim=1)
    dense = gaussian(x[:, None], y[None]) @ b
    assert "Var(0,3,0)" in str(reduction) and "Var(2,1,1)" in str(reduction)
    np.testing.assert_allclose(to_numpy(reduction(array(x), array(y))), dense, rtol=1e-12)
    # A float in the formula takes the dtype of the call's arrays.
    scaled = (keops.Vi(0, D) * 2.0).sum(-1).sum(dim=0)
    result = scaled(array(x.astype(np.float32)))
    assert to_numpy(result).dtype == np.float32
    np.testing.assert_allclose(to_numpy(result), 2 * x.sum(keepdims=True), rtol=1e-5)


def test_call_false_returns_a_callable():
    x, y = rand(M, 1, D), rand(1, N, D)
    K = gaussian(kn.LazyTensor(x), kn.LazyTensor(y))
    routine = K.sum(dim=1, call=False)
    assert callable(routine)
    np.testing.assert_allclose(routine(), gaussian(x, y).sum(1)[:, None], rtol=1e-12)
    lse = K.logsumexp(dim=0, call=False, use_double_acc=True)
    np.testing.assert_allclose(lse()[:, 0], np.log(np.exp(gaussian(x, y)).sum(0)),
                               rtol=1e-12)


def test_properties():
    x = kn.LazyTensor(rand(M, 1, D).astype(np.float32))
    assert x.dtype == "float32" and x._shape == (M, 1, D) and x.shape == (M, 1, D)
    assert x.ndim == D and x.nbatchdims == 0 and x.dim() == 3
    # NumPy scalars on the left are parameters in the dtype of the arrays.
    assert (np.float64(2.0) * x).sum(dim=0).dtype == np.float32
    assert kn.LazyTensor(2.0).dtype is None
    assert kt.LazyTensor(torch.zeros(1, N, 2)).dtype == "float32"
    assert kn.Pm(3).shape == (1, 1) and kn.LazyTensor([1.0, 2.0]).shape == (1, 1, 2)


# ---------------------------------------------------------------------------
# Remaining operations
# ---------------------------------------------------------------------------

X, Y = rand(M, 1, D), rand(1, N, D)


def broadcast(a):
    return np.broadcast_to(a, (M, N, a.shape[-1]))


def assert_sums_match(lazy, dense, rtol=1e-12):
    """Both reductions of a (M, N, E) LazyTensor equal those of its dense array."""
    dense = broadcast(dense)
    np.testing.assert_allclose(lazy.sum(dim=1), dense.sum(1), rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(lazy.sum(dim=0), dense.sum(0), rtol=rtol, atol=1e-12)


def test_sinc_elem_extract_concatenate():
    x, y = kn.LazyTensor(X), kn.LazyTensor(Y)
    assert_sums_match((3 * x - y).sinc(), np.sinc(3 * X - Y))
    assert_sums_match(x.elem(2) * y.extract(1, 2), X[..., 2:3] * Y[..., 1:3])
    both = kn.LazyTensor.concatenate((x, y, x.elem(0)), axis=-1)
    assert both.ndim == 2 * D + 1
    assert_sums_match(both, np.concatenate(
        [broadcast(X), broadcast(Y), broadcast(X[..., :1])], -1))
    assert_sums_match(kt.LazyTensor.cat((x, y), dim=2), np.concatenate(
        [broadcast(X), broadcast(Y)], -1))


def test_tensordot_and_kron():
    a, b = rand(M, 1, 6), rand(1, N, 6)
    la, lb = kn.LazyTensor(a), kn.LazyTensor(b)
    # (2, 3) x (3, 2), contracting a's axis 1 with b's axis 0 -> (2, 2).
    dot = la.keops_tensordot(lb, (2, 3), (3, 2), (1,), (0,))
    assert dot.ndim == 4
    dense = np.einsum("mnik,mnkj->mnij", broadcast(a).reshape(M, N, 2, 3),
                      broadcast(b).reshape(M, N, 3, 2)).reshape(M, N, 4)
    assert_sums_match(dot, dense)
    # The permuted result (axis t goes to result axis permute[t], as in KeOps).
    permuted = la.keops_tensordot(lb, (2, 3), (3, 2), (1,), (0,), (1, 0))
    assert_sums_match(permuted, dense.reshape(M, N, 2, 2).swapaxes(2, 3).reshape(M, N, 4))
    # A 3-axis permutation, as pykeops's test_kron: the Kronecker product of
    # (2, 1, 2) and (1, 3, 1) tensors is TensorDot(a, b, ..., [0, 2, 4, 1, 3, 5]).
    kron3 = la.keops_tensordot(lb, (2, 1, 3), (3, 1, 2), (), (), (0, 2, 4, 1, 3, 5))
    dense3 = np.einsum("mnijk,mnlpq->mniljpkq", broadcast(a).reshape(M, N, 2, 1, 3),
                       broadcast(b).reshape(M, N, 3, 1, 2)).reshape(M, N, 36)
    assert_sums_match(kron3, dense3)
    # Outer product of two vectors: no contraction.
    outer = la.keops_tensordot(lb, (6,), (6,), (), ())
    assert_sums_match(outer, (broadcast(a)[..., :, None] * broadcast(b)[..., None, :])
                      .reshape(M, N, 36))
    kron = la.keops_kron(lb, [2, 3], [3, 2])
    dense_kron = np.stack([np.kron(a[i, 0].reshape(2, 3), b[0, j].reshape(3, 2)).ravel()
                           for i in range(M) for j in range(N)]).reshape(M, N, 36)
    assert_sums_match(kron, dense_kron)


def bspline_dense(knots, x, order):
    """Cox-de Boor: the len(knots) - order - 1 B-splines at x."""
    basis = [float(knots[j] <= x < knots[j + 1]) for j in range(len(knots) - 1)]
    for k in range(1, order + 1):
        for i in range(len(knots) - k - 1):
            left = (x - knots[i]) / (knots[i + k] - knots[i])
            right = (knots[i + k + 1] - x) / (knots[i + k + 1] - knots[i + 1])
            basis[i] = left * basis[i] + right * basis[i + 1]
    return basis[:len(knots) - order - 1]


def test_bspline():
    knots = np.sort(RNG.random((1, N, 7)), axis=-1)
    x = RNG.random((M, 1, 1))
    lazy = kn.LazyTensor(knots).bspline(kn.LazyTensor(x), 2)
    assert lazy.ndim == 4
    dense = np.array([[bspline_dense(knots[0, j], x[i, 0, 0], 2) for j in range(N)]
                      for i in range(M)])
    assert dense.any()
    assert_sums_match(lazy, dense)


def softdtw_dense(a, b, gamma):
    r = np.zeros((len(a), len(b)))
    for i in range(len(a)):
        for j in range(len(b)):
            previous = [r[p, q] for p, q in ((i - 1, j - 1), (i - 1, j), (i, j - 1))
                        if p >= 0 and q >= 0]
            soft = -gamma * np.log(np.exp(-np.array(previous) / gamma).sum()) \
                if previous else 0.0
            r[i, j] = (a[i] - b[j]) ** 2 + soft
    return r[-1, -1]


def test_softdtw_sqdist():
    a, b = rand(M, 1, 4), rand(1, N, 5)
    lazy = kn.LazyTensor(a).softdtw_sqdist(kn.LazyTensor(b), 0.5)
    dense = np.array([[[softdtw_dense(a[i, 0], b[0, j], 0.5)] for j in range(N)]
                      for i in range(M)])
    assert_sums_match(lazy, dense)


def test_trace_operator_factorize_and_auto_factorize():
    matrices = rand(1, N, D * D)
    v = kn.LazyTensor(X)
    linear = kn.LazyTensor(matrices).matvecmult(v)  # A_j v_i: linear in v
    trace = linear.trace_operator(v)
    traces = np.trace(matrices.reshape(N, D, D), axis1=1, axis2=2)
    np.testing.assert_allclose(trace.sum(dim=1)[:, 0], np.full(M, traces.sum()),
                               rtol=1e-12)
    K = gaussian(v, kn.LazyTensor(Y))
    np.testing.assert_allclose(K.factorize(v).sum(dim=1), K.sum(dim=1))
    np.testing.assert_allclose(K.auto_factorize().sum(dim=0),
                               gaussian(X, Y).sum(0)[:, None], rtol=1e-12)


def test_trace_operator_drops_a_symbolic_variable_as_pykeops():
    """The trace of v -> K_ij * A_j v for a symbolic v does not read v: the
    reduction takes the arrays of the other symbolic variables only (pykeops:
    `K.trace_operator(v).sum(1)(x, y)`); one that is not linear keeps v."""
    x, y, matrices = rand(M, D), rand(N, D), rand(N, D * D)
    xs, ys, v = kn.Vi(0, D), kn.Vj(1, D), kn.Vj(2, D)
    K = (-((xs - ys) ** 2).sum(-1)).exp()
    trace = (K * kn.LazyTensor(matrices[None]).matvecmult(v)).trace_operator(v)
    ours = trace.sum(dim=1)(x, y)
    traces = np.trace(matrices.reshape(N, D, D), axis1=1, axis2=2)
    np.testing.assert_allclose(ours[:, 0], gaussian(x[:, None], y[None]) @ traces,
                               rtol=1e-12)
    with pytest.raises(ValueError, match="takes 2 arrays"):
        trace.sum(dim=1)(x, y, y)
    # K * v * v is not linear: its trace 2 K sum(v) still reads v.
    squares = (K * v * v).trace_operator(v)
    np.testing.assert_allclose(squares.sum(dim=1)(x, y, y)[:, 0],
                               gaussian(x[:, None], y[None]) @ (2 * y.sum(1)),
                               rtol=1e-12)


# ---------------------------------------------------------------------------
# Complex LazyTensors
# ---------------------------------------------------------------------------

def crand(*shape):
    return rand(*shape) + 1j * rand(*shape)


def test_complex_numpy_arithmetic_and_sum():
    x, y = crand(M, 1, D), crand(1, N, D)
    lx, ly = kn.LazyTensor(x), kn.LazyTensor(y)
    assert isinstance(lx, kn.ComplexLazyTensor) and lx.shape == (M, 1, D)
    assert lx.dtype == "complex128"
    lazy = ((lx * ly) * ly.real + lx + lx.real).sum(axis=2)
    dense = ((x * y) * y.real + x + x.real).sum(axis=2)
    result = lazy.sum(axis=0)
    assert result.dtype == np.complex128 and result.shape == (N, 1)
    np.testing.assert_allclose(result[:, 0], dense.sum(0), rtol=1e-12)
    lazy = (lx - ly) / (ly + 2.0) - 1j * lx.conj() * 0.5
    dense = (x - y) / (y + 2.0) - 1j * x.conj() * 0.5
    np.testing.assert_allclose(lazy.sum(dim=1), dense.sum(1), rtol=1e-12)


def test_complex_unary_ops():
    x, y = crand(M, 1, D), crand(1, N, D)
    lx, ly = kn.LazyTensor(x), kn.LazyTensor(y)
    real_parts = (lx * ly).angle() + abs(lx - ly) + (lx * ly).imag + ly.abs()
    dense = np.angle(x * y) + abs(x - y) + (x * y).imag + abs(y)
    assert not real_parts.is_complex
    assert_sums_match(real_parts, dense)
    z = (lx * ly).exp() + ly.real.exp1j() + lx.imag.real2complex() \
        + ly.real.imag2complex() + lx ** 3
    dense = np.exp(x * y) + np.exp(1j * y.real) + x.imag + 1j * y.real + x ** 3
    np.testing.assert_allclose(z.sum(dim=0), np.broadcast_to(dense, (M, N, D)).sum(0),
                               rtol=1e-12)


def test_complex_torch_fourier_transform_and_gradient():
    """The non-uniform Fourier transform of pykeops's test_complex."""
    x = torch.tensor(crand(1, N, 1), requires_grad=True)
    p, f = torch.tensor(rand(1, N, 1)), torch.tensor(rand(M, 1, 1))

    def transform(x, p, f):
        return (x * (-2 * math.pi * 1j * p * f).exp()).sum(dim=0)

    lazy = transform(kt.LazyTensor(x), kt.LazyTensor(p), kt.LazyTensor(f))
    dense = transform(x, p, f)
    assert lazy.dtype == torch.complex128
    torch.testing.assert_close(lazy, dense)
    (g,) = torch.autograd.grad((lazy.abs() ** 2).sum(), [x])
    (h,) = torch.autograd.grad((dense.abs() ** 2).sum(), [x])
    torch.testing.assert_close(g, h)


@FRAMEWORKS
@pytest.mark.parametrize("reduction", ["min", "max"])
def test_complex_min_and_max_reduce_real_and_imaginary_parts_apart(framework, reduction):
    """pykeops's complex Min and Max: the real parts and the imaginary parts
    reduced apart (not a selection of whole complex numbers)."""
    module, array, _ = framework
    x, y = crand(M, 1, D), crand(1, N, D)
    lazy = module.LazyTensor(array(x)) * module.LazyTensor(array(y))
    ours = np.asarray(getattr(lazy, reduction)(dim=1))
    dense = x * y
    pick = np.min if reduction == "min" else np.max
    expected = pick(dense.real, axis=1) + 1j * pick(dense.imag, axis=1)
    assert ours.shape == (M, D) and np.iscomplexobj(ours)
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_complex_batch_and_component_sum():
    x, y = crand(2, M, 1, D), crand(2, 1, N, D)
    lazy = (kn.LazyTensor(x) * kn.LazyTensor(y)).sum(-1).sum(dim=2)
    np.testing.assert_allclose(lazy[..., 0], (x * y).sum(-1).sum(-1), rtol=1e-12)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

ERRORS = [
    (lambda: kn.LazyTensor(rand(3, 4, 5)), ValueError, "expected an array of shape"),
    (lambda: kn.LazyTensor(rand(2, M, 1, D)) + kn.LazyTensor(rand(3, 1, N, D)),
     ValueError, r"batch dimensions \(2,\) and \(3,\) do not broadcast"),
    (lambda: kn.LazyTensor(rand(2, M, 1, D)).sum(dim=0), ValueError,
     r"reductions need dim=1 \(over i\) or dim=2 \(over j\) with 1 batch"),
    (lambda: kn.LazyTensor(X).sum_reduction(), ValueError, "reductions need dim=0"),
    (lambda: kn.LazyTensor(X) @ rand(N), ValueError, "dimension 1"),
    (lambda: kn.LazyTensor(X).sqdist(kn.LazyTensor(Y)) @ rand(N + 1), ValueError,
     "K has 11 columns"),
    (lambda: kn.LazyTensor(X).elem(3), ValueError, r"index in \[0, 3\)"),
    (lambda: kn.LazyTensor(X).extract(2, 2), ValueError, "out of bounds"),
    (lambda: kn.LazyTensor.concatenate((kn.LazyTensor(X),), axis=1), ValueError,
     "last axis"),
    (lambda: kn.LazyTensor(Y).bspline(kn.LazyTensor(X), 0), ValueError, "dimension 1"),
    (lambda: kn.LazyTensor(X).keops_kron(kn.LazyTensor(Y), [2, 2], [3, 1]), ValueError,
     "do not match"),
    (lambda: kn.LazyTensor(X).keops_tensordot(kn.LazyTensor(Y), (4,), (3,), (0,), (0,)),
     ValueError, "do not match"),
    (lambda: kn.LazyTensor(X) | kn.LazyTensor(rand(1, N, 2)), ValueError,
     "same dimension"),
    (lambda: kn.LazyTensor(crand(M, 1, D)).argmin(dim=1), ValueError,
     "support the reductions Sum, Min, Max .* got ArgMin"),
    (lambda: kn.LazyTensor(crand(M, 1, D)) * kn.LazyTensor(crand(1, N, 2)), ValueError,
     "complex operands of 3 and 2 components"),
    (lambda: kn.LazyTensor((0, 3)), ValueError, r"tuple \(ind, dim, cat\)"),
    (lambda: kn.Vi(0, 3).sum(dim=1)(), ValueError, "takes 1 arrays"),
    (lambda: kn.LazyTensor(X)(), ValueError, "only reductions can be called"),
    (lambda: kn.LazyTensor(X).norm(dim=0), ValueError, "last axis"),
]


@pytest.mark.parametrize("build, error, message", ERRORS,
                         ids=[str(k) for k in range(len(ERRORS))])
def test_errors(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_ranges_are_kept_swapped_and_forwarded():
    """The block-sparse ranges go to the Genred call (not run here)."""
    ranges = tuple(np.full((1, 2), k, dtype=np.int64) for k in range(6))
    K = gaussian(kn.LazyTensor(X), kn.LazyTensor(Y))
    K.ranges = ranges
    assert (2 * K).ranges is ranges
    assert [int(r[0, 0]) for r in K.T.ranges] == [3, 4, 5, 0, 1, 2]
    assert K.sum(dim=1, call=False).call_options["ranges"] is ranges
    other = gaussian(kn.LazyTensor(X), kn.LazyTensor(Y))
    other.ranges = K.T.ranges
    with pytest.raises(ValueError, match="different block-sparse ranges"):
        K + other


def test_pykeops_spellings():
    """Call forms of pykeops code: options through K @ v, `other=` for the
    weight of logsumexp / sumsoftmaxweight, KernelSolve's module path."""
    x, y, b = rand(M, 1, D), rand(1, N, D), rand(1, N, 1)
    k = gaussian(kn.LazyTensor(x), kn.LazyTensor(y))
    dense = gaussian(x, y)
    np.testing.assert_allclose(k.__matmul__(b[0], sum_scheme="kahan_scheme"),
                               dense @ b[0], rtol=1e-12)
    f, w = -kn.LazyTensor(x).sqdist(kn.LazyTensor(y)), kn.LazyTensor(b + 1)
    d = -((x - y) ** 2).sum(-1)
    np.testing.assert_allclose(f.logsumexp(dim=1, other=w),
                               np.log((np.exp(d) * (b[..., 0] + 1)).sum(1))[:, None],
                               rtol=1e-12)
    np.testing.assert_allclose(f.sumsoftmaxweight(other=w, dim=1),
                               (np.exp(d) * (b[..., 0] + 1)).sum(1)[:, None]
                               / np.exp(d).sum(1)[:, None], rtol=1e-12)
    from keops.numpy.operations import KernelSolve as NumpySolve
    from keops.torch.operations import KernelSolve as TorchSolve
    assert NumpySolve is kn.KernelSolve and TorchSolve is kt.KernelSolve
