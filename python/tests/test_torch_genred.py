# test_torch_genred.py - keops.torch.Genred: values and autograd to order 2.
# SPDX-License-Identifier: MIT
import pytest
import torch

from keops.torch import Genred

ALIASES = ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)", "p = Pm(1)"]


def inputs(requires_grad=True):
    torch.manual_seed(0)
    tensors = (torch.rand(20, 3), torch.rand(30, 3), torch.rand(30, 1), torch.rand(1) + 0.5)
    return tuple(t.double().requires_grad_(requires_grad) for t in tensors)


GAUSS = Genred("Exp(-p*SqDist(x,y))*b", ALIASES, reduction_op="Sum", axis=1)
LSE = Genred("-p*SqDist(x,y)+Elem(b,0)", ALIASES, reduction_op="LogSumExp", axis=0)


def dense_gauss(x, y, b, p):
    return torch.exp(-p * ((x[:, None] - y[None]) ** 2).sum(-1)) @ b


def dense_lse(x, y, b, p):
    f = -p * ((x[:, None] - y[None]) ** 2).sum(-1) + b[:, 0][None, :]
    return torch.logsumexp(f, 0)[:, None]


@pytest.mark.parametrize("routine, dense", [(GAUSS, dense_gauss), (LSE, dense_lse)])
def test_values_and_gradients_match_dense_torch(routine, dense):
    args = inputs()
    ours, ref = routine(*args), dense(*args)
    torch.testing.assert_close(ours, ref)
    eta = torch.rand_like(ref)
    grads = torch.autograd.grad((ours * eta).sum(), args)
    refs = torch.autograd.grad((ref * eta).sum(), args)
    for g, r in zip(grads, refs):
        torch.testing.assert_close(g, r)


@pytest.mark.parametrize("routine", [GAUSS, LSE])
def test_gradcheck_and_gradgradcheck(routine):
    args = inputs()
    assert torch.autograd.gradcheck(lambda *a: routine(*a), args)
    assert torch.autograd.gradgradcheck(lambda *a: routine(*a), args)


def test_argkmin_and_min_argmin_are_not_differentiable_indices():
    x, y, _, _ = inputs(False)
    knn = Genred("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)"], reduction_op="ArgKMin",
                 axis=1, opt_arg=4)(x, y)
    d = ((x[:, None] - y[None]) ** 2).sum(-1)
    assert knn.dtype == torch.int64
    torch.testing.assert_close(knn, torch.argsort(d, 1)[:, :4])
    values, indices = Genred("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)"],
                             reduction_op="Min_ArgMin", axis=1)(x, y)
    torch.testing.assert_close(values[:, 0], d.min(1).values)
    torch.testing.assert_close(indices[:, 0], d.argmin(1))


def test_errors():
    x, y, b, p = inputs(False)
    with pytest.raises(TypeError, match="must be a torch.Tensor"):
        GAUSS(x.numpy(), y, b, p)
    with pytest.raises(ValueError, match="must have shape \\(rows, 3\\), got \\(20, 2\\)"):
        GAUSS(x[:, :2], y, b, p)
    with pytest.raises(ValueError, match="keops takes CPU and CUDA tensors"):
        GAUSS(x.to("meta"), y, b, p)


# Reductions beyond Sum, each with a formula it differentiates well.
OTHER_REDUCTIONS = pytest.mark.parametrize("reduction_op, formula, formula2, k", [
    ("LogSumExp", "-p*SqDist(x,y)", "b", None),
    ("SumSoftMaxWeight", "-p*SqDist(x,y)", "b*Elem(x,0)", None),
    ("Min", "x*y-p", None, None),
    ("Max_ArgMax", "SqDist(x,y)*p", None, None),
    ("KMin", "x*y-p", None, 3),
    ("KMin_ArgKMin", "SqDist(x,y)+p", None, 2),
])


def other_reduction(reduction_op, formula, formula2, k, axis, seed):
    """Float64 arguments (x, y, b, p) and the reduction's first result as a
    function of them."""
    torch.manual_seed(seed)
    args = (torch.rand(7, 3, dtype=torch.float64), torch.rand(13, 3, dtype=torch.float64),
            torch.rand(13, 2, dtype=torch.float64) + 0.1, torch.rand(1, dtype=torch.float64))
    routine = Genred(formula, ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)", "p = Pm(1)"],
                     reduction_op=reduction_op, axis=axis, formula2=formula2, opt_arg=k)

    def values(*a):
        result = routine(*a)
        return result[0] if isinstance(result, tuple) else result

    return args, values


@pytest.mark.parametrize("axis", [0, 1])
@OTHER_REDUCTIONS
def test_gradcheck_of_the_other_reductions(reduction_op, formula, formula2, k, axis):
    args, values = other_reduction(reduction_op, formula, formula2, k, axis, seed=2)
    assert torch.autograd.gradcheck(values, tuple(a.requires_grad_() for a in args))


@pytest.mark.parametrize("axis", [0, 1])
@OTHER_REDUCTIONS
def test_forward_mode_matches_finite_differences(reduction_op, formula, formula2, k,
                                                 axis):
    args, values = other_reduction(reduction_op, formula, formula2, k, axis, seed=4)
    tangents = tuple(torch.rand_like(a) for a in args)
    _, ours = torch.func.jvp(values, args, tangents)
    h = 1e-6
    plus = values(*(a + h * t for a, t in zip(args, tangents)))
    minus = values(*(a - h * t for a, t in zip(args, tangents)))
    torch.testing.assert_close(ours, (plus - minus) / (2 * h), rtol=1e-6, atol=1e-7)
    # The adjoint identity with the backward pass: <eta, J t> = <J^T eta, t>.
    eta = torch.rand_like(ours)
    _, pullback = torch.func.vjp(values, *args)
    adjoint = sum((g * t).sum() for g, t in zip(pullback(eta), tangents))
    torch.testing.assert_close((eta * ours).sum(), adjoint)


def test_batch_dimensions_with_autograd():
    torch.manual_seed(3)
    x = torch.rand(3, 10, 3, dtype=torch.float64, requires_grad=True)
    y = torch.rand(3, 12, 3, dtype=torch.float64)
    b = torch.rand(12, 1, dtype=torch.float64)
    p = torch.rand(1, dtype=torch.float64)
    ours = GAUSS(x, y, b, p)
    dense = torch.exp(-p * ((x[:, :, None] - y[:, None]) ** 2).sum(-1)) @ b
    torch.testing.assert_close(ours, dense)
    eta = torch.rand_like(dense)
    torch.testing.assert_close(torch.autograd.grad((ours * eta).sum(), x)[0],
                               torch.autograd.grad((dense * eta).sum(), x)[0])


def test_a_batch_is_one_kernel_run_forward_and_backward(monkeypatch):
    """Batch entries fold into one block-sparse reduction, its backward
    passes too: one kernel run forward and one per gradient, batched
    parameters (a variable of the rows inside) included."""
    runs = []
    original = Genred.run
    monkeypatch.setattr(Genred, "run",
                        lambda self, args: runs.append(1) or original(self, args))
    torch.manual_seed(5)
    x = torch.rand(4, 10, 3, dtype=torch.float64, requires_grad=True)
    y = torch.rand(1, 12, 3, dtype=torch.float64, requires_grad=True)
    b = torch.rand(4, 12, 1, dtype=torch.float64)
    p = (torch.rand(4, 1, dtype=torch.float64) + 0.5).requires_grad_()
    ours = GAUSS(x, y, b, p)
    assert len(runs) == 1
    dense = torch.exp(-p[:, None] * ((x[:, :, None] - y[:, None]) ** 2).sum(-1)) @ b
    torch.testing.assert_close(ours, dense)
    eta = torch.rand_like(dense)
    grads = torch.autograd.grad((ours * eta).sum(), (x, y, p))
    assert len(runs) == 4
    for g, r in zip(grads, torch.autograd.grad((dense * eta).sum(), (x, y, p))):
        torch.testing.assert_close(g, r)


def test_a_batch_over_a_shared_reduced_variable_differentiates_it():
    """x batched, y shared (2-D): y stays one copy, and its gradient sums the
    contributions of every entry, as dense torch broadcasting does."""
    torch.manual_seed(6)
    x = torch.rand(4, 10, 3, dtype=torch.float64, requires_grad=True)
    y = torch.rand(12, 3, dtype=torch.float64, requires_grad=True)
    b = torch.rand(12, 1, dtype=torch.float64, requires_grad=True)
    p = torch.rand(1, dtype=torch.float64) + 0.5
    ours = GAUSS(x, y, b, p)
    dense = torch.exp(-p * ((x[:, :, None] - y[None, None]) ** 2).sum(-1)) @ b
    torch.testing.assert_close(ours, dense)
    eta = torch.rand_like(dense)
    for g, r in zip(torch.autograd.grad((ours * eta).sum(), (x, y, b)),
                    torch.autograd.grad((dense * eta).sum(), (x, y, b))):
        torch.testing.assert_close(g, r)


def test_torch_func_grad_vjp_jacrev_and_vmap():
    x, y, b, p = inputs(False)
    dense = dense_gauss

    def loss(routine):
        return lambda t: (routine(t, y, b, p) ** 2).sum()

    torch.testing.assert_close(torch.func.grad(loss(GAUSS))(x),
                               torch.func.grad(loss(dense))(x))
    torch.testing.assert_close(torch.func.jacrev(lambda t: GAUSS(t, y, b, p))(x),
                               torch.func.jacrev(lambda t: dense(t, y, b, p))(x))
    _, pullback = torch.func.vjp(lambda t: LSE(t, y, b, p), x)
    _, dense_pullback = torch.func.vjp(lambda t: dense_lse(t, y, b, p), x)
    eta = torch.rand(30, 1, dtype=torch.float64)
    torch.testing.assert_close(pullback(eta)[0], dense_pullback(eta)[0])
    xs = torch.rand(4, 20, 3, dtype=torch.float64)
    torch.testing.assert_close(torch.vmap(lambda t: GAUSS(t, y, b, p))(xs),
                               torch.stack([dense(t, y, b, p) for t in xs]))
    ps = torch.rand(5, 1, dtype=torch.float64)
    torch.testing.assert_close(torch.vmap(lambda q: LSE(x, y, b, q))(ps),
                               torch.stack([dense_lse(x, y, b, q) for q in ps]))


def test_torch_func_forward_mode_jvp_jacfwd_hessian():
    x, y, b, p = inputs(False)
    tangent = torch.rand_like(x)
    _, ours = torch.func.jvp(lambda t: GAUSS(t, y, b, p), (x,), (tangent,))
    _, dense = torch.func.jvp(lambda t: dense_gauss(t, y, b, p), (x,), (tangent,))
    torch.testing.assert_close(ours, dense)
    torch.testing.assert_close(torch.func.jacfwd(lambda q: LSE(x, y, b, q))(p),
                               torch.func.jacfwd(lambda q: dense_lse(x, y, b, q))(p))
    small = x[:6]
    torch.testing.assert_close(
        torch.func.hessian(lambda t: (GAUSS(t, y, b, p) ** 2).sum())(small),
        torch.func.hessian(lambda t: (dense_gauss(t, y, b, p) ** 2).sum())(small))


def test_column_slices_are_read_in_place():
    """Tensors whose rows are contiguous (column slices) give the results of
    contiguous ones; transposed tensors are copied."""
    torch.manual_seed(1)
    wide_x, wide_y = torch.rand(20, 6, dtype=torch.float64), torch.rand(30, 5, dtype=torch.float64)
    x, y, b, p = wide_x[:, 1:4], wide_y[:, :3], wide_y[:, 4:5], torch.tensor([0.7], dtype=torch.float64)
    assert not x.is_contiguous() and x.stride() == (6, 1)
    expected = GAUSS(x.contiguous(), y.contiguous(), b.contiguous(), p)
    torch.testing.assert_close(GAUSS(x, y, b, p), expected)
    transposed = torch.rand(3, 30, dtype=torch.float64).t()
    torch.testing.assert_close(GAUSS(x, transposed, b, p),
                               GAUSS(x.contiguous(), transposed.contiguous(), b, p))


def test_float16_on_the_cpu_is_differentiable():
    """float16 tensors on the CPU compute in float32, return float16, and
    their gradients flow back in float16."""
    x = torch.rand(30, 3, dtype=torch.float16, requires_grad=True)
    y = torch.rand(40, 3, dtype=torch.float16)
    routine = Genred("Exp(-SqDist(x,y))", ["x = Vi(3)", "y = Vj(3)"], axis=1)
    out = routine(x, y, backend="CPU")
    assert out.dtype == torch.float16
    (grad,) = torch.autograd.grad(out.sum(), [x])
    assert grad.dtype == torch.float16
    x64 = x.detach().double().requires_grad_()
    dense = torch.exp(-((x64[:, None] - y.double()[None]) ** 2).sum(-1)).sum(1, keepdim=True)
    (expected,) = torch.autograd.grad(dense.sum(), [x64])
    torch.testing.assert_close(out.double(), dense.detach(), rtol=2e-3, atol=1e-3)
    torch.testing.assert_close(grad.double(), expected, rtol=5e-3, atol=5e-3)


@pytest.mark.parametrize("formula", [
    "IfElse(x-y, Sqrt(x-y), Square(x))",   # Sqrt of a negative number not taken
    "IfElse(y-x, Square(x), Log(x-y))",    # Log of a negative number not taken
    "ReLU(x-y)*Sqrt(Abs(x-y))",            # ReLU of a scalar
])
def test_selections_differentiate_first_and_select_after(formula):
    """The branch not taken by a scalar selection contributes nothing to the
    gradient, not 0 x NaN (its derivative is NaN or infinite there): first
    and second derivatives are finite and match central finite differences
    of the (finite) values."""
    x = torch.tensor([[-2.0], [0.5], [3.0], [1.7]], dtype=torch.float64,
                     requires_grad=True)
    y = torch.tensor([[0.0], [1.0], [0.25]], dtype=torch.float64)
    routine = Genred(formula, ["x = Vi(1)", "y = Vj(1)"], axis=1)
    (grad,) = torch.autograd.grad(routine(x, y).sum(), [x], create_graph=True)
    (second,) = torch.autograd.grad(grad.sum(), [x])
    assert torch.isfinite(grad).all() and torch.isfinite(second).all()
    h = 1e-6
    values = lambda shift: routine(x.detach() + shift, y)
    torch.testing.assert_close(grad.detach(), (values(h) - values(-h)) / (2 * h),
                               rtol=1e-5, atol=1e-6)

    def first_at(shift):
        shifted = (x.detach() + shift).requires_grad_()
        return torch.autograd.grad(routine(shifted, y).sum(), [shifted])[0]
    step = 1e-4
    torch.testing.assert_close(second, (first_at(step) - first_at(-step)) / (2 * step),
                               rtol=1e-4, atol=1e-5)


def test_abs_and_clamp_select_after_differentiating():
    """Abs and Clamp of dimension 1 select after differentiating: a bound not
    selected, whose derivative is infinite there (Sqrt at 0), contributes
    nothing, and Abs at 0 contributes nothing (0, not 0 x inf); first and
    second derivatives are finite and match the analytic ones."""
    x = torch.tensor([[0.5], [1.0], [2.0]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([[1.0], [3.0]], dtype=torch.float64)  # x = y = 1 in a pair
    d = x.detach() - y.T
    root = d.abs().sqrt()
    f = d + root
    # d/dx |d + sqrt|d||, 0 where d = 0 (for the pair x = y = 1).
    safe = torch.where(d != 0, root, torch.ones_like(root))
    abs_grad = torch.where(d != 0, torch.sign(f) * (1 + torch.sign(d) / (2 * safe)),
                           torch.zeros_like(d))
    cases = [  # (formula, d/dx of the sum over j)
        ("Clamp(x, Sqrt(Abs(x-y))-5, 10)", torch.full_like(x, 2.0)),  # v selected
        ("Abs(x-y+Sqrt(Abs(x-y)))", abs_grad.sum(1, keepdim=True)),
    ]
    for formula, expected in cases:
        routine = Genred(formula, ["x = Vi(1)", "y = Vj(1)"], axis=1)
        (grad,) = torch.autograd.grad(routine(x, y).sum(), [x], create_graph=True)
        (second,) = torch.autograd.grad(grad.sum(), [x])
        assert torch.isfinite(grad).all() and torch.isfinite(second).all(), formula
        torch.testing.assert_close(grad.detach(), expected, msg=formula)


@pytest.mark.parametrize("formula", [
    "IfElse(x-y, Sqrt(x-y), Square(x))",     # Sqrt of a negative number not taken
    "ReLU(x-y)*Sqrt(Abs(x-y))",
    "Clamp(x, Sqrt(Abs(x-y))-5, Square(x)+1)",  # lo never selected
])
def test_vector_selections_differentiate_first_and_select_after(formula):
    """Selections by a vector condition (3 components) select component by
    component after differentiating: first and second derivatives are
    finite where the unselected branches have NaN or infinite derivatives,
    and match central finite differences of the values (summed over the
    components)."""
    x = torch.tensor([[-2.0, 0.5, 3.0], [0.5, 1.7, -1.0]], dtype=torch.float64,
                     requires_grad=True)
    y = torch.tensor([[0.0, 1.0, 0.25], [0.3, -0.5, 2.0]], dtype=torch.float64)
    routine = Genred("Sum(" + formula + ")", ["x = Vi(3)", "y = Vj(3)"], axis=1)
    (grad,) = torch.autograd.grad(routine(x, y).sum(), [x], create_graph=True)
    (second,) = torch.autograd.grad(grad.sum(), [x])
    assert torch.isfinite(grad).all() and torch.isfinite(second).all()
    h = 1e-6
    for k in range(3):
        shift = torch.zeros_like(x)
        shift[:, k] = h
        values = lambda s: routine(x.detach() + s, y).sum(1)
        torch.testing.assert_close(grad[:, k].detach(),
                                   (values(shift) - values(-shift)) / (2 * h),
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("formula", ["Max(Sqrt(Square(x-y)))",
                                     "Min(-Sqrt(Square(x-y)))"])
def test_min_max_over_components_differentiate_the_selected_one(formula):
    """Min and Max over components differentiate only the component that
    they select: a component at Sqrt(0) (infinite derivative) that is not
    the extremum leaves the first and second derivatives finite, the first
    equal to finite differences."""
    x = torch.tensor([[-2.0, 0.5, 3.0], [0.5, 1.7, -1.0]], dtype=torch.float64,
                     requires_grad=True)
    y = torch.tensor([[0.0, 0.5, 0.25], [0.3, -0.5, 2.0]], dtype=torch.float64)
    routine = Genred(formula, ["x = Vi(3)", "y = Vj(3)"], axis=1)
    (grad,) = torch.autograd.grad(routine(x, y).sum(), [x], create_graph=True)
    (second,) = torch.autograd.grad(grad.sum(), [x])
    assert torch.isfinite(grad).all() and torch.isfinite(second).all()
    grad = grad.detach()
    h = 1e-7
    for k in range(3):
        shift = torch.zeros_like(x)
        shift[:, k] = h
        values = lambda s: routine(x.detach() + s, y).sum(1)
        torch.testing.assert_close(grad[:, k], (values(shift) - values(-shift)) / (2 * h),
                                   rtol=1e-5, atol=1e-5)
