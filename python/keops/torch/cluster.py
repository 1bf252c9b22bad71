# keops/torch/cluster.py - Block-sparse helpers for PyTorch tensors.
# SPDX-License-Identifier: MIT
"""keops.torch.cluster, as pykeops.torch.cluster: the helpers of
keops.common.cluster on tensors (labels and ranges come back as int64
tensors, centroids in the dtype of the points; sort_clusters indexes the
tensors themselves, so it keeps their autograd history)."""
import numpy as np
import torch

from keops.common import cluster as _common

__all__ = ["grid_cluster", "sort_clusters", "cluster_ranges", "cluster_centroids",
           "cluster_ranges_centroids", "from_matrix", "swap_axes"]

swap_axes = _common.swap_axes
sort_clusters = _common.sort_clusters  # indexes the tensors themselves


def _numpy(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x


def _tensors(result):
    if isinstance(result, tuple):
        return tuple(_tensors(r) for r in result)
    return torch.from_numpy(np.ascontiguousarray(result))


def grid_cluster(x, size):
    return _tensors(_common.grid_cluster(_numpy(x), _numpy(size)))


def cluster_ranges(lab, Nlab=None):
    return _tensors(_common.cluster_ranges(_numpy(lab), _numpy(Nlab)))


def cluster_centroids(x, lab, Nlab=None, weights=None, weights_c=None):
    return _tensors(_common.cluster_centroids(_numpy(x), _numpy(lab), _numpy(Nlab),
                                              _numpy(weights), _numpy(weights_c)))


def cluster_ranges_centroids(x, lab, weights=None, min_weight=1e-9):
    return _tensors(_common.cluster_ranges_centroids(_numpy(x), _numpy(lab),
                                                     _numpy(weights), min_weight))


def from_matrix(ranges_i, ranges_j, keep):
    return _tensors(_common.from_matrix(_numpy(ranges_i), _numpy(ranges_j),
                                        _numpy(keep)))
