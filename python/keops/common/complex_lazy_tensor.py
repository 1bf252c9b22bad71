# keops/common/complex_lazy_tensor.py - ComplexLazyTensor: LazyTensors of complex numbers.
# SPDX-License-Identifier: MIT
"""Complex LazyTensors, as in pykeops.

A complex array of shape (..., D) is stored as a real array of shape
(..., 2D) holding (re, im) pairs, and a complex LazyTensor is a formula of
dimension 2D over such vectors built with the complex ops of the formula
language (ComplexMult, ComplexExp, ...; a single pair broadcasts). Real
operands are promoted with Real2Complex (or scale by ComplexRealScal when
they are scalars); sum reductions turn the real (..., rows, 2D) result back
into complex numbers.
"""
from keops.common.lazy_tensor import GenericLazyTensor

_COMPLEX_OPS = {"+": "ComplexAdd", "-": "ComplexSubtract", "*": "ComplexMult",
                "/": "ComplexDivide"}
_COMPLEX_DTYPES = {"float32": "complex64", "float64": "complex128"}


class ComplexGenericLazyTensor(GenericLazyTensor):
    """A LazyTensor whose vectors hold D complex numbers (2D reals)."""

    is_complex = True

    @staticmethod
    def complex_arithmetic(symbol, left, right):
        """left `symbol` right (+ - * /) when either operand is complex."""
        if symbol == "*":
            for z, r in ((left, right), (right, left)):
                if z.is_complex and not r.is_complex and r._dim == 1:
                    return z._combine("ComplexRealScal({0},{1})", [r], dim=z._dim,
                                      complex=True)
        left, right = _as_complex(left), _as_complex(right)
        m, n = left._dim // 2, right._dim // 2
        if m != n and 1 not in (m, n):
            raise ValueError("complex operands of %d and %d components do not "
                             "broadcast" % (m, n))
        return left._combine(_COMPLEX_OPS[symbol] + "({0},{1})", [right],
                             dim=2 * max(m, n), complex=True)

    def __pow__(self, other):
        if not isinstance(other, int) or isinstance(other, bool) or other < 1:
            raise ValueError("complex LazyTensors take powers by integers >= 1 "
                             "only, got %r" % (other,))
        result = self
        for _ in range(other - 1):
            result = result * self
        return result

    def _real_part(self, op):
        return self._combine(op + "({0})", dim=self._dim // 2, complex=False)

    @property
    def real(self):
        return self._real_part("ComplexReal")

    @property
    def imag(self):
        return self._real_part("ComplexImag")

    def angle(self):
        return self._real_part("ComplexAngle")

    def __abs__(self):
        return self._real_part("ComplexAbs")

    def conj(self):
        return self._unary("Conj")

    def exp(self):
        return self._unary("ComplexExp")

    def _sum_components(self):
        return self._unary("ComplexSum", dim=2)

    def _not_for_complex(self, *args, **kwargs):
        raise ValueError("this operation takes a real LazyTensor, not a complex one")

    real2complex = imag2complex = exp1j = _not_for_complex
    keops_tensordot = keops_kron = _not_for_complex

    @property
    def shape(self):
        """The shape of the complex matrix (D complex numbers per entry)."""
        shape = self._shape[:-1] + (self._dim // 2,)
        return shape[:-1] if shape[-1] == 1 else shape

    @property
    def dtype(self):
        name = super().dtype
        return _COMPLEX_DTYPES.get(name, name)


def _as_complex(lazy):
    return lazy if lazy.is_complex else lazy.real2complex()
