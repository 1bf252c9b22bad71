# keops/common/generic.py - generic_sum and friends, for any Genred class.
# SPDX-License-Identifier: MIT
"""generic_sum(formula, output, *aliases): a Genred whose reduction axis comes
from the category of the output alias ("a = Vi(1)": one row per i, so the
reduction is over j), as in pykeops; generic_argkmin takes K from the output's
dimension ("a = Vi(10)")."""
import re


def _parse_output(output):
    match = re.match(r"\s*\w+\s*=\s*(Vi|Vj)\((\d+)\)\s*$", output)
    if not match:
        raise ValueError("the output alias must be 'name = Vi(dim)' or "
                         "'name = Vj(dim)', got %r" % (output,))
    return (1 if match.group(1) == "Vi" else 0), int(match.group(2))


def make_generic(genred_class):
    def generic(reduction_op, with_k):
        def build(formula, output, *aliases, **kwargs):
            axis, dim = _parse_output(output)
            return genred_class(formula, list(aliases), reduction_op=reduction_op,
                                axis=axis, opt_arg=dim if with_k else None, **kwargs)
        build.__name__ = "generic_" + reduction_op.lower()
        return build

    return (generic("Sum", False), generic("LogSumExp", False),
            generic("ArgMin", False), generic("ArgKMin", True))
