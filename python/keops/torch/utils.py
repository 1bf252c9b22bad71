# utils.py - keops.torch.utils: pykeops.torch.utils's helpers.
# SPDX-License-Identifier: MIT
"""The names of pykeops.torch.utils that user code imports: dense reference
kernels (squared_distances, torch_kernel), is_on_device and torchtools."""
import torch

from keops.common import dense_kernels
from keops.common.dense_kernels import squared_distances
from keops.torch import Genred, KernelSolve
from keops.torch.cluster import swap_axes

__all__ = ["is_on_device", "torchtools", "squared_distances", "torch_kernel"]


def is_on_device(x):
    """Whether the tensor is on a GPU."""
    return x.is_cuda


class torchtools:
    """pykeops's array helpers for torch."""
    copy = torch.clone
    exp = torch.exp
    log = torch.log
    norm = torch.norm
    swap_axes = swap_axes
    Genred = Genred
    KernelSolve = KernelSolve
    arraytype = torch.Tensor
    float_types = [float]
    eq = staticmethod(torch.eq)
    transpose = staticmethod(lambda x: x.t())
    permute = staticmethod(lambda x, *axes: x.permute(*axes))
    contiguous = staticmethod(lambda x: x.contiguous())
    solve = staticmethod(torch.linalg.solve)
    arraysum = staticmethod(lambda x, axis=None: x.sum() if axis is None else x.sum(axis))
    long = staticmethod(lambda x: x.long())
    size = staticmethod(lambda x: x.numel())
    tile = staticmethod(lambda *args: torch.Tensor.repeat(*args))
    numpy = staticmethod(lambda x: x.detach().cpu().numpy())
    view = staticmethod(lambda x, s: x.view(s))
    is_tensor = staticmethod(lambda x: isinstance(x, torch.Tensor))
    dtype = staticmethod(lambda x: x.dtype)
    dtypename = staticmethod(lambda dtype: str(dtype).replace("torch.", ""))
    rand = staticmethod(lambda m, n, dtype, device: torch.rand(m, n, dtype=dtype,
                                                               device=device))
    randn = staticmethod(lambda m, n, dtype, device: torch.randn(m, n, dtype=dtype,
                                                                 device=device))
    zeros = staticmethod(lambda shape, dtype, device, requires_grad=False: torch.zeros(
        *shape, dtype=dtype, device=device, requires_grad=requires_grad))
    empty = staticmethod(lambda shape, dtype, device, requires_grad=False: torch.empty(
        *shape, dtype=dtype, device=device, requires_grad=requires_grad))
    eye = staticmethod(lambda n, dtype, device: torch.eye(n, dtype=dtype, device=device))
    array = staticmethod(lambda x, dtype, device: torch.tensor(
        x, dtype=getattr(torch, dtype) if isinstance(dtype, str) else dtype,
        device=device))
    device = staticmethod(lambda x: x.device if isinstance(x, torch.Tensor) else None)


def torch_kernel(x, y, s, kernel):
    """The dense kernel matrix (gaussian, laplacian, cauchy or
    inverse_multiquadric) of the rows of x and y at scale s."""
    return dense_kernels.radial(dense_kernels.RADIAL, torch, x, y, s, kernel)
