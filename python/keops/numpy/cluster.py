# keops/numpy/cluster.py - Block-sparse helpers for NumPy arrays.
# SPDX-License-Identifier: MIT
"""keops.numpy.cluster, as pykeops.numpy.cluster (see keops.common.cluster)."""
from keops.common.cluster import (cluster_centroids, cluster_ranges,
                                  cluster_ranges_centroids, from_matrix, grid_cluster,
                                  sort_clusters, swap_axes)

__all__ = ["grid_cluster", "sort_clusters", "cluster_ranges", "cluster_centroids",
           "cluster_ranges_centroids", "from_matrix", "swap_axes"]
