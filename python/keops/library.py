# keops/library.py - Kernel libraries built by keops-aot, from Python.
# SPDX-License-Identifier: MIT
"""load_library(path) loads a kernel library that keops-aot built
(libNAME.so beside NAME.json) and returns a KernelLibrary whose kernels are
called on NumPy arrays or torch tensors; the code is the library's, nothing
is compiled. Kernels built with their gradients (keops-aot --gradients)
support torch autograd at first order, through the library's backward
kernels."""
import ctypes
import json
import pathlib

import numpy as np

from keops import _C
from keops.common.genred import GenredBase


class LibraryKernel:
    """A kernel of a loaded library: kernel(*variables) returns its output,
    or the tuple of its outputs (e.g. values and indices), as arrays of the
    variables' library (NumPy or torch, on the CPU)."""

    def __init__(self, library, spec, kernel):
        self._library = library  # keeps the code loaded
        self.name = spec["name"]
        self.formula = spec["formula"]
        self.aliases = list(spec["aliases"])
        self.kernel = kernel
        # Per variable: the library kernel of its gradient and what it reads
        # (None: a zero gradient); None when the library has no backward.
        self.gradients = spec.get("gradients")

    def __repr__(self):
        return "LibraryKernel(%r, %r, %r, %s)" % (self.name, self.formula,
                                                   self.aliases, self.kernel.dtype)

    def __call__(self, *args):
        torch = _torch_of(args)
        if torch is not None and torch.is_grad_enabled() and any(
                getattr(a, "requires_grad", False) for a in args):
            if self.gradients is None:
                raise RuntimeError(
                    "kernel '%s' of the library has no backward: build the "
                    "library with its gradients (keops-aot --gradients, or "
                    "\"gradients\": true in the spec), or pass tensors that "
                    "do not require grad (e.g. x.detach())" % self.name)
            return _autograd_function().apply(self, *args)
        return self.run(args)

    def run(self, args):
        """The raw outputs (2-D arrays) of the kernel on `args`: the output,
        or the tuple of the outputs."""
        torch = _torch_of(args)
        if torch is None:
            arrays = [np.asarray(a) for a in args]
            empty = lambda shape, dtype: np.empty(shape, dtype=dtype)  # noqa: E731
            contiguous = np.ascontiguousarray
        else:
            arrays = [a.detach() for a in args]
            empty = lambda shape, dtype: torch.empty(  # noqa: E731
                shape, dtype=getattr(torch, dtype), device=arrays[0].device)
            contiguous = lambda a: a.contiguous()  # noqa: E731
        dtype = GenredBase.dtype_name([a.dtype for a in arrays])
        if dtype != self.kernel.dtype:
            raise TypeError("kernel '%s' of the library takes %s arrays, got %s"
                            % (self.name, self.kernel.dtype, dtype))
        shapes, rows = GenredBase.shapes_2d(self.kernel, [tuple(a.shape) for a in arrays])
        inputs = [contiguous(a.reshape(s)) for a, s in zip(arrays, shapes)]
        outputs = [empty((rows[self.kernel.row_category], dim), out_dtype)
                   for out_dtype, dim in self.kernel.outputs]
        self.kernel.run(inputs, outputs, rows[0], rows[1])
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def gradient(self, position, args, eta, result):
        """The gradient w.r.t. argument `position` for `eta`, the gradient
        w.r.t. the (value) output `result`, from the library's backward
        kernels; None for a zero gradient."""
        from keops.torch import derivative_extras
        described = self.gradients[position]
        if described is None:
            return None
        library = self._library
        inputs = [(i["kind"], i.get("kernel")) for i in described["inputs"]]
        _, rows = GenredBase.shapes_2d(self.kernel, [tuple(a.shape) for a in args])

        def sibling(name):
            value = library[name].run(args)
            return value[0] if isinstance(value, tuple) else value

        extras = derivative_extras(inputs, result,
                                   rows[1 - self.kernel.row_category], sibling,
                                   eta=eta)
        gradient = library[described["kernel"]].run(list(args) + extras)
        if described["sum_rows"]:  # a parameter
            gradient = gradient.sum(0)
        return gradient.reshape(args[position].shape)


_AUTOGRAD_FUNCTION = []


def _autograd_function():
    """The torch.autograd.Function of library kernels (made on first use:
    torch is optional). Its backward runs the library's gradient kernels,
    once differentiable."""
    if not _AUTOGRAD_FUNCTION:
        import torch
        from torch.autograd.function import once_differentiable

        class LibraryFunction(torch.autograd.Function):
            @staticmethod
            def forward(ctx, kernel, *args):
                outputs = kernel.run(args)
                first = outputs[0] if isinstance(outputs, tuple) else outputs
                ctx.kernel = kernel
                ctx.save_for_backward(*args, first)
                for output in (outputs if isinstance(outputs, tuple) else (outputs,)):
                    if output.dtype == torch.int64:
                        ctx.mark_non_differentiable(output)
                return outputs

            @staticmethod
            @once_differentiable
            def backward(ctx, eta, *unused):
                *args, result = ctx.saved_tensors
                return (None, *(
                    ctx.kernel.gradient(k, args, eta.contiguous(), result)
                    if ctx.needs_input_grad[1 + k] else None
                    for k in range(len(args))))

        _AUTOGRAD_FUNCTION.append(LibraryFunction)
    return _AUTOGRAD_FUNCTION[0]


def _torch_of(args):
    """The torch module when an argument is a torch tensor, else None."""
    for a in args:
        if type(a).__module__.startswith("torch"):
            import torch
            return torch
    return None


class KernelLibrary:
    """The kernels of a keops-aot library, by name: library.NAME(...) or
    library["NAME"](...); `kernels` lists them."""

    def __init__(self, path):
        path = pathlib.Path(path)
        if path.is_dir():
            candidates = sorted(path.glob("lib*.so"))
            if len(candidates) != 1:
                raise ValueError("%s holds %d kernel libraries: give the path of "
                                 "one libNAME.so" % (path, len(candidates)))
            path = candidates[0]
        name = path.name[3:-3] if path.name.startswith("lib") and path.name.endswith(
            ".so") else path.stem
        manifest = path.with_name(name + ".json")
        if not manifest.is_file():
            raise ValueError("%s has no manifest %s beside it (keops-aot writes "
                             "both)" % (path, manifest.name))
        self.path = path
        self.manifest = json.loads(manifest.read_text())
        self._dll = ctypes.CDLL(str(path.resolve()))
        self._kernels = {}
        for spec in self.manifest["kernels"]:
            self._kernels[spec["name"]] = LibraryKernel(
                self, spec, _C.wrap_kernel(self._handle(spec["name"])))

    def _handle(self, name):
        """The runtime kernel of `name` (created by the library: it picks the
        variant of this CPU's level, or says why none runs)."""
        create = getattr(self._dll, name + "_kernel")
        create.restype = ctypes.c_void_p
        create.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
        handle = ctypes.c_void_p()
        status = create(ctypes.byref(handle))
        if status:
            message = self._dll.keops_rt_status_message
            message.restype = ctypes.c_char_p
            message.argtypes = [ctypes.c_void_p]
            text = message(status).decode()
            self._dll.keops_rt_status_free.argtypes = [ctypes.c_void_p]
            self._dll.keops_rt_status_free(status)
            raise RuntimeError("%s: %s" % (self.path.name, text))
        return handle.value

    @property
    def kernels(self):
        return sorted(self._kernels)

    def __getitem__(self, name):
        try:
            return self._kernels[name]
        except KeyError:
            raise KeyError("the library %s has no kernel %r (it has %s)" % (
                self.path.name, name, ", ".join(self.kernels))) from None

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(error.args[0]) from None

    def __repr__(self):
        return "KernelLibrary(%r, kernels=%s)" % (str(self.path), self.kernels)


def load_library(path):
    """Loads the kernel library at `path` (libNAME.so, or a directory holding
    one) that keops-aot built, with its manifest NAME.json beside it."""
    return KernelLibrary(path)
