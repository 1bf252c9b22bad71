# keops/common/cluster.py - Block-sparse helpers on NumPy arrays.
# SPDX-License-Identifier: MIT
"""The cluster helpers of pykeops: put points into clusters (grid_cluster),
sort them by cluster (sort_clusters), describe the clusters by index ranges
and centroids (cluster_ranges, cluster_centroids, cluster_ranges_centroids)
and turn a boolean cluster-interaction matrix into the `ranges` 6-tuple of a
block-sparse reduction (from_matrix, swap_axes). keops.numpy.cluster exposes
them as is; keops.torch.cluster converts tensors."""
import numpy as np


def grid_cluster(x, size):
    """Labels (N,) in [0, C) of the points x (N, D) by cubic cells of side
    `size` (a number or one per dimension); non-empty cells are numbered in
    lexicographic order."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError("grid_cluster: x must have shape (N, D), got %s" % (x.shape,))
    size = np.broadcast_to(np.asarray(size, dtype=np.float64), (x.shape[1],))
    if np.any(size <= 0):
        raise ValueError("grid_cluster: size must be positive, got %s" % (size,))
    cells = np.floor(x / size).astype(np.int64)
    if len(cells) == 0:
        return np.zeros(0, dtype=np.int64)
    cells -= cells.min(0)
    # One integer per cell, lexicographic (first coordinate most significant).
    extent = cells.max(0) + 1
    strides = np.cumprod(np.concatenate([extent[1:], [1]])[::-1])[::-1]
    _, labels = np.unique(cells @ strides, return_inverse=True)
    return labels.reshape(-1).astype(np.int64)


def sort_clusters(x, lab):
    """x (an array or a tuple of arrays with N rows) and lab sorted by label;
    NumPy arrays or CPU tensors (indexed directly, keeping their autograd)."""
    order = np.argsort(np.asarray(lab), kind="stable")
    if isinstance(x, tuple):
        return tuple(a[order] for a in x), lab[order]
    return x[order], lab[order]


def _counts(lab, Nlab):
    lab = np.asarray(lab)
    return np.bincount(lab) if Nlab is None else np.asarray(Nlab)


def cluster_ranges(lab, Nlab=None):
    """The [start, end) rows (C, 2) of each label in a sorted label vector."""
    counts = _counts(lab, Nlab)
    ends = np.cumsum(counts)
    return np.stack([ends - counts, ends], axis=1).astype(np.int64)


def cluster_centroids(x, lab, Nlab=None, weights=None, weights_c=None):
    """The (weighted) barycenters (C, D) of the points of each label."""
    x, lab = np.asarray(x), np.asarray(lab)
    count = len(_counts(lab, Nlab))
    w = np.ones(len(x), dtype=x.dtype) if weights is None else np.asarray(weights)
    if weights_c is None:
        weights_c = np.bincount(lab, weights=w, minlength=count)
    sums = np.stack([np.bincount(lab, weights=w * x[:, d], minlength=count)
                     for d in range(x.shape[1])], axis=1)
    return (sums / np.asarray(weights_c).reshape(-1, 1)).astype(x.dtype)


def cluster_ranges_centroids(x, lab, weights=None, min_weight=1e-9):
    """(ranges, centroids, weights per cluster) for sorted labels."""
    x, lab = np.asarray(x), np.asarray(lab)
    w = np.ones(len(x), dtype=x.dtype) if weights is None else np.asarray(weights)
    weights_c = np.bincount(lab, weights=w)
    centroids = cluster_centroids(x, lab, weights=w,
                                  weights_c=np.maximum(weights_c, min_weight))
    return cluster_ranges(lab), centroids, weights_c.astype(x.dtype)


def from_matrix(ranges_i, ranges_j, keep):
    """The ranges 6-tuple of a block-sparse reduction where row cluster a
    interacts with column cluster b when keep[a, b] (a boolean matrix)."""
    ranges_i, ranges_j, keep = (np.asarray(ranges_i), np.asarray(ranges_j),
                                np.asarray(keep, dtype=bool))
    if keep.shape != (len(ranges_i), len(ranges_j)):
        raise ValueError("from_matrix: keep must have shape (%d, %d) (row clusters, "
                         "column clusters), got %s"
                         % (len(ranges_i), len(ranges_j), keep.shape))
    rows, cols = np.nonzero(keep)        # row-major: grouped by row cluster
    cols_t, rows_t = np.nonzero(keep.T)  # grouped by column cluster
    redranges_j = ranges_j[cols].reshape(-1, 2)
    redranges_i = ranges_i[rows_t].reshape(-1, 2)
    slices_i = np.cumsum(keep.sum(1)).astype(np.int64)
    slices_j = np.cumsum(keep.sum(0)).astype(np.int64)
    return (ranges_i, slices_i, redranges_j, ranges_j, slices_j, redranges_i)


def swap_axes(ranges):
    """The ranges of the transposed problem (i and j exchanged)."""
    ranges_i, slices_i, redranges_j, ranges_j, slices_j, redranges_i = ranges
    return (ranges_j, slices_j, redranges_i, ranges_i, slices_i, redranges_j)
