# dense_kernels.py - The dense reference kernels of pykeops's utils modules.
# SPDX-License-Identifier: MIT
"""The squared distances and radial kernels (their values, logarithms and
derivatives with respect to the squared distance) that pykeops's
numpy.utils and torch.utils compute densely, written once for any array
module with NumPy's names (numpy or torch), which the utils modules pass."""

RADIAL = {
    "gaussian": lambda lib, sq, s: lib.exp(-sq / (s * s)),
    "laplacian": lambda lib, sq, s: lib.exp(-lib.sqrt(sq) / s),
    "cauchy": lambda lib, sq, s: 1.0 / (1 + sq / (s * s)),
    "inverse_multiquadric": lambda lib, sq, s: 1.0 / lib.sqrt(1 + sq / (s * s)),
}
LOG_RADIAL = {
    "gaussian": lambda lib, sq, s: -sq / (s * s),
    "laplacian": lambda lib, sq, s: -lib.sqrt(sq) / s,
    "cauchy": lambda lib, sq, s: -lib.log(1 + sq / (s * s)),
    "inverse_multiquadric": lambda lib, sq, s: -0.5 * lib.log(1.0 + sq / (s * s)),
}
# d kernel / d sq (pykeops's grad_np_kernel).
GRAD_RADIAL = {
    "gaussian": lambda lib, sq, s: -lib.exp(-sq / (s * s)) / (s * s),
    "laplacian": lambda lib, sq, s: (lambda t: lib.exp(t) / (2 * s * s * t))(
        -lib.sqrt(sq / (s * s))),
    "cauchy": lambda lib, sq, s: -1.0 / (s * (sq / (s * s) + 1)) ** 2,
    "inverse_multiquadric": lambda lib, sq, s: -0.5 / ((s ** 2) * ((sq / (s * s) + 1) ** 1.5)),
}


def squared_distances(x, y):
    """|x_i - y_j|^2 for the rows of x (N, D) and y (M, D), as
    |x_i|^2 + |y_j|^2 - 2 <x_i, y_j>."""
    x_norm = (x ** 2).sum(1).reshape(-1, 1)
    y_norm = (y ** 2).sum(1).reshape(1, -1)
    return x_norm + y_norm - 2.0 * (x @ y.T)


def radial(table, lib, x, y, s, kernel):
    """`table`'s function of the squared distances of x and y at scale s."""
    if kernel not in table:
        raise ValueError("unknown kernel %r: use one of %s"
                         % (kernel, ", ".join(sorted(table))))
    return table[kernel](lib, squared_distances(x, y), s)
