# keops/common/reductions.py - pykeops reduction names and options to KeOps formulas.
# SPDX-License-Identifier: MIT
"""The reductions of Genred: which formula each `reduction_op` becomes, how
options are checked, and how raw kernel outputs take pykeops's shapes. The
names and what each takes come from the compiler."""
import numbers

from keops import _C

# reduction_op -> (kind, takes K, weight formula "none", "optional" or
# "required", sum type): the compiler's table of reduction names.
REDUCTIONS = {name: (kind, takes_k, weight, sum_type)
              for name, kind, takes_k, weight, sum_type in _C.reductions()}


def reduction_formula(formula, reduction_op, axis, opt_arg=None, formula2=None):
    """The KeOps reduction string; axis=1 reduces over j (one row per i)."""
    if reduction_op not in REDUCTIONS:
        raise ValueError("unknown reduction_op '%s'; expected one of %s"
                         % (reduction_op, ", ".join(sorted(REDUCTIONS))))
    if axis not in (0, 1):
        raise ValueError("axis must be 0 (reduce over i) or 1 (reduce over j), got %r"
                         % (axis,))
    _, takes_k, weight, _ = REDUCTIONS[reduction_op]
    tag = 0 if axis == 1 else 1
    if takes_k:
        # Any integer (NumPy's too), not a bool.
        if (not isinstance(opt_arg, numbers.Integral) or isinstance(opt_arg, bool)
                or opt_arg < 1):
            raise ValueError("reduction_op '%s' needs opt_arg = K, an integer >= 1, got %r"
                             % (reduction_op, opt_arg))
        return "%s_Reduction(%s,%d,%d)" % (reduction_op, formula, int(opt_arg), tag)
    if weight == "required" and not formula2:
        raise ValueError("reduction_op '%s' needs a weight formula (formula2)"
                         % reduction_op)
    if formula2 and weight == "none":
        raise ValueError("reduction_op '%s' takes no formula2" % reduction_op)
    if formula2:
        return "%s_Reduction(%s,%d,%s)" % (reduction_op, formula, tag, formula2)
    return "%s_Reduction(%s,%d)" % (reduction_op, formula, tag)


def accumulation_options(reduction_op, dtype_acc, use_double_acc, sum_scheme):
    """(sum_scheme, double accumulator) for the compiler, checked as pykeops does."""
    sum_type = REDUCTIONS[reduction_op][3]
    if dtype_acc != "auto" and use_double_acc:
        raise ValueError("you cannot set both options use_double_acc and dtype_acc")
    double_acc = use_double_acc or dtype_acc == "float64"
    if dtype_acc not in ("auto", "float32", "float64"):
        raise ValueError("dtype_acc must be 'auto', 'float32' or 'float64', got %r"
                         % (dtype_acc,))
    if (double_acc or dtype_acc != "auto") and not sum_type:
        raise ValueError("dtype_acc and use_double_acc apply to sum-type reductions "
                         "(Sum, LogSumExp, SumSoftMaxWeight) only")
    if sum_scheme == "auto":
        sum_scheme = "block_sum" if sum_type else "direct_sum"
    if sum_scheme not in ("block_sum", "kahan_scheme", "direct_sum"):
        raise ValueError("sum_scheme must be 'auto', 'direct_sum', 'block_sum' or "
                         "'kahan_scheme', got %r" % (sum_scheme,))
    if sum_scheme != "direct_sum" and not sum_type:
        raise ValueError("sum_scheme=%r is only valid for sum-type reductions"
                         % sum_scheme)
    return sum_scheme, double_acc


def postprocess(outputs, reduction_op, opt_arg, reshape, pair):
    """pykeops's result shapes: K results as (rows, K[, D]), pairs as tuples."""
    kind = REDUCTIONS[reduction_op][0]

    def k_shape(array):
        rows, width = array.shape
        array = reshape(array, (rows, opt_arg, width // opt_arg))
        return reshape(array, (rows, opt_arg)) if width == opt_arg else array

    if kind in ("kmin", "argkmin"):
        return k_shape(outputs[0])
    if kind == "kmin_argkmin":
        return pair(k_shape(outputs[0]), k_shape(outputs[1]))
    if kind in ("min_argmin", "max_argmax"):
        return pair(outputs[0], outputs[1])
    return outputs[0]
