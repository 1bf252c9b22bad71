# kernel_interpolation.py - Gaussian kernel interpolation of a 2-D function with KernelSolve.
# SPDX-License-Identifier: MIT
"""Fits f(x) = sin(3 x0) cos(2 x1) from n samples by solving
(alpha Id + K) a = f(x) with the conjugate gradient of KernelSolve, then
predicts at new points with a Genred and prints the test error."""
import sys

import numpy as np

from keops.numpy import Genred, KernelSolve

KERNEL = "Exp(-SqDist(x,y)*g)*a"


def target(points):
    return (np.sin(3 * points[:, 0]) * np.cos(2 * points[:, 1]))[:, None]


def main(n=2000, alpha=1e-2, sigma=0.1):
    rng = np.random.default_rng(0)
    x = rng.random((n, 2))
    gamma = np.array([1 / (2 * sigma ** 2)])
    solve = KernelSolve(KERNEL, ["x = Vi(2)", "y = Vj(2)", "a = Vj(1)", "g = Pm(1)"],
                        "a", axis=1)
    coefficients = solve(x, x, target(x), gamma, alpha=alpha, eps=1e-6)
    predict = Genred(KERNEL, ["x = Vi(2)", "y = Vj(2)", "a = Vj(1)", "g = Pm(1)"],
                     axis=1)
    test = rng.random((1000, 2)) * 0.8 + 0.1
    error = np.abs(predict(test, x, coefficients, gamma) - target(test)).max()
    print("kernel interpolation of %d points: max test error %.2e" % (n, error))
    return error


if __name__ == "__main__":
    main(*(int(v) for v in sys.argv[1:]))
