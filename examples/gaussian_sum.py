# gaussian_sum.py - The seed's sample: a Gaussian kernel sum and its gradient, with LazyTensor.
# SPDX-License-Identifier: MIT
"""a_i = sum_j exp(-|x_i - y_j|^2) on the CPU, then d/dx sum_i a_i^2 through
torch.autograd, at a size that runs in seconds on a laptop."""
import sys
import time

import torch

from keops.torch import LazyTensor


def main(n=50_000, m=100_000, seed=0):
    torch.manual_seed(seed)
    x = torch.randn(n, 3, requires_grad=True)
    y = torch.randn(m, 3)
    x_i = LazyTensor(x[:, None, :])  # x_i.shape = (n, 1, 3)
    y_j = LazyTensor(y[None, :, :])  # y_j.shape = (1, m, 3)
    d_ij = ((x_i - y_j) ** 2).sum(dim=2)  # symbolic (n, m, 1) squared distances
    k_ij = (-d_ij).exp()  # symbolic Gaussian kernel matrix
    start = time.perf_counter()
    a_i = k_ij.sum(dim=1)  # a real tensor: a_i.shape = (n, 1)
    forward = time.perf_counter() - start
    start = time.perf_counter()
    (g_x,) = torch.autograd.grad((a_i ** 2).sum(), [x])  # autograd through KeOps
    backward = time.perf_counter() - start
    print("a_i: %s, forward %.2f s (%.2e pairs/s)" % (tuple(a_i.shape), forward,
                                                       n * m / forward))
    print("g_x: %s, gradient %.2f s" % (tuple(g_x.shape), backward))
    return x, y, a_i, g_x


if __name__ == "__main__":
    main(*(int(v) for v in sys.argv[1:]))
