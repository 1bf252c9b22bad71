# knn_classification.py - k-nearest-neighbour classification with argKmin.
# SPDX-License-Identifier: MIT
"""Classifies points of two interleaved spirals by a vote of their K nearest
training points (LazyTensor argKmin), and checks the neighbours against brute
force on a sample."""
import sys

import numpy as np

from keops.numpy import LazyTensor


def spirals(n, rng):
    t = rng.random(n) * 3 * np.pi
    label = rng.integers(0, 2, n)
    radius = t / (3 * np.pi)
    angle = t + np.pi * label
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    return points + 0.01 * rng.standard_normal((n, 2)), label


def main(n_train=20000, n_test=5000, k=10):
    rng = np.random.default_rng(0)
    train, train_label = spirals(n_train, rng)
    test, test_label = spirals(n_test, rng)
    x_i = LazyTensor(test[:, None, :])
    y_j = LazyTensor(train[None, :, :])
    neighbours = ((x_i - y_j) ** 2).sum(dim=2).argKmin(k, dim=1)  # (n_test, k)
    predicted = (train_label[neighbours].mean(1) > 0.5).astype(int)
    accuracy = (predicted == test_label).mean()
    sample = rng.choice(n_test, 20, replace=False)
    brute = np.argsort(((test[sample, None] - train[None]) ** 2).sum(-1), 1)[:, :k]
    assert (np.sort(neighbours[sample], 1) == np.sort(brute, 1)).all()
    print("%d-NN classification of %d points: accuracy %.3f" % (k, n_test, accuracy))
    return accuracy


if __name__ == "__main__":
    main(*(int(v) for v in sys.argv[1:]))
