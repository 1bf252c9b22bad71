# test_tensordot_loops.py - Wide TensorDot, MatVecMult and TensorProd formulas
# (computed by loops, or component by component in output chunks) and their
# gradients, against torch.einsum in float64.
# SPDX-License-Identifier: MIT
"""Shapes of hundreds to thousands of products, so that the kernels take the
loop forms of keops.tensordot (docs/cpu-pipeline.md): the whole contraction
into a stack buffer, or, when the reduced value is a tensordot of variables
with a wide output, each output chunk's components one by one. Gradients of
the first and second order go through torch.autograd on both sides."""
import numpy as np
import pytest
import torch

import keops.torch as kt

RNG = np.random.default_rng(11)
M, N = 23, 37


def tensor(*shape):
    return torch.tensor(RNG.standard_normal(shape) / 4, dtype=torch.float64,
                        requires_grad=True)


def shape_text(shape):
    return "[" + ",".join(str(s) for s in shape) + "]"


CASES = [
    # name, shape a, shape b, axes a, axes b, permute, einsum of (i, j) pairs
    ("vector . matrix 32 . 32x128", (32,), (32, 128), (0,), (0,), None,
     "ia,jab->ijb"),
    ("matrix . vector 12x40 . 40", (12, 40), (40,), (1,), (0,), None,
     "iab,jb->ija"),
    ("two axes, permuted", (4, 5, 6), (6, 4, 7), (0, 2), (1, 0), (1, 0),
     "iabc,jcad->ijdb"),
    ("outer product 24 x 40", (24,), (40,), (), (), None, "ia,jb->ijab"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("axis", [0, 1])
def test_wide_tensordot_and_gradients_match_einsum(case, axis):
    _, shape_a, shape_b, axes_a, axes_b, permute, einsum = case
    a = tensor(M, int(np.prod(shape_a)))
    b = tensor(N, int(np.prod(shape_b)))
    arguments = [shape_text(s) for s in (shape_a, shape_b, axes_a, axes_b)]
    if permute:
        arguments.append(shape_text(permute))
    formula = "TensorDot(a,b,%s)" % ",".join(arguments)
    dense = torch.einsum(einsum, a.reshape(M, *shape_a), b.reshape(N, *shape_b))
    dense = dense.reshape(M, N, -1)
    out_dim = dense.shape[-1]
    # A factor of the pairs, so that the sum is not a product of sums.
    wi, wj = tensor(M, 1), tensor(N, 1)
    routine = kt.Genred("Exp(-Square(p-q))*" + formula,
                        ["a=Vi(%d)" % a.shape[1], "b=Vj(%d)" % b.shape[1],
                         "p=Vi(1)", "q=Vj(1)"], axis=axis)
    ours = routine(a, b, wi, wj)
    factor = torch.exp(-(wi - wj.T) ** 2)[..., None]
    expected = (factor * dense).sum(axis)  # axis 0: over i, as in pykeops
    assert ours.shape == (N if axis == 0 else M, out_dim)
    torch.testing.assert_close(ours, expected, rtol=1e-12, atol=1e-12)
    g = torch.tensor(RNG.standard_normal(ours.shape), dtype=torch.float64)
    grads = torch.autograd.grad(ours, [a, b, wi], g, create_graph=True)
    dense_grads = torch.autograd.grad(expected, [a, b, wi], g, create_graph=True)
    for got, want in zip(grads, dense_grads):
        torch.testing.assert_close(got, want, rtol=1e-11, atol=1e-11)
    # Second order: the gradient in a, differentiated in b.
    h = torch.tensor(RNG.standard_normal(a.shape), dtype=torch.float64)
    second = torch.autograd.grad(grads[0], b, h)[0]
    dense_second = torch.autograd.grad(dense_grads[0], b, h)[0]
    torch.testing.assert_close(second, dense_second, rtol=1e-11, atol=1e-11)


def test_wide_matvecmult_in_a_max_reduction_and_its_argmax():
    """MatVecMult of 12x40 (480 products, loops) inside a non-sum reduction."""
    a, v = tensor(M, 480), tensor(N, 40)
    routine = kt.Genred("Sum(MatVecMult(a,v))", ["a=Vi(480)", "v=Vj(40)"],
                        reduction_op="Max_ArgMax", axis=0)
    values, indices = routine(a.detach(), v.detach())
    dense = torch.einsum("iab,jb->ija", a.detach().reshape(M, 12, 40),
                         v.detach()).sum(-1)
    expected_values, expected_indices = dense.max(0)
    torch.testing.assert_close(values[:, 0], expected_values, rtol=1e-12, atol=1e-12)
    assert torch.equal(indices[:, 0], expected_indices)


def test_float32_tensordot_loops_match_float64():
    a, b = tensor(M, 32), tensor(N, 4096)
    routine = kt.Genred("TensorDot(a,b,(32,),(32,128),(0,),(0,))",
                        ["a=Vi(32)", "b=Vj(4096)"], axis=1)
    ours = routine(a.detach().float(), b.detach().float())
    expected = torch.einsum("ia,jab->ib", a.detach(), b.detach().reshape(N, 32, 128))
    torch.testing.assert_close(ours.double(), expected, rtol=1e-5, atol=1e-5)


def test_sums_over_wide_tensordots_and_a_parameters_gradient():
    """Sums over the components of wide tensordots (feature loops with
    tensordot leaves, each component from the operands): SqNorm2 of a
    MatVecMult of 12x40, and the gradient in a parameter p of a Gaussian
    times an outer product of 24 x 40, whose 960 components it sums."""
    a, v = tensor(M, 480), tensor(N, 40)
    norms = kt.Genred("SqNorm2(MatVecMult(a,v))", ["a=Vi(480)", "v=Vj(40)"],
                      axis=1)(a, v)
    matvec = torch.einsum("iab,jb->ija", a.reshape(M, 12, 40), v)
    torch.testing.assert_close(norms, (matvec ** 2).sum((1, 2))[:, None],
                               rtol=1e-12, atol=1e-12)

    x, y = tensor(M, 24), tensor(N, 40)
    wi, wj = tensor(M, 1), tensor(N, 1)
    p = torch.tensor([0.7], dtype=torch.float64, requires_grad=True)
    ours = kt.Genred("Exp(-p*Square(s-t))*TensorProd(x,y)",
                     ["x=Vi(24)", "y=Vj(40)", "s=Vi(1)", "t=Vj(1)", "p=Pm(1)"],
                     axis=1)(x, y, wi, wj, p)
    dense = (torch.exp(-p * (wi - wj.T) ** 2)[..., None]
             * torch.einsum("ia,jb->ijab", x, y).reshape(M, N, 960)).sum(1)
    torch.testing.assert_close(ours, dense, rtol=1e-12, atol=1e-12)
    g = torch.tensor(RNG.standard_normal(ours.shape), dtype=torch.float64)
    torch.testing.assert_close(torch.autograd.grad(ours, p, g)[0],
                               torch.autograd.grad(dense, p, g)[0],
                               rtol=1e-11, atol=1e-11)
