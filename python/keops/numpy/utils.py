# utils.py - keops.numpy.utils: pykeops.numpy.utils's helpers.
# SPDX-License-Identifier: MIT
"""The names of pykeops.numpy.utils that user code imports: dense reference
kernels (squared_distances, np_kernel, log_np_kernel, grad_np_kernel, ...),
log_sum_exp, WarmUpGpu and numpytools."""
import numpy as np

from keops import config
from keops.common import dense_kernels
from keops.common.dense_kernels import squared_distances
from keops.numpy import Genred, KernelSolve
from keops.numpy.cluster import swap_axes

__all__ = ["numpytools", "squared_distances", "differences", "np_kernel_sphere",
           "np_kernel", "log_np_kernel", "grad_np_kernel", "chain_rules",
           "log_sum_exp", "WarmUpGpu"]


class numpytools:
    """pykeops's array helpers for NumPy."""
    norm = np.linalg.norm
    arraysum = np.sum
    exp = np.exp
    log = np.log
    Genred = Genred
    KernelSolve = KernelSolve
    swap_axes = swap_axes
    arraytype = np.ndarray
    float_types = [float, np.float16, np.float32, np.float64]
    is_tensor = staticmethod(lambda x: isinstance(x, np.ndarray))
    copy = staticmethod(np.copy)
    eq = staticmethod(np.equal)
    transpose = staticmethod(lambda x: x.T)
    permute = staticmethod(lambda x, *axes: x.transpose(*axes))
    contiguous = staticmethod(np.ascontiguousarray)
    numpy = staticmethod(lambda x: x)
    tile = staticmethod(np.tile)
    solve = staticmethod(np.linalg.solve)
    size = staticmethod(lambda x: x.size)
    view = staticmethod(np.reshape)
    long = staticmethod(lambda x: x.astype("int64"))
    dtype = staticmethod(lambda x: x.dtype)
    dtypename = staticmethod(lambda dtype: dtype.name)
    rand = staticmethod(lambda m, n, dtype: np.random.rand(m, n).astype(dtype))
    randn = staticmethod(lambda m, n, dtype: np.random.randn(m, n).astype(dtype))
    zeros = staticmethod(lambda shape, dtype, device=None, requires_grad=None:
                         np.zeros(shape, dtype=dtype))
    empty = staticmethod(lambda shape, dtype, device=None, requires_grad=None:
                         np.empty(shape, dtype=dtype))
    eye = staticmethod(lambda n, dtype: np.eye(n, dtype=dtype))
    array = staticmethod(lambda x, dtype, device=None: np.array(x).astype(dtype))
    device = staticmethod(lambda x: "cpu")


def differences(x, y):
    """x_i - y_j per component: an array (D, N, M)."""
    return x.T[:, :, np.newaxis] - y.T[:, np.newaxis, :]


def np_kernel_sphere(nalpha, nbeta, s, kernel):
    """Kernels on unit vectors (binet, linear, gaussian_unoriented,
    gaussian_oriented) of the scalar products of their rows."""
    prs = nalpha @ nbeta.T
    kernels = {"binet": lambda: prs ** 2, "linear": lambda: prs,
               "gaussian_unoriented": lambda: np.exp((-2.0 + 2.0 * prs * prs) / (s * s)),
               "gaussian_oriented": lambda: np.exp((-2.0 + 2.0 * prs) / (s * s))}
    if kernel not in kernels:
        raise ValueError("unknown kernel %r: use one of %s"
                         % (kernel, ", ".join(sorted(kernels))))
    return kernels[kernel]()


def np_kernel(x, y, s, kernel):
    """The dense kernel matrix (gaussian, laplacian, cauchy or
    inverse_multiquadric) of the rows of x and y at scale s."""
    return dense_kernels.radial(dense_kernels.RADIAL, np, x, y, s, kernel)


def log_np_kernel(x, y, s, kernel):
    """The logarithm of np_kernel."""
    return dense_kernels.radial(dense_kernels.LOG_RADIAL, np, x, y, s, kernel)


def grad_np_kernel(x, y, s, kernel):
    """The derivative of np_kernel with respect to the squared distance."""
    return dense_kernels.radial(dense_kernels.GRAD_RADIAL, np, x, y, s, kernel)


def chain_rules(q, ax, by, Aa, p):
    """pykeops's test helper: sum_j q_i . (2 (ax_i - by_j) Aa_ij) p_j per
    component, as float32."""
    res = np.zeros(ax.shape).astype("float32")
    for i in range(ax.shape[1]):
        ximyj = np.tile(ax[:, i], [by.shape[0], 1]).T - np.tile(by[:, i], [ax.shape[0], 1])
        res[:, i] = np.sum(q * ((2 * ximyj * Aa) @ p), axis=1)
    return res


def log_sum_exp(mat, axis=0):
    """log(sum(exp(mat), axis)), stabilized by the maxima along `axis`."""
    max_rc = mat.max(axis=axis)
    return max_rc + np.log(np.sum(np.exp(mat - np.expand_dims(max_rc, axis=axis)),
                                  axis=axis))


def WarmUpGpu():
    """Runs a small Gaussian sum twice on the GPU when there is one (so that
    the first timed call does not pay for the device's start)."""
    if not config.gpu_available:
        return
    routine = Genred("Exp(-oos2*SqDist(x,y))*b",
                     ["x = Vi(1)", "y = Vj(1)", "b = Vj(1)", "oos2 = Pm(1)"],
                     reduction_op="Sum", axis=1, dtype="float64")
    dum, dum2 = np.random.rand(10, 1), np.random.rand(10, 1)
    for _ in range(2):
        routine(dum, dum, dum2, np.array([1.0]), backend="GPU")
