# keops/torch/__init__.py - The PyTorch interface: Genred with autograd.
# SPDX-License-Identifier: MIT
"""keops.torch: LazyTensor, Vi, Vj, Pm, Genred, KernelSolve and the generic
helpers on CPU tensors, as in pykeops.torch. Results are differentiable: the
backward pass of a reduction is itself a Genred (a reduction of a Grad
formula), so gradients of any order work (create_graph=True); beyond pykeops,
Min, Max, KMin and their arg forms differentiate through the selected
columns."""
import functools
import types

import torch
import torch.autograd.forward_ad  # noqa: F401 (its _current_level)

from keops import _C
from keops.common.genred import GenredBase, map_results
from keops.common.generic import make_generic
from keops.common.complex_lazy_tensor import ComplexGenericLazyTensor
from keops.common.lazy_tensor import GenericLazyTensor, make_constructors
from keops.common.reductions import postprocess
from keops.common.solve import KernelSolveBase, conjugate_gradient

__all__ = ["Genred", "KernelSolve", "LazyTensor", "ComplexLazyTensor", "Var", "Vi",
           "Vj", "Pm", "generic_sum", "generic_logsumexp", "generic_argmin",
           "generic_argkmin"]

DTYPES = {"float16": torch.float16, "float32": torch.float32,
          "float64": torch.float64, "int64": torch.int64}


def _rows_contiguous(tensor):
    """`tensor` (2-D) itself when its rows are contiguous (a slice of columns,
    any row stride: the kernel reads it in place), else a contiguous copy."""
    rows, cols = tensor.shape
    if (cols <= 1 or tensor.stride(1) == 1) and (rows <= 1 or tensor.stride(0) >= cols):
        return tensor
    return tensor.contiguous()


def _tracked(args):
    """Whether a call on `args` must go through autograd: an argument
    requires grad (with grad mode on), or a torch.func transform or a
    forward-mode dual level is active."""
    if torch.is_grad_enabled() and any(a.requires_grad for a in args):
        return True
    return (torch._C._are_functorch_transforms_active()
            or torch.autograd.forward_ad._current_level >= 0)


def _stream_of(device):
    """The CUDA stream torch queues work on for `device` (0: host memory), so
    that a reduction runs after the kernels that computed its inputs."""
    if device.type != "cuda":
        return 0
    return torch.cuda.current_stream(device).cuda_stream


class Genred(GenredBase):
    def __call__(self, *args, backend=None, device_id=None, ranges=None, out=None,
                 process_group=None, layout=None):
        """The reduction of `args`; with a torch.distributed `process_group`,
        over its ranks, whose `layout` ('sharded' or 'replicated') says what
        each rank holds (keops.torch.distributed, docs/distributed.md)."""
        genred = self.with_call_options(backend, device_id, ranges)
        if process_group is not None or layout is not None:
            from keops.torch import distributed
            genred = distributed.bind(genred, process_group, layout)
        return genred._call(args, out)

    def check_arguments(self, args):
        """Raises TypeError or ValueError for an argument that is not a CPU or
        CUDA tensor, or is on CUDA with the CPU backend."""
        for k, arg in enumerate(args):
            if not isinstance(arg, torch.Tensor):
                raise TypeError("argument %d must be a torch.Tensor, got %s"
                                % (k, type(arg).__name__))
            if arg.device.type not in ("cpu", "cuda"):
                raise ValueError("argument %d is on %s: keops takes CPU and CUDA "
                                 "tensors" % (k, arg.device))
            if arg.device.type == "cuda" and self.backend == "cpu":
                raise ValueError("argument %d is on %s but backend='CPU'"
                                 % (k, arg.device))

    def _call(self, args, out):
        self.check_arguments(args)
        half = self.half_on_cpu([a.dtype for a in args])
        if half:  # differentiable casts
            args = [a.float() for a in args]
        result = self.batched(list(args), [a.shape for a in args],
                              lambda g, a: g._call_2d(a), _BATCH_TOOLS)
        if half:
            result = map_results(result, lambda r: r.half()
                                  if r.dtype == torch.float32 else r)
        if out is not None:
            with torch.no_grad():
                out.copy_(result)
            return out
        return result

    def _call_2d(self, args):
        if _tracked(args):
            outputs = _GenredFunction.apply(self, *args)
            outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        else:  # nothing to differentiate: no autograd.Function overhead
            outputs = tuple(self.run(args)[1])
        return postprocess(list(outputs), self.reduction_op, self.opt_arg,
                           torch.reshape, lambda a, b: (a, b))

    def run(self, args):
        """The raw outputs (2-D tensors) of the kernel on `args`."""
        kernel, inputs, rows = self.kernel_inputs(args)
        output_rows = rows[kernel.row_category]
        # CUDA tensors are used in place: the outputs go on their device.
        device = inputs[0].device if inputs else torch.device("cpu")
        outputs = kernel_outputs(kernel, output_rows, device)
        kernel.run(inputs, outputs, rows[0], rows[1], self.range_arrays(kernel),
                   self.device_id, _stream_of(device))
        return kernel, outputs

    def kernel_inputs(self, args):
        """(kernel, the 2-D detached inputs it reads, [rows of i, rows of j])
        for `args`."""
        kernel = self.kernel(self.dtype_name([a.dtype for a in args]))
        shapes, rows = self.shapes_2d(kernel, [a.shape for a in args])
        return kernel, [_rows_contiguous(a.detach().reshape(s))
                        for a, s in zip(args, shapes)], rows

    def backward_genred(self, position):
        """(Genred, inputs, sum_rows) of the gradient w.r.t. argument
        `position`, as the compiler builds it (keops::gradientFormula, the
        rules of docs/autodiff.md): a Sum reduction of a Grad formula, which
        reads the arguments followed by `backward_extras(inputs, ...)` and
        whose rows are summed for a parameter; None for a zero gradient."""
        described = backward_reduction(self.red_formula, tuple(self.aliases),
                                       position)
        if described is None:
            return None
        reduction, inputs, sum_rows = described
        genred = self._related(reduction, sum_scheme="block_sum",
                               use_double_acc=self.double_acc)
        return genred, inputs, sum_rows

    def forward_derivative(self, signature, args, tangents, result):
        """The output tangents for the argument `tangents` (forward mode): a
        reduction of the compiler (keops::tangentFormula, the transposes of
        the backward rules); None for indices."""
        _, _, outputs = signature
        positions = tuple(k for k, t in enumerate(tangents) if t is not None)
        described = tangent_reduction(self.red_formula, tuple(self.aliases),
                                      positions)
        if described is None:
            return None  # piecewise constant indices
        reduction, inputs, _ = described
        extras = derivative_extras(
            inputs, result, self._columns(signature, args),
            lambda sibling: self._related(sibling)(*args),
            tangents=[t.contiguous() if t is not None else None for t in tangents])
        tangent = self._related(reduction, use_double_acc=self.double_acc)(
            *args, *extras)
        return (tangent, None) if len(outputs) > 1 else tangent

    def _related(self, reduction, **options):
        """The Genred of `reduction`, a (name, formula, weight, axis tag, K)
        of the compiler, over the same aliases and block-sparse ranges (the
        backward, forward and helper reductions of this one)."""
        name, formula, weight, tag, k = reduction
        related = Genred(formula, self.aliases, reduction_op=name,
                         axis=1 if tag == 0 else 0, opt_arg=k,
                         formula2=weight or None, **options).with_ranges(
                             self.ranges)._copy()
        related.backend, related.device_id = self.backend, self.device_id
        return related

    def _columns(self, signature, args):
        """The number of columns of the reduced axis."""
        inputs, row_category, _ = signature
        return next((arg.shape[0] for arg, (_, category, _) in zip(args, inputs)
                     if category == 1 - row_category), 1)

    def backward_extras(self, inputs, signature, args, eta, result):
        """The arrays after the arguments that the backward Genred reads."""
        return derivative_extras(inputs, result, self._columns(signature, args),
                                 lambda reduction: self._related(reduction)(*args),
                                 eta=eta)


def kernel_outputs(kernel, rows, device="cpu"):
    """Empty tensors for `rows` rows of each output of `kernel`."""
    return [torch.empty((rows, dim), dtype=DTYPES[dtype], device=device)
            for dtype, dim in kernel.outputs]


def column_index(columns, dtype, device, first=0):
    """first, first + 1, ..., first + columns - 1 as a (columns, 1) tensor."""
    return torch.arange(first, first + columns, dtype=dtype,
                        device=device).reshape(columns, 1)


def derivative_extras(inputs, result, columns, sibling, eta=None, tangents=None,
                      first_column=0):
    """The tensors after the arguments that a derivative reduction reads, for
    its `inputs` as the compiler lists them ((kind, what) pairs, see
    keops._C.gradient and keops._C.tangent): `eta`, the tangent of argument
    `what` (from `tangents`), the forward `result`, the column index of the
    reduced axis (`columns` rows from `first_column`: a shard's global
    indices), and for 'logsumexp' and 'indices' the output of sibling(what),
    as floats of the result's dtype."""
    extras = []
    for kind, what in inputs:
        if kind == "eta":
            extras.append(eta)
        elif kind == "tangent":
            extras.append(tangents[what])
        elif kind == "output":
            extras.append(result)
        elif kind == "column":
            extras.append(column_index(columns, result.dtype, result.device,
                                       first_column))
        else:
            value = sibling(what)
            extras.append(value.flatten(1).to(result.dtype))
    return extras


@functools.lru_cache(maxsize=None)
def backward_reduction(red_formula, aliases, position):
    """The compiler's backward reduction of `red_formula` w.r.t. argument
    `position` (see keops._C.gradient), once per process."""
    return _C.gradient(red_formula, list(aliases), position)


@functools.lru_cache(maxsize=None)
def tangent_reduction(red_formula, aliases, positions):
    """The compiler's tangent reduction of `red_formula` along the arguments
    at `positions` (see keops._C.tangent), once per process."""
    return _C.tangent(red_formula, list(aliases), list(positions))


def _stack(results, batch):
    """Joins per-batch results (tensors or pairs) into (*batch, ...) tensors."""
    if isinstance(results[0], tuple):
        return tuple(_stack([r[k] for r in results], batch) for k in range(2))
    stacked = torch.stack(results)
    return stacked.reshape(tuple(batch) + tuple(stacked.shape[1:]))


_BATCH_TOOLS = types.SimpleNamespace(
    reshape=torch.reshape, expand=lambda a, shape: a.expand(shape),
    shape=lambda a: tuple(a.shape), stack=_stack,
    arange=lambda n, like: torch.arange(n, dtype=like.dtype, device=like.device),
    is_index=lambda a: a.dtype == torch.int64)


class _GenredFunction(torch.autograd.Function):
    """The raw outputs of a Genred; backward and vmap rules for autograd and
    torch.func (grad, vjp, jacrev, vmap)."""

    @staticmethod
    def forward(genred, *args):
        _, outputs = genred.run(args)
        return tuple(outputs) if len(outputs) > 1 else outputs[0]

    @staticmethod
    def setup_context(ctx, inputs, output):
        genred, *args = inputs
        outputs = output if isinstance(output, tuple) else (output,)
        kernel = genred.kernel(genred.dtype_name([a.dtype for a in args]))
        # The kernel's signature (plain data: the autograd graph may outlive
        # the interpreter's extension objects).
        ctx.genred = genred
        ctx.signature = (kernel.inputs, kernel.row_category, kernel.outputs)
        ctx.save_for_backward(*args, outputs[0])
        ctx.save_for_forward(*args, outputs[0])
        for extra in outputs[1:]:
            ctx.mark_non_differentiable(extra)
        if outputs[0].dtype == torch.int64:
            ctx.mark_non_differentiable(outputs[0])

    @staticmethod
    def jvp(ctx, genred_tangent, *tangents):
        *args, result = ctx.saved_tensors
        return ctx.genred.forward_derivative(ctx.signature, args, tangents, result)

    @staticmethod
    def vmap(info, in_dims, genred, *args):
        # The vmapped dimension becomes a leading batch dimension.
        moved = [arg if dim is None else arg.movedim(dim, 0)
                 for arg, dim in zip(args, in_dims[1:])]
        outputs = genred.batched(moved, [a.shape for a in moved],
                                 lambda g, a: _GenredFunction.apply(g, *a),
                                 _BATCH_TOOLS, parameter_batches=True)
        return outputs, (0, 0) if isinstance(outputs, tuple) else 0

    @staticmethod
    def backward(ctx, eta, *unused):
        *args, result = ctx.saved_tensors
        genred, signature = ctx.genred, ctx.signature
        grads = [None]
        for position, arg in enumerate(args):
            backward = (genred.backward_genred(position)
                        if ctx.needs_input_grad[1 + position] else None)
            if backward is None:  # not wanted, or piecewise constant
                grads.append(None)
                continue
            routine, inputs, sum_rows = backward
            extras = genred.backward_extras(inputs, signature, args,
                                            eta.contiguous(), result)
            gradient = routine(*args, *extras)
            if sum_rows:  # a parameter
                gradient = gradient.sum(0)
            grads.append(gradient.reshape(arg.shape))
        return tuple(grads)


generic_sum, generic_logsumexp, generic_argmin, generic_argkmin = make_generic(Genred)


class KernelSolve(KernelSolveBase):
    """Solves (alpha Id + K) a = b by conjugate gradient; differentiable: the
    backward pass solves the same (symmetric) system for the gradient of b and
    differentiates K a for the other arguments."""

    genred_class = Genred

    def __call__(self, *args, backend=None, device_id=None, alpha=1e-10, eps=1e-6,
                 ranges=None):
        return _KernelSolveFunction.apply(
            self.with_call_options(backend, device_id, ranges), alpha, eps, *args)

    def solve(self, args, alpha, eps):
        args = [a.detach() for a in args]
        return conjugate_gradient(self.linop(args, alpha), args[self.position], eps,
                                  dot=lambda u, v: (u * v).sum(), copy=torch.clone)


class _KernelSolveFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, solver, alpha, eps, *args):
        a = solver.solve(args, alpha, eps)
        ctx.solver, ctx.alpha, ctx.eps = solver, alpha, eps
        ctx.save_for_backward(a, *args)
        return a

    @staticmethod
    def backward(ctx, eta):
        a, *args = ctx.saved_tensors
        solver = ctx.solver
        # (alpha + K) a = b: db = (alpha + K)^-1 eta; dx = -d/dx [db . K(x) a].
        gb = solver.solve(args[:solver.position] + [eta] + args[solver.position + 1:],
                          ctx.alpha, ctx.eps)
        grads = [None] * len(args)
        wanted = [k for k in range(len(args))
                  if ctx.needs_input_grad[3 + k] and k != solver.position]
        if wanted:
            with torch.enable_grad():
                inputs = [arg.detach().requires_grad_(k in wanted)
                          for k, arg in enumerate(args)]
                inputs[solver.position] = a.detach()
                ka = solver.genred(*inputs)
                found = torch.autograd.grad(ka, [inputs[k] for k in wanted], -gb)
            for k, gradient in zip(wanted, found):
                grads[k] = gradient
        if ctx.needs_input_grad[3 + solver.position]:
            grads[solver.position] = gb
        return (None, None, None, *grads)


def _as_tensor(x):
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(x)


class LazyTensor(GenericLazyTensor):
    genred_class = Genred
    tools = types.SimpleNamespace(
        asarray=_as_tensor, shape=lambda x: tuple(x.shape), reshape=torch.reshape,
        constant=lambda values, like: torch.tensor(
            values, dtype=like.dtype if like is not None else torch.float64,
            device=like.device if like is not None else None),
        dtype_name=lambda x: str(x.dtype).replace("torch.", ""),
        is_complex=lambda x: isinstance(x, torch.Tensor) and x.is_complex(),
        complex_to_real=lambda x: torch.view_as_real(x.resolve_conj()).flatten(-2),
        real_to_complex=lambda x: torch.view_as_complex(
            x.unflatten(-1, (-1, 2)).contiguous()))


class ComplexLazyTensor(ComplexGenericLazyTensor, LazyTensor):
    """A LazyTensor of complex numbers, from complex tensors (differentiable
    through their real views)."""


Var, Vi, Vj, Pm = make_constructors(LazyTensor, ComplexLazyTensor)
