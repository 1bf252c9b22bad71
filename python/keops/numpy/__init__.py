# keops/numpy/__init__.py - The NumPy interface: Genred and the generic helpers.
# SPDX-License-Identifier: MIT
"""keops.numpy: LazyTensor, Vi, Vj, Pm, Genred and generic_sum /
generic_logsumexp / generic_argmin / generic_argkmin on NumPy arrays, as in
pykeops.numpy."""
import types

import numpy as np

from keops.common.genred import GenredBase, map_results
from keops.common.generic import make_generic
from keops.common.complex_lazy_tensor import ComplexGenericLazyTensor
from keops.common.lazy_tensor import GenericLazyTensor, make_constructors
from keops.common.reductions import postprocess
from keops.common.solve import KernelSolveBase, conjugate_gradient

__all__ = ["Genred", "KernelSolve", "LazyTensor", "ComplexLazyTensor", "Var", "Vi",
           "Vj", "Pm", "generic_sum", "generic_logsumexp", "generic_argmin",
           "generic_argkmin"]


def _rows_contiguous(array):
    """`array` (2-D) itself when its rows are contiguous (a slice of columns,
    any row stride: the kernel reads it in place), else a contiguous copy."""
    rows, cols = array.shape
    size = array.itemsize
    rows_ok = cols <= 1 or array.strides[1] == size
    stride_ok = rows <= 1 or (array.strides[0] % size == 0
                              and array.strides[0] >= cols * size)
    return array if rows_ok and stride_ok else np.ascontiguousarray(array)


class Genred(GenredBase):
    def __call__(self, *args, backend=None, device_id=None, ranges=None, out=None):
        genred = self.with_call_options(backend, device_id, ranges)
        arrays = [np.asarray(a) for a in args]
        half = genred.half_on_cpu([a.dtype for a in arrays])
        if half:
            arrays = [a.astype(np.float32) for a in arrays]
        result = genred.batched(arrays, [a.shape for a in arrays],
                                lambda g, a: g._call_2d(a), _BATCH_TOOLS)
        if half:
            result = map_results(result, lambda r: r.astype(np.float16)
                                  if r.dtype == np.float32 else r)
        if out is not None:
            out[...] = result
            return out
        return result

    def _call_2d(self, arrays):
        dtype = self.dtype_name([a.dtype for a in arrays])
        kernel = self.kernel(dtype)
        shapes, rows = self.shapes_2d(kernel, [a.shape for a in arrays])
        inputs = [_rows_contiguous(a.reshape(s)) for a, s in zip(arrays, shapes)]
        output_rows = rows[kernel.row_category]
        outputs = [np.empty((output_rows, dim), dtype=out_dtype)
                   for out_dtype, dim in kernel.outputs]
        kernel.run(inputs, outputs, rows[0], rows[1], self.range_arrays(kernel),
                   self.device_id)
        return postprocess(outputs, self.reduction_op, self.opt_arg, np.reshape,
                           lambda a, b: (a, b))


def _stack(results, batch):
    """Joins per-batch results (arrays or pairs) into (*batch, ...) arrays."""
    if isinstance(results[0], tuple):
        return tuple(_stack([r[k] for r in results], batch) for k in range(2))
    stacked = np.stack(results)
    return stacked.reshape(tuple(batch) + stacked.shape[1:])


_BATCH_TOOLS = types.SimpleNamespace(
    reshape=np.reshape, expand=np.broadcast_to, shape=np.shape, stack=_stack,
    arange=lambda n, like: np.arange(n, dtype=like.dtype),
    is_index=lambda a: a.dtype.kind in "iu")

generic_sum, generic_logsumexp, generic_argmin, generic_argkmin = make_generic(Genred)


class KernelSolve(KernelSolveBase):
    """Solves (alpha Id + K) a = b, b being the argument at the position of
    `varinvalias`, by conjugate gradient."""

    genred_class = Genred

    def __call__(self, *args, backend=None, device_id=None, alpha=1e-10, eps=1e-6,
                 ranges=None):
        args = [np.asarray(a) for a in args]
        b = args[self.position]
        linop = self.with_call_options(backend, device_id, ranges).linop(
            args, alpha)
        return conjugate_gradient(linop, b, eps,
                                  dot=lambda u, v: float((u * v).sum()),
                                  copy=np.copy)


def _complex_to_real(x):
    """(..., D) complex -> (..., 2D) real, (re, im) interleaved."""
    x = np.ascontiguousarray(x)
    return x.view(x.real.dtype)


def _real_to_complex(x):
    x = np.ascontiguousarray(x)
    return x.view(np.result_type(x.dtype, np.complex64))


class LazyTensor(GenericLazyTensor):
    genred_class = Genred
    tools = types.SimpleNamespace(
        asarray=np.asarray, shape=np.shape, reshape=np.reshape,
        constant=lambda values, like: np.array(
            values, dtype=like.dtype if like is not None else np.float64),
        dtype_name=lambda x: str(x.dtype), is_complex=np.iscomplexobj,
        complex_to_real=_complex_to_real, real_to_complex=_real_to_complex)


class ComplexLazyTensor(ComplexGenericLazyTensor, LazyTensor):
    """A LazyTensor of complex numbers, from complex arrays."""


Var, Vi, Vj, Pm = make_constructors(LazyTensor, ComplexLazyTensor)
