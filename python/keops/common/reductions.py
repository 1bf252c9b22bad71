# keops/common/reductions.py - pykeops reduction names and options to KeOps formulas.
# SPDX-License-Identifier: MIT
"""The reductions of Genred: which formula each `reduction_op` becomes, how
options are checked, and how raw kernel outputs take pykeops's shapes."""

# reduction_op -> (name in the formula, takes K, needs a second formula)
REDUCTIONS = {
    "Sum": ("Sum", False, False),
    "LogSumExp": ("LogSumExp", False, None),
    "LogSumExpWeight": ("LogSumExp", False, True),
    "SumSoftMaxWeight": ("SumSoftMaxWeight", False, True),
    "SoftMax": ("SumSoftMaxWeight", False, True),
    "Min": ("Min", False, False),
    "Max": ("Max", False, False),
    "ArgMin": ("ArgMin", False, False),
    "ArgMax": ("ArgMax", False, False),
    "Min_ArgMin": ("Min_ArgMin", False, False),
    "MinArgMin": ("Min_ArgMin", False, False),
    "Max_ArgMax": ("Max_ArgMax", False, False),
    "MaxArgMax": ("Max_ArgMax", False, False),
    "KMin": ("KMin", True, False),
    "ArgKMin": ("ArgKMin", True, False),
    "KMin_ArgKMin": ("KMin_ArgKMin", True, False),
    "KMinArgKMin": ("KMin_ArgKMin", True, False),
}

SUM_TYPES = {"Sum", "LogSumExp", "SumSoftMaxWeight"}


def reduction_formula(formula, reduction_op, axis, opt_arg=None, formula2=None):
    """The KeOps reduction string; axis=1 reduces over j (one row per i)."""
    if reduction_op not in REDUCTIONS:
        raise ValueError("unknown reduction_op '%s'; expected one of %s"
                         % (reduction_op, ", ".join(sorted(REDUCTIONS))))
    if axis not in (0, 1):
        raise ValueError("axis must be 0 (reduce over i) or 1 (reduce over j), got %r"
                         % (axis,))
    name, takes_k, needs_formula2 = REDUCTIONS[reduction_op]
    tag = 0 if axis == 1 else 1
    if takes_k:
        if not isinstance(opt_arg, int) or opt_arg < 1:
            raise ValueError("reduction_op '%s' needs opt_arg = K, an integer >= 1, got %r"
                             % (reduction_op, opt_arg))
        return "%s_Reduction(%s,%d,%d)" % (name, formula, opt_arg, tag)
    if needs_formula2 and not formula2:
        raise ValueError("reduction_op '%s' needs a weight formula (formula2)"
                         % reduction_op)
    if formula2 and needs_formula2 is False:
        raise ValueError("reduction_op '%s' takes no formula2" % reduction_op)
    if formula2:
        return "%s_Reduction(%s,%d,%s)" % (name, formula, tag, formula2)
    return "%s_Reduction(%s,%d)" % (name, formula, tag)


def accumulation_options(reduction_op, dtype_acc, use_double_acc, sum_scheme):
    """(sum_scheme, double accumulator) for the compiler, checked as pykeops does."""
    name = REDUCTIONS[reduction_op][0]
    if dtype_acc != "auto" and use_double_acc:
        raise ValueError("you cannot set both options use_double_acc and dtype_acc")
    double_acc = use_double_acc or dtype_acc == "float64"
    if dtype_acc not in ("auto", "float32", "float64"):
        raise ValueError("dtype_acc must be 'auto', 'float32' or 'float64', got %r"
                         % (dtype_acc,))
    if (double_acc or dtype_acc != "auto") and name not in SUM_TYPES:
        raise ValueError("dtype_acc and use_double_acc apply to sum-type reductions "
                         "(Sum, LogSumExp, SumSoftMaxWeight) only")
    if sum_scheme == "auto":
        sum_scheme = "block_sum" if name in SUM_TYPES else "direct_sum"
    if sum_scheme not in ("block_sum", "kahan_scheme", "direct_sum"):
        raise ValueError("sum_scheme must be 'auto', 'direct_sum', 'block_sum' or "
                         "'kahan_scheme', got %r" % (sum_scheme,))
    if sum_scheme != "direct_sum" and name not in SUM_TYPES:
        raise ValueError("sum_scheme=%r is only valid for sum-type reductions"
                         % sum_scheme)
    return sum_scheme, double_acc


def postprocess(outputs, reduction_op, opt_arg, reshape, pair):
    """pykeops's result shapes: K results as (rows, K[, D]), pairs as tuples."""
    name = REDUCTIONS[reduction_op][0]

    def k_shape(array):
        rows, width = array.shape
        array = reshape(array, (rows, opt_arg, width // opt_arg))
        return reshape(array, (rows, opt_arg)) if width == opt_arg else array

    if name in ("KMin", "ArgKMin"):
        return k_shape(outputs[0])
    if name == "KMin_ArgKMin":
        return pair(k_shape(outputs[0]), k_shape(outputs[1]))
    if name in ("Min_ArgMin", "Max_ArgMax"):
        return pair(outputs[0], outputs[1])
    return outputs[0]
