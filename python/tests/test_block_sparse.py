# test_block_sparse.py - ranges= reductions and the cluster helpers.
# SPDX-License-Identifier: MIT
"""Block-sparse reductions must equal the dense reduction restricted to the
kept blocks (a masked dense matrix), for every direction, reduction and
derivative; the cluster helpers are checked against brute force."""
import numpy as np
import pytest
import torch

import keops.numpy.cluster as npc
import keops.torch.cluster as tc
from keops.numpy import Genred, KernelSolve
from keops.torch import Genred as TorchGenred

XY = ["x = Vi(2)", "y = Vj(2)"]


def clustered(seed=0, m=300, n=400, cutoff=0.35):
    """Sorted points, their ranges 6-tuple and the dense mask of kept pairs."""
    rng = np.random.default_rng(seed)
    x, y = rng.random((m, 2)), rng.random((n, 2))
    x, x_labels = npc.sort_clusters(x, npc.grid_cluster(x, 0.25))
    y, y_labels = npc.sort_clusters(y, npc.grid_cluster(y, 0.25))
    ranges_i, centroids_i, _ = npc.cluster_ranges_centroids(x, x_labels)
    ranges_j, centroids_j, _ = npc.cluster_ranges_centroids(y, y_labels)
    distances = ((centroids_i[:, None] - centroids_j[None]) ** 2).sum(-1)
    keep = distances < cutoff ** 2
    mask = keep[x_labels][:, y_labels]
    return x, y, npc.from_matrix(ranges_i, ranges_j, keep), mask


def sqdist(x, y):
    return ((x[:, None] - y[None]) ** 2).sum(-1)


def test_fixture_keeps_some_blocks_only():
    _, _, _, mask = clustered()
    assert 0.1 < mask.mean() < 0.9


@pytest.mark.parametrize("axis", [0, 1])
def test_sum_equals_masked_dense_sum(axis):
    x, y, ranges, mask = clustered()
    b = np.random.default_rng(1).random((len(y) if axis == 1 else len(x), 3))
    k = np.exp(-sqdist(x, y)) * mask
    aliases = XY + ["b = %s(3)" % ("Vj" if axis == 1 else "Vi")]
    out = Genred("Exp(-SqDist(x,y))*b", aliases, axis=axis)(x, y, b, ranges=ranges)
    np.testing.assert_allclose(out, k @ b if axis == 1 else k.T @ b, rtol=1e-12)


@pytest.mark.parametrize("reduction_op, reference", [
    ("Min", lambda d: d.min(1, keepdims=True)),
    ("ArgMin", lambda d: d.argmin(1)[:, None]),
    ("ArgKMin", lambda d: np.argsort(d, 1, kind="stable")[:, :4]),
    ("LogSumExp", lambda d: np.log(np.exp(-d).sum(1, keepdims=True))),
])
def test_selections_return_absolute_column_indices(reduction_op, reference):
    x, y, ranges, mask = clustered(seed=2)
    d = np.where(mask, sqdist(x, y), np.inf)
    formula = "-SqDist(x,y)" if reduction_op == "LogSumExp" else "SqDist(x,y)"
    routine = Genred(formula, XY, reduction_op=reduction_op, axis=1,
                     opt_arg=4 if reduction_op == "ArgKMin" else None)
    out = routine(x, y, ranges=ranges)
    rows = mask.any(1)
    np.testing.assert_allclose(out[rows], reference(d)[rows], rtol=1e-12)


def test_rows_outside_every_cluster_reduce_over_nothing():
    rng = np.random.default_rng(3)
    x, y, b = rng.random((10, 2)), rng.random((8, 2)), rng.random((8, 1))
    ranges_i, ranges_j = np.array([[2, 5], [7, 9]]), np.array([[0, 3], [3, 8]])
    ranges = npc.from_matrix(ranges_i, ranges_j, np.array([[True, False], [False, True]]))
    out = Genred("Exp(-SqDist(x,y))*b", XY + ["b = Vj(1)"], axis=1)(x, y, b,
                                                                    ranges=ranges)
    k = np.exp(-sqdist(x, y))
    expected = np.zeros((10, 1))
    expected[2:5] = k[2:5, 0:3] @ b[0:3]
    expected[7:9] = k[7:9, 3:8] @ b[3:8]
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_torch_gradients_match_masked_dense_gradients():
    x, y, ranges, mask = clustered(m=60, n=50, seed=4)
    x, y = (torch.tensor(a, requires_grad=True) for a in (x, y))
    b = torch.rand(len(y), 1, dtype=torch.float64, requires_grad=True)
    torch_ranges = tuple(torch.from_numpy(r) for r in ranges)
    routine = TorchGenred("Exp(-SqDist(x,y))*b", XY + ["b = Vj(1)"], axis=1)
    out = routine(x, y, b, ranges=torch_ranges)
    k = torch.exp(-((x[:, None] - y[None]) ** 2).sum(-1)) * torch.from_numpy(mask)
    ref = k @ b
    torch.testing.assert_close(out, ref)
    eta = torch.rand_like(ref)
    for g, r in zip(torch.autograd.grad((out * eta).sum(), (x, y, b)),
                    torch.autograd.grad((ref * eta).sum(), (x, y, b))):
        torch.testing.assert_close(g, r)
    small = [t.detach()[:12].clone().requires_grad_() for t in (x, y, b)]
    small_ranges = tc.from_matrix(torch.tensor([[0, 6], [6, 12]]),
                                  torch.tensor([[0, 5], [5, 12]]),
                                  torch.tensor([[True, False], [True, True]]))
    assert torch.autograd.gradgradcheck(
        lambda *a: routine(*a, ranges=small_ranges), small)


def test_kernel_solve_with_ranges_matches_masked_dense_solve():
    x, _, ranges, mask = clustered(m=80, n=80, seed=5)
    # Symmetric problem: y = x, so the kept blocks of i and j coincide.
    ranges_i = ranges[0]
    labels = np.repeat(np.arange(len(ranges_i)), np.diff(ranges_i, axis=1)[:, 0])
    centroids = npc.cluster_centroids(x, labels)
    keep = sqdist(centroids, centroids) < 0.35 ** 2
    sym_ranges = npc.from_matrix(ranges_i, ranges_i, keep)
    sym_mask = keep[labels][:, labels]
    b = np.random.default_rng(6).random((80, 1))
    alpha = 80.0  # Dominant diagonal: the masked system stays definite.
    solver = KernelSolve("Exp(-SqDist(x,y))*a", ["x = Vi(2)", "y = Vj(2)", "a = Vj(1)"],
                         "a", axis=1)
    out = solver(x, x, b, alpha=alpha, eps=1e-12, ranges=sym_ranges)
    matrix = np.exp(-sqdist(x, x)) * sym_mask + alpha * np.eye(80)
    np.testing.assert_allclose(out, np.linalg.solve(matrix, b), rtol=1e-8)


def test_bad_ranges_raise_clear_errors():
    rng = np.random.default_rng(7)
    x, y = rng.random((10, 2)), rng.random((8, 2))
    routine = Genred("SqDist(x,y)", XY, axis=1)
    ok = npc.from_matrix(np.array([[0, 10]]), np.array([[0, 8]]), np.array([[True]]))
    with pytest.raises(ValueError, match="tuple of 6"):
        routine(x, y, ranges=ok[:3])
    with pytest.raises(ValueError, match=r"ranges_i must be an integer array of shape"):
        routine(x, y, ranges=(np.zeros((1, 3), int),) + ok[1:])
    outside = npc.from_matrix(np.array([[0, 10]]), np.array([[0, 9]]), np.array([[True]]))
    with pytest.raises(ValueError, match=r"column range 0 is \[0, 9\), outside \[0, 8\)"):
        routine(x, y, ranges=outside)
    overlap = npc.from_matrix(np.array([[0, 6], [4, 10]]), np.array([[0, 8]]),
                              np.ones((2, 1), bool))
    with pytest.raises(ValueError, match="overlap at row 4"):
        routine(x, y, ranges=overlap)


def test_grid_cluster_labels_points_by_cell():
    x = np.random.default_rng(8).random((200, 3)) * 4 - 2
    labels = npc.grid_cluster(x, 1.0)
    cells = np.floor(x).astype(int)
    # Same cell <=> same label.
    same_cell = (cells[:, None] == cells[None]).all(-1)
    np.testing.assert_array_equal(same_cell, labels[:, None] == labels[None])
    assert set(labels) == set(range(labels.max() + 1))


def test_cluster_ranges_and_centroids():
    rng = np.random.default_rng(9)
    x, labels = npc.sort_clusters(rng.random((50, 2)), rng.integers(0, 5, 50))
    weights = rng.random(50)
    ranges, centroids, weights_c = npc.cluster_ranges_centroids(x, labels, weights)
    for c in range(5):
        rows = labels == c
        np.testing.assert_array_equal(np.nonzero(rows)[0][[0, -1]] + [0, 1], ranges[c])
        np.testing.assert_allclose(weights_c[c], weights[rows].sum())
        np.testing.assert_allclose(centroids[c], np.average(x[rows], axis=0,
                                                             weights=weights[rows]))


def test_from_matrix_and_swap_axes_describe_the_kept_blocks():
    ranges_i, ranges_j = np.array([[0, 2], [2, 5], [5, 6]]), np.array([[0, 4], [4, 7]])
    keep = np.array([[True, False], [True, True], [False, True]])
    ranges = npc.from_matrix(ranges_i, ranges_j, keep)
    np.testing.assert_array_equal(ranges[1], [1, 3, 4])
    np.testing.assert_array_equal(ranges[2], [[0, 4], [0, 4], [4, 7], [4, 7]])
    np.testing.assert_array_equal(ranges[4], [2, 4])
    np.testing.assert_array_equal(ranges[5], [[0, 2], [2, 5], [2, 5], [5, 6]])
    swapped = npc.swap_axes(ranges)
    for a, b in zip(swapped, ranges[3:] + ranges[:3]):
        np.testing.assert_array_equal(a, b)


def test_torch_helpers_return_tensors():
    x = torch.rand(40, 2, dtype=torch.float64)
    labels = tc.grid_cluster(x, 0.5)
    x_sorted, labels_sorted = tc.sort_clusters(x, labels)
    ranges, centroids, _ = tc.cluster_ranges_centroids(x_sorted, labels_sorted)
    assert isinstance(ranges, torch.Tensor) and centroids.dtype == torch.float64
    for c, (start, end) in enumerate(ranges.tolist()):
        torch.testing.assert_close(centroids[c], x_sorted[start:end].mean(0))


def test_lazy_tensor_ranges_attribute_and_keyword():
    from keops.numpy import LazyTensor
    x, y, ranges, mask = clustered(seed=10)
    b = np.random.default_rng(11).random((len(y), 1))
    k = (-LazyTensor(x[:, None, :]).sqdist(LazyTensor(y[None, :, :]))).exp()
    dense = np.exp(-sqdist(x, y)) * mask
    np.testing.assert_allclose(k.sum(1, ranges=ranges), dense.sum(1, keepdims=True),
                               rtol=1e-12)
    k.ranges = ranges
    np.testing.assert_allclose(k @ b, dense @ b, rtol=1e-12)
    np.testing.assert_allclose(k.t() @ np.ones((len(x), 1)),
                               dense.T @ np.ones((len(x), 1)), rtol=1e-12)
