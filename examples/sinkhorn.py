# sinkhorn.py - An entropic optimal transport (Sinkhorn) loss with logsumexp.
# SPDX-License-Identifier: MIT
"""Sinkhorn iterations in the log domain between two point clouds: the dual
potentials are updated with LazyTensor logsumexp reductions, and the loss is
differentiated with respect to the source points through torch.autograd."""
import math
import sys

import torch

from keops.torch import LazyTensor


def sinkhorn_loss(x, y, epsilon=0.05, iterations=30):
    n, m = x.shape[0], y.shape[0]
    x_i, y_j = LazyTensor(x[:, None, :]), LazyTensor(y[None, :, :])
    cost = ((x_i - y_j) ** 2).sum(dim=2) / 2
    f = torch.zeros(n, 1, dtype=x.dtype)
    g = torch.zeros(m, 1, dtype=x.dtype)
    log_a, log_b = -math.log(n), -math.log(m)
    for _ in range(iterations):
        g_j = LazyTensor(g[None, :, :])
        f = -epsilon * ((g_j - cost) / epsilon + log_b).logsumexp(dim=1)
        f_i = LazyTensor(f[:, None, :])
        g = -epsilon * ((f_i - cost) / epsilon + log_a).logsumexp(dim=0)
    return f.mean() + g.mean()


def main(n=1000, m=1500):
    torch.manual_seed(0)
    x = torch.randn(n, 2, dtype=torch.float64, requires_grad=True)
    y = torch.randn(m, 2, dtype=torch.float64) + torch.tensor([2.0, 0.0],
                                                              dtype=torch.float64)
    loss = sinkhorn_loss(x, y)
    (gradient,) = torch.autograd.grad(loss, [x])
    print("Sinkhorn loss %.4f; the gradient pushes x by %.3f on average along +x0"
          % (float(loss), float(-gradient[:, 0].mean() * n)))
    return loss, gradient


if __name__ == "__main__":
    main(*(int(v) for v in sys.argv[1:]))
