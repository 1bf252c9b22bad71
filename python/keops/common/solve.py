# keops/common/solve.py - KernelSolve: (alpha Id + K) a = b by conjugate gradient.
# SPDX-License-Identifier: MIT
"""The conjugate gradient of pykeops's KernelSolve, for any array library: K
is the linear operator v -> Genred(formula)(..., v, ...) where the formula is
linear in the variable `varinvalias`; all columns of b are solved together."""
import copy
import re


def alias_position(aliases, name):
    """The position of the alias called `name`."""
    for k, alias in enumerate(aliases):
        match = re.match(r"\s*(\w+)\s*=\s*(Vi|Vj|Pm|Var)\(([^)]*)\)", alias)
        if match and match.group(1) == name:
            numbers = [int(t) for t in match.group(3).split(",")]
            if match.group(2) == "Var" or len(numbers) == 2:
                return numbers[0]
            return k
    raise ValueError("varinvalias %r is not one of the aliases %s" % (name, aliases))


def conjugate_gradient(linop, b, eps, dot, copy, maxiter=None):
    """Solves linop(x) = b for a symmetric positive definite linop, stopping
    when |r| <= max(eps |b|, eps) (scipy's rule, as in pykeops)."""
    atol = max(eps, eps * float(dot(b, b)) ** 0.5)
    maxiter = 10 * b.shape[0] if maxiter is None else maxiter
    x = b * 0
    r = copy(b)
    p = copy(r)
    rr = dot(r, r)
    for _ in range(maxiter):
        if float(rr) <= atol * atol:
            break
        lp = linop(p)
        alpha = rr / dot(p, lp)
        x = x + alpha * p
        r = r - alpha * lp
        rr_new = dot(r, r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


class KernelSolveBase:
    """KernelSolve(formula, aliases, varinvalias, axis=0, ...), as in pykeops."""

    def __init__(self, formula, aliases, varinvalias, axis=0, dtype=None,
                 cuda_type=None, dtype_acc="auto", use_double_acc=False,
                 sum_scheme="auto", enable_chunks=True, rec_multVar_highdim=False,
                 use_fast_math=True):
        self._init_args = (formula, list(aliases), varinvalias, axis, dtype, cuda_type,
                           dtype_acc, use_double_acc, sum_scheme, enable_chunks,
                           rec_multVar_highdim, use_fast_math)
        self.position = alias_position(aliases, varinvalias)
        self.genred = self.genred_class(formula, aliases, reduction_op="Sum", axis=axis,
                                        dtype_acc=dtype_acc, use_double_acc=use_double_acc,
                                        sum_scheme=sum_scheme)

    def __reduce__(self):
        return (self.__class__, self._init_args)

    def with_call_options(self, backend, device_id, ranges):
        """This solver with the call options of its kernel (see
        GenredBase.with_call_options)."""
        bound = copy.copy(self)
        bound.genred = self.genred.with_call_options(backend, device_id, ranges)
        return bound

    def linop(self, args, alpha):
        """v -> K v + alpha v."""
        def apply(v):
            inputs = list(args)
            inputs[self.position] = v
            return self.genred(*inputs) + alpha * v
        return apply
