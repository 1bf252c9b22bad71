# test_examples.py - The examples/ scripts run and give right answers (small sizes).
# SPDX-License-Identifier: MIT
import math
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))

import distributed  # noqa: E402
import gaussian_sum  # noqa: E402
import kernel_interpolation  # noqa: E402
import knn_classification  # noqa: E402
import sinkhorn  # noqa: E402


def test_gaussian_sum_matches_dense_torch():
    x, y, a_i, g_x = gaussian_sum.main(n=500, m=700)
    dense = torch.exp(-((x[:, None] - y[None]) ** 2).sum(-1)).sum(1, keepdim=True)
    (dense_g,) = torch.autograd.grad((dense ** 2).sum(), [x])
    torch.testing.assert_close(a_i, dense)
    torch.testing.assert_close(g_x, dense_g, rtol=1e-4, atol=1e-4)


def test_distributed_alone_and_under_torchrun():
    assert distributed.main(n=501, m=300, check=True) < 1e-5
    ran = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone",
         "--nproc-per-node", "2", distributed.__file__, "--check", "--x-rows", "501",
         "--y-rows", "300"], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.count("relative differences with one process") == 2


def test_kernel_interpolation_fits():
    assert kernel_interpolation.main(n=1000) < 0.05


def test_knn_classifies_spirals():
    assert knn_classification.main(n_train=3000, n_test=500, k=5) > 0.9


def test_sinkhorn_matches_dense_iterations():
    torch.manual_seed(1)
    x = torch.randn(200, 2, dtype=torch.float64)
    y = torch.randn(300, 2, dtype=torch.float64) + 1.0
    ours = sinkhorn.sinkhorn_loss(x, y, iterations=20)
    cost = ((x[:, None] - y[None]) ** 2).sum(-1) / 2
    f, g = torch.zeros(200, dtype=torch.float64), torch.zeros(300, dtype=torch.float64)
    for _ in range(20):
        f = -0.05 * torch.logsumexp((g[None] - cost) / 0.05 - math.log(300), 1)
        g = -0.05 * torch.logsumexp((f[:, None] - cost) / 0.05 - math.log(200), 0)
    torch.testing.assert_close(ours, f.mean() + g.mean())
