# keops/common/lazy_tensor.py - LazyTensor: symbolic matrices F(x_i, y_j) as formula strings.
# SPDX-License-Identifier: MIT
"""The LazyTensor of pykeops, for any array library.

A LazyTensor is a formula over variables: arrays of shape (..., M, 1, D) are
i-variables, (..., 1, N, D) j-variables, (..., 1, 1, D) and (D,) parameters,
the leading dimensions being batch dimensions that broadcast; Python ints are
integer constants, floats and lists of floats parameters whose dtype is that
of the other arrays, and tuples (ind, dim, cat) symbolic variables given when
the reduction is called. Operations build the formula; reductions
(.sum(dim), .logsumexp(dim), .argKmin(K, dim), ...) compile it with Genred
and run it, dim = nbatchdims + 0 reducing over i and nbatchdims + 1 over j.
Complex arrays make ComplexLazyTensors (keops/common/complex_lazy_tensor.py).

The formula of a LazyTensor holds one placeholder key per variable; the keys
become Var(position, dim, category) when a reduction builds its Genred.
"""
import itertools
import math
import numbers
import re

import numpy as np

from keops import _C

_IDS = itertools.count()

# Reduction options that configure the Genred; the others go to its call.
GENRED_OPTIONS = ("dtype_acc", "use_double_acc", "sum_scheme", "enable_chunks",
                  "rec_multVar_highdim", "use_fast_math")


class _Variable:
    """One input of the formula, of `category` 0 (i), 1 (j) or 2 (parameter).

    Exactly one of `array` (the data: (*batch, rows, dim) for i and j,
    (*batch, dim) for parameters), `value` (a list of floats, a parameter
    whose array takes the dtype of the other arrays when the formula is
    reduced) and `index` (a symbolic variable: Var(index, dim, category),
    given at call time) is set."""

    def __init__(self, category, dim, array=None, value=None, index=None):
        self.key = "@%d@" % next(_IDS)
        self.category, self.dim = category, dim
        self.array, self.value, self.index = array, value, index

    def with_category(self, category):
        return _Variable(category, self.dim, self.array, self.value, self.index)


def _is_complex_number(x):
    return isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real)


def _is_complex_data(x, tools):
    if isinstance(x, list):
        return any(_is_complex_number(v) for v in x)
    return _is_complex_number(x) or tools.is_complex(x)


def _broadcast_batch(a, b):
    if a == b or not b:  # the common cases, without NumPy's general rule
        return tuple(a)
    if not a:
        return tuple(b)
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        raise ValueError("the batch dimensions %s and %s do not broadcast"
                         % (a, b)) from None


def _same_ranges(a, b):
    return a is b or all(np.array_equal(np.asarray(u), np.asarray(v))
                         for u, v in zip(a, b))


def _swap_ranges(ranges):
    """The block-sparse ranges of the transposed matrix (i and j swap)."""
    return None if ranges is None else tuple(ranges[3:6]) + tuple(ranges[0:3])


def _int_list(sequence):
    """'[a,b,c]' for the tuple arguments of TensorDot and Kron."""
    sequence = (sequence,) if isinstance(sequence, int) else tuple(sequence)
    if not all(isinstance(k, (int, np.integer)) for k in sequence):
        raise ValueError("expected integers, got %r" % (sequence,))
    return "[%s]" % ",".join(str(int(k)) for k in sequence)


class GenericLazyTensor:
    """Subclasses set `genred_class` (their Genred) and `tools`, a namespace
    of array functions: asarray(x), shape(x), reshape(x, shape),
    constant(values, like) (a 1-D array of `like`'s dtype, float64 without
    `like`), dtype_name(x), is_complex(x), complex_to_real(x) ((..., D)
    complex -> (..., 2D) real, (re, im) interleaved) and real_to_complex(x).
    `make_constructors` links the real and complex classes."""

    genred_class = None
    tools = None
    real_class = None
    complex_class = None
    is_complex = False
    ranges = None

    # NumPy arrays on the left of an operator defer to the LazyTensor.
    __array_ufunc__ = None

    def __new__(cls, x=None, axis=None):
        if (cls.complex_class is not None and not cls.is_complex
                and _is_complex_data(x, cls.tools)):
            cls = cls.complex_class
        return object.__new__(cls)

    def __init__(self, x=None, axis=None):
        if isinstance(x, bool) or x is None:
            raise TypeError("a LazyTensor is built from an array, an int, a float, "
                            "a list of floats or a tuple (ind, dim, cat), got %r"
                            % (x,))
        self.ni = self.nj = None
        self.batchdims = ()
        if isinstance(x, tuple):
            variable = self._symbolic_variable(x, axis)
        elif isinstance(x, numbers.Integral):
            self.formula, self.variables, self._dim = "IntCst(%d)" % x, [], 1
            return
        elif isinstance(x, (numbers.Number, list)):
            variable = self._constant_variable(x, axis)
        else:
            variable = self._array_variable(x, axis)
        self.formula, self.variables, self._dim = variable.key, [variable], variable.dim

    @classmethod
    def _make(cls, formula, variables, dim, ni, nj, batchdims, ranges):
        result = object.__new__(cls)
        result.formula, result.variables, result._dim = formula, list(variables), dim
        result.ni, result.nj, result.batchdims = ni, nj, tuple(batchdims)
        if ranges is not None:
            result.ranges = ranges
        return result

    # ----------------------------------------------------------------------
    # Variables
    # ----------------------------------------------------------------------

    @staticmethod
    def _symbolic_variable(x, axis):
        if len(x) != 3 or not all(isinstance(v, int) and not isinstance(v, bool)
                                  for v in x):
            raise ValueError("a symbolic LazyTensor is built from a tuple (ind, dim, "
                             "cat) of three integers, got %r" % (x,))
        if axis is not None:
            raise ValueError("axis is not given with a tuple (ind, dim, cat)")
        index, dim, category = x
        if index < 0 or dim < 1 or category not in (0, 1, 2):
            raise ValueError("(ind, dim, cat) needs ind >= 0, dim >= 1 and cat 0 "
                             "(i), 1 (j) or 2 (parameter), got %r" % (x,))
        return _Variable(category, dim, index=index)

    def _constant_variable(self, x, axis):
        if axis not in (None, 2):
            raise ValueError("numbers and lists of numbers are parameters: axis "
                             "must be None or 2, got %r" % (axis,))
        values = x if isinstance(x, list) else [x]
        if self.is_complex:
            values = [part for v in values for part in (complex(v).real, complex(v).imag)]
        if not values or not all(isinstance(v, numbers.Real) for v in values):
            raise TypeError("a parameter list holds numbers, got %r" % (x,))
        return _Variable(2, len(values), value=[float(v) for v in values])

    def _array_variable(self, x, axis):
        tools = self.tools
        array = tools.asarray(x)
        shape = tuple(tools.shape(array))
        if len(shape) == 0:
            array, shape = tools.reshape(array, (1,)), (1,)
        if self.is_complex:
            if not tools.is_complex(array):
                raise TypeError("a ComplexLazyTensor is built from complex data; "
                                "real LazyTensors become complex with real2complex()")
            array = tools.complex_to_real(array)
            shape = shape[:-1] + (2 * shape[-1],)
        if axis is None and len(shape) >= 3:
            if shape[-3] == 1 and shape[-2] == 1:
                axis, core = 2, (shape[-1],)
            elif shape[-3] == 1:
                axis, core = 1, shape[-2:]
            elif shape[-2] == 1:
                axis, core = 0, (shape[-3], shape[-1])
            else:
                raise ValueError(self._shape_error(shape))
            array = tools.reshape(array, shape[:-3] + core)
            shape = shape[:-3] + core
        elif axis is None and len(shape) == 1:
            axis = 2
        elif axis not in (0, 1, 2) or (axis in (0, 1) and len(shape) < 2):
            raise ValueError(self._shape_error(shape, axis))
        batch = shape[:-1] if axis == 2 else shape[:-2]
        variable = _Variable(axis, shape[-1], array=array)
        self.batchdims = batch
        if axis == 0:
            self.ni = shape[-2]
        elif axis == 1:
            self.nj = shape[-2]
        return variable

    @staticmethod
    def _shape_error(shape, axis=None):
        if axis is not None:
            return ("with axis=%r, expected an array of shape (..., rows, D) for "
                    "axis 0 (i) or 1 (j), or (..., D) for axis 2 (parameter); got "
                    "shape %s" % (axis, shape))
        return ("expected an array of shape (M, 1, D) (an i-variable), (1, N, D) "
                "(a j-variable) or (1, 1, D) / (D,) (a parameter), with optional "
                "leading batch dimensions, or a 2-D array with axis=0 or 1; got "
                "shape %s" % (shape,))

    # ----------------------------------------------------------------------
    # Building formulas
    # ----------------------------------------------------------------------

    def _lift(self, other):
        if isinstance(other, GenericLazyTensor):
            return other
        return (self.real_class or type(self))(other)

    def _combine(self, pattern, others=(), dim=None, complex=None):
        """A new LazyTensor whose formula is `pattern` formatted with the
        formulas of self and `others`, complex if `complex` (by default, if
        self is)."""
        operands = [self] + [self._lift(o) for o in others]
        variables, seen = [], set()
        ni = nj = ranges = None
        batchdims = ()
        for operand in operands:
            for variable in operand.variables:
                if variable.key not in seen:
                    seen.add(variable.key)
                    variables.append(variable)
            for name, size in (("i", operand.ni), ("j", operand.nj)):
                current = ni if name == "i" else nj
                if size is not None and current is not None and size != current:
                    raise ValueError("incompatible numbers of %s-rows: %d and %d"
                                     % (name, current, size))
            ni = ni if ni is not None else operand.ni
            nj = nj if nj is not None else operand.nj
            batchdims = _broadcast_batch(batchdims, operand.batchdims)
            if operand.ranges is not None:
                if ranges is not None and not _same_ranges(ranges, operand.ranges):
                    raise ValueError("the operands have different block-sparse ranges")
                ranges = operand.ranges
        formula = pattern.format(*[o.formula for o in operands])
        if dim is None:
            dims = {o._dim for o in operands} - {1}
            if len(dims) > 1:
                raise ValueError("operand dimensions %s do not broadcast"
                                 % [o._dim for o in operands])
            dim = dims.pop() if dims else 1
        is_complex = self.is_complex if complex is None else complex
        cls = (self.complex_class if is_complex else self.real_class) or type(self)
        return cls._make(formula, variables, dim, ni, nj, batchdims, ranges)

    def _unary(self, name, dim=None):
        return self._combine(name + "({0})", dim=dim)

    # Arithmetic: complex operands go through the complex class's rules.
    def _arithmetic(self, symbol, other, reflected=False):
        other = self._lift(other)
        left, right = (other, self) if reflected else (self, other)
        if left.is_complex or right.is_complex:
            return self.complex_class.complex_arithmetic(symbol, left, right)
        return left._combine("({0}%s{1})" % symbol, [right])

    def __add__(self, other): return self._arithmetic("+", other)
    def __radd__(self, other): return self._arithmetic("+", other, True)
    def __sub__(self, other): return self._arithmetic("-", other)
    def __rsub__(self, other): return self._arithmetic("-", other, True)
    def __mul__(self, other): return self._arithmetic("*", other)
    def __rmul__(self, other): return self._arithmetic("*", other, True)
    def __truediv__(self, other): return self._arithmetic("/", other)
    def __rtruediv__(self, other): return self._arithmetic("/", other, True)
    def __neg__(self): return self._combine("(-{0})")
    def __abs__(self): return self._unary("Abs")

    def __pow__(self, other):
        if isinstance(other, int) and not isinstance(other, bool):
            return self._unary("Square") if other == 2 else self._combine(
                "Pow({0},%d)" % other)
        if isinstance(other, float) and other == 0.5:
            return self._unary("Sqrt")
        if isinstance(other, float) and other == -0.5:
            return self._unary("Rsqrt")
        return self._combine("Powf({0},{1})", [other])

    def __or__(self, other):
        other = self._lift(other)
        if other._dim != self._dim:
            raise ValueError("the scalar product (x|y) needs operands of the same "
                             "dimension, got %d and %d" % (self._dim, other._dim))
        return self._combine("({0}|{1})", [other], dim=1)

    def __ror__(self, other):
        return self._lift(other) | self

    # Comparisons (0 or 1).
    def __eq__(self, other): return self._combine("Equal({0},{1})", [other])
    def __ne__(self, other): return self._combine("NotEqual({0},{1})", [other])
    def __lt__(self, other): return self._combine("LessThan({0},{1})", [other])
    def __le__(self, other): return self._combine("LessOrEqual({0},{1})", [other])
    def __gt__(self, other): return self._lift(other) < self
    def __ge__(self, other): return self._lift(other) <= self
    __hash__ = object.__hash__

    # Math.
    def exp(self): return self._unary("Exp")
    def log(self): return self._unary("Log")
    def sqrt(self): return self._unary("Sqrt")
    def rsqrt(self): return self._unary("Rsqrt")
    def square(self): return self._unary("Square")
    def abs(self): return abs(self)
    def sign(self): return self._unary("Sign")
    def step(self): return self._unary("Step")
    def relu(self): return self._unary("ReLU")
    def sin(self): return self._unary("Sin")
    def cos(self): return self._unary("Cos")
    def asin(self): return self._unary("Asin")
    def acos(self): return self._unary("Acos")
    def atan(self): return self._unary("Atan")
    def xlogx(self): return self._unary("XLogX")
    def sinxdivx(self): return self._unary("SinXDivX")
    def sinc(self):
        """sin(pi x) / (pi x), 1 at 0."""
        return (math.pi * self).sinxdivx()
    def inv(self): return self._unary("Inv")
    def power(self, other): return self ** other
    def atan2(self, other): return self._combine("Atan2({0},{1})", [other])
    def ifelse(self, a, b): return self._combine("IfElse({0},{1},{2})", [a, b])
    def clamp(self, a, b):
        if isinstance(a, int) and isinstance(b, int):
            return self._combine("ClampInt({0},%d,%d)" % (a, b))
        return self._combine("Clamp({0},{1},{2})", [a, b])
    def mod(self, modulus, offset=0):
        return self._combine("Mod({0},{1},{2})", [modulus, offset])
    def round(self, decimals=0): return self._combine("Round({0},%d)" % decimals)

    # Vector operations.
    def sqnorm2(self): return self._unary("SqNorm2", dim=1)
    def norm2(self): return self._unary("Norm2", dim=1)
    def norm(self, dim=-1):
        if not self._is_vector_axis(dim):
            raise ValueError("LazyTensors take norms over their last axis only, got "
                             "dim=%r" % (dim,))
        return self.norm2()
    def normalize(self): return self._unary("Normalize")
    def sqdist(self, other): return self._combine("SqDist({0},{1})", [other], dim=1)

    def weightedsqnorm(self, weight):
        weight = self._lift(weight)
        if weight._dim not in (1, self._dim, self._dim ** 2):
            raise ValueError("the weight of weightedsqnorm has dimension %d; expected "
                             "1, D or D*D with D = %d" % (weight._dim, self._dim))
        return weight._combine("WeightedSqNorm({0},{1})", [self], dim=1)

    def weightedsqdist(self, other, weight):
        return (self - other).weightedsqnorm(weight)

    def elem(self, i):
        """Component i, as a LazyTensor of dimension 1."""
        if not isinstance(i, int) or not 0 <= i < self._dim:
            raise ValueError("elem takes an integer index in [0, %d), got %r"
                             % (self._dim, i))
        return self._combine("Elem({0},%d)" % i, dim=1)

    def extract(self, i, d):
        """Components i to i + d - 1, as a LazyTensor of dimension d."""
        if not isinstance(i, int) or not isinstance(d, int):
            raise ValueError("extract takes integers, got %r and %r" % (i, d))
        if not 0 <= i < self._dim or d < 1 or i + d > self._dim:
            raise ValueError("extract(%d, %d) is out of bounds for dimension %d"
                             % (i, d, self._dim))
        return self._combine("Extract({0},%d,%d)" % (i, d), dim=d)

    def __getitem__(self, key):
        if isinstance(key, tuple):
            if not all(k is Ellipsis or k == slice(None) for k in key[:-1]):
                raise IndexError("LazyTensors are indexed on their last axis only, "
                                 "got %r" % (key,))
            key = key[-1]
        if isinstance(key, int):
            if not -self._dim <= key < self._dim:
                raise IndexError("index %d is out of bounds for dimension %d"
                                 % (key, self._dim))
            return self.elem(key % self._dim)
        if isinstance(key, slice) and key.step in (None, 1):
            start, stop, _ = key.indices(self._dim)
            if stop <= start:
                raise IndexError("the slice %r of dimension %d is empty"
                                 % (key, self._dim))
            return self.extract(start, stop - start)
        raise IndexError("LazyTensors take an int or a contiguous slice on their "
                         "last axis, got %r" % (key,))

    def one_hot(self, dim):
        if not isinstance(dim, int) or self._dim != 1:
            raise ValueError("one_hot(D) takes an integer D and a LazyTensor of "
                             "dimension 1, got D=%r and dimension %d" % (dim, self._dim))
        return self._combine("OneHot({0},%d)" % dim, dim=dim)

    def concat(self, other):
        other = self._lift(other)
        return self._combine("Concat({0},{1})", [other], dim=self._dim + other._dim)

    @staticmethod
    def concatenate(tensors, axis=-1):
        """The concatenation of a tuple of LazyTensors along their last axis."""
        if not isinstance(tensors, (tuple, list)) or not tensors:
            raise ValueError("concatenate takes a non-empty tuple of LazyTensors")
        first = tensors[0]
        if not first._is_vector_axis(axis):
            raise ValueError("LazyTensors are concatenated along their last axis "
                             "only, got axis=%r" % (axis,))
        result = first
        for other in tensors[1:]:
            result = result.concat(other)
        return result

    @staticmethod
    def cat(tensors, dim):
        """torch's name for concatenate."""
        return GenericLazyTensor.concatenate(tensors, dim)

    def matvecmult(self, other):
        other = self._lift(other)
        if self._dim % other._dim:
            raise ValueError("matvecmult: a matrix of dimension %d does not take a "
                             "vector of dimension %d" % (self._dim, other._dim))
        return self._combine("MatVecMult({0},{1})", [other], dim=self._dim // other._dim)

    def vecmatmult(self, other):
        other = self._lift(other)
        if other._dim % self._dim:
            raise ValueError("vecmatmult: a vector of dimension %d does not take a "
                             "matrix of dimension %d" % (self._dim, other._dim))
        return self._combine("VecMatMult({0},{1})", [other], dim=other._dim // self._dim)

    def tensorprod(self, other):
        other = self._lift(other)
        return self._combine("TensorProd({0},{1})", [other], dim=self._dim * other._dim)

    def keops_tensordot(self, other, dimfa, dimfb, contfa, contfb, *permute):
        """TensorDot: self and other are row-major tensors of shapes dimfa
        and dimfb; the axes contfa of self and contfb of other are summed."""
        other = self._lift(other)
        dimfa, dimfb = tuple(dimfa), tuple(dimfb)
        contfa = (contfa,) if isinstance(contfa, int) else tuple(contfa)
        contfb = (contfb,) if isinstance(contfb, int) else tuple(contfb)
        if math.prod(dimfa) != self._dim or math.prod(dimfb) != other._dim:
            raise ValueError("keops_tensordot: shapes %s and %s do not match the "
                             "dimensions %d and %d"
                             % (dimfa, dimfb, self._dim, other._dim))
        dim = math.prod(dimfa) * math.prod(dimfb) // math.prod(
            dimfa[k] for k in contfa) ** 2
        sequences = (dimfa, dimfb, contfa, contfb) + permute
        arguments = ",".join(_int_list(s) for s in sequences)
        return self._combine("TensorDot({0},{1},%s)" % arguments, [other], dim=dim)

    def keops_kron(self, other, dimfself, dimfother):
        """Kron: the Kronecker product of row-major tensors of shapes
        dimfself and dimfother (of the same rank)."""
        other = self._lift(other)
        if isinstance(dimfself, int) or isinstance(dimfother, int):
            raise ValueError("keops_kron takes the two shapes as tuples or lists")
        if len(dimfself) != len(dimfother):
            raise ValueError("keops_kron: shapes %s and %s have different ranks"
                             % (tuple(dimfself), tuple(dimfother)))
        if math.prod(dimfself) != self._dim or math.prod(dimfother) != other._dim:
            raise ValueError("keops_kron: shapes %s and %s do not match the dimensions "
                             "%d and %d" % (tuple(dimfself), tuple(dimfother),
                                            self._dim, other._dim))
        return self._combine("Kron({0},{1},%s,%s)" % (_int_list(dimfself),
                                                      _int_list(dimfother)),
                             [other], dim=self._dim * other._dim)

    def bspline(self, x, k=0):
        """The B-splines of order k on the knots self, at the scalar x."""
        x = self._lift(x)
        if x._dim != 1:
            raise ValueError("bspline samples at a LazyTensor of dimension 1, got %d"
                             % x._dim)
        if not isinstance(k, int) or k < 0 or self._dim < k + 2:
            raise ValueError("bspline of order k needs an integer k >= 0 and at least "
                             "k + 2 knots, got k=%r and %d knots" % (k, self._dim))
        return self._combine("BSpline({0},{1},%d)" % k, [x], dim=self._dim - k - 1)

    def softdtw_sqdist(self, other, gamma):
        """The soft-DTW distance of the sequences self and other (squared
        difference cost), with smoothing gamma."""
        gamma = self._lift(gamma)
        if gamma._dim != 1:
            raise ValueError("softdtw_sqdist takes a scalar gamma, got dimension %d"
                             % gamma._dim)
        return self._combine("SoftDTW_SqDist({0},{1},{2})", [other, gamma], dim=1)

    # Derivatives (v: a LazyTensor variable).
    def _as_variable(self, v):
        if len(v.variables) != 1 or v.formula != v.variables[0].key:
            raise ValueError("derivatives are taken with respect to a variable "
                             "LazyTensor")
        return v

    def grad(self, v, gradin):
        v = self._as_variable(v)
        return self._combine("Grad({0},{1},{2})", [v, gradin], dim=v._dim)

    def diff(self, v, u):
        return self._combine("Diff({0},{1},{2})", [self._as_variable(v), u])

    def divergence(self, v):
        return self._combine("Divergence({0},{1})", [self._as_variable(v)], dim=1)

    def laplacian(self, v):
        return self._combine("Laplacian({0},{1})", [self._as_variable(v)], dim=1)

    def grad_matrix(self, v):
        v = self._as_variable(v)
        return self._combine("GradMatrix({0},{1})", [v], dim=self._dim * v._dim)

    def trace_operator(self, v):
        """The trace of the linear map v -> self (self linear in v, of v's
        dimension). As in pykeops, a symbolic v is no longer a variable of
        the result when the trace does not read it (the compiler expands the
        trace); an array v stays an input."""
        v = self._as_variable(v)
        if v._dim != self._dim:
            raise ValueError("trace_operator needs a formula of the dimension of the "
                             "variable, got %d and %d" % (self._dim, v._dim))
        trace = self._combine("TraceOperator({0},{1})", [v], dim=1)
        variable = v.variables[0]
        return trace if variable.index is None else trace._without(variable)

    def _without(self, variable):
        """This LazyTensor with its derivatives expanded by the compiler and
        without `variable`, or itself when the expanded formula reads it."""
        expanded = _C.expanded_formula("Sum_Reduction(%s,0)" % self._text(), [])
        spelled = {text: v for v, text in self._spellings()}
        pattern = re.compile(r"Var\(\d+,\d+,\d+\)")
        if any(spelled[s] is variable for s in pattern.findall(expanded)):
            return self
        formula = pattern.sub(lambda m: spelled[m.group(0)].key, expanded)
        return type(self)._make(formula, [v for v in self.variables if v is not variable],
                                self._dim, self.ni, self.nj, self.batchdims, self.ranges)

    def factorize(self, other):
        """self: KeOps's Factorize only hoists `other` out of the formula to
        compute it once, which the compiler does by itself."""
        self._lift(other)
        return self

    def auto_factorize(self):
        """self: KeOps's AutoFactorize only changes the speed; the compiler
        shares common sub-expressions by itself."""
        return self

    # Complex numbers from real LazyTensors.
    def real2complex(self):
        return self._combine("Real2Complex({0})", dim=2 * self._dim, complex=True)

    def imag2complex(self):
        return self._combine("Imag2Complex({0})", dim=2 * self._dim, complex=True)

    def exp1j(self):
        """exp(1j * self), as a ComplexLazyTensor."""
        return self._combine("ComplexExp1j({0})", dim=2 * self._dim, complex=True)

    # ----------------------------------------------------------------------
    # Shape and text
    # ----------------------------------------------------------------------

    def _symbolic(self):
        return [v for v in self.variables if v.index is not None]

    def _data(self):
        return [v for v in self.variables if v.index is None]

    def _spellings(self):
        """(variable, Var(position, dim, category)) for each variable:
        symbolic variables keep their index, the others follow them."""
        first = max((v.index + 1 for v in self._symbolic()), default=0)
        return ([(v, "Var(%d,%d,%d)" % (v.index, v.dim, v.category))
                 for v in self._symbolic()] +
                [(v, "Var(%d,%d,%d)" % (first + k, v.dim, v.category))
                 for k, v in enumerate(self._data())])

    def _text(self):
        """The formula with each variable's Var(position, dim, category)."""
        text = self.formula
        for v, spelled in self._spellings():
            text = text.replace(v.key, spelled)
        return text

    def __str__(self):
        text = "KeOps LazyTensor\n    formula: %s" % self._text()
        symbolic = self._symbolic()
        if symbolic:
            text += "\n    symbolic variables: " + ", ".join(
                "Var(%d,%d,%d)" % (v.index, v.dim, v.category) for v in symbolic)
        return text + "\n    shape: %s" % (self.shape,)

    @property
    def _shape(self):
        """(*batch, M, N, D), with 1 for an axis no variable indexes."""
        return self.batchdims + (self.ni or 1, self.nj or 1, self._dim)

    @property
    def shape(self):
        """_shape without its last axis when the dimension is 1 (pykeops)."""
        shape = self._shape
        return shape[:-1] if shape[-1] == 1 else shape

    @property
    def ndim(self):
        """The dimension D of the vectors (pykeops's meaning of ndim)."""
        return self._dim

    def dim(self):
        """The number of axes of _shape, as torch's Tensor.dim()."""
        return len(self._shape)

    @property
    def nbatchdims(self):
        return len(self.batchdims)

    @property
    def dtype(self):
        """The dtype name ('float32', 'float64') of the arrays, or None."""
        arrays = [v.array for v in self.variables if v.array is not None]
        return self.tools.dtype_name(arrays[0]) if arrays else None

    def _is_vector_axis(self, axis):
        return axis in (-1, len(self._shape) - 1)

    # ----------------------------------------------------------------------
    # Reductions
    # ----------------------------------------------------------------------

    def _reduction_axis(self, axis):
        """0 (over i) or 1 (over j) for the axis of _shape; negative axes
        count from the end (-3: i, -2: j)."""
        if isinstance(axis, int) and -len(self._shape) <= axis < 0:
            axis += len(self._shape)
        batch = self.nbatchdims
        if axis not in (batch, batch + 1):
            raise ValueError("reductions need dim=%d (over i) or dim=%d (over j)%s, "
                             "got %r" % (batch, batch + 1,
                                         " with %d batch dimensions" % batch if batch
                                         else "", axis))
        return axis - batch

    def _reduce(self, reduction_op, axis=None, dim=None, opt_arg=None, weight=None,
                call=True, **options):
        reduction = LazyReduction(self, reduction_op,
                                  self._reduction_axis(dim if dim is not None else axis),
                                  opt_arg, weight, options)
        if call and not reduction.symbolic:
            return reduction()
        return reduction

    def _vector_or_reduce(self, op, reduction_op, axis, dim, options):
        axis = dim if dim is not None else axis
        if self._is_vector_axis(axis):
            return self._unary(op, dim=1)
        return self._reduce(reduction_op, axis, **options)

    def __call__(self, *args, **kwargs):
        raise ValueError("only reductions can be called: reduce the LazyTensor "
                         "with call=False (e.g. K.sum(dim=1, call=False)) to get a "
                         "callable")

    def sum(self, axis=-1, dim=None, **kwargs):
        """The sum over i or j (a reduction), or of the components (axis -1)."""
        axis = dim if dim is not None else axis
        if self._is_vector_axis(axis):
            return self._sum_components()
        return self._reduce("Sum", axis, **kwargs)

    def _sum_components(self):
        return self._unary("Sum", dim=1)

    def sum_reduction(self, axis=None, dim=None, **kwargs):
        return self._reduce("Sum", axis, dim, **kwargs)

    def logsumexp(self, axis=None, dim=None, weight=None, other=None, **kwargs):
        """`other` is pykeops's internal name of `weight`, also accepted."""
        weight = other if weight is None else weight
        return self._reduce("LogSumExp", axis, dim, weight=weight, **kwargs)

    def sumsoftmaxweight(self, weight=None, axis=None, dim=None, other=None, **kwargs):
        weight = other if weight is None else weight
        if weight is None:
            raise ValueError("sumsoftmaxweight needs a weight LazyTensor")
        return self._reduce("SumSoftMaxWeight", axis, dim, weight=weight, **kwargs)

    logsumexp_reduction = logsumexp
    sumsoftmaxweight_reduction = sumsoftmaxweight

    def min(self, axis=-1, dim=None, **kwargs):
        return self._vector_or_reduce("Min", "Min", axis, dim, kwargs)

    def max(self, axis=-1, dim=None, **kwargs):
        return self._vector_or_reduce("Max", "Max", axis, dim, kwargs)

    def argmin(self, axis=-1, dim=None, **kwargs):
        return self._vector_or_reduce("ArgMin", "ArgMin", axis, dim, kwargs)

    def argmax(self, axis=-1, dim=None, **kwargs):
        return self._vector_or_reduce("ArgMax", "ArgMax", axis, dim, kwargs)

    def min_reduction(self, axis=None, dim=None, **kwargs):
        return self._reduce("Min", axis, dim, **kwargs)

    def max_reduction(self, axis=None, dim=None, **kwargs):
        return self._reduce("Max", axis, dim, **kwargs)

    def argmin_reduction(self, axis=None, dim=None, **kwargs):
        return self._reduce("ArgMin", axis, dim, **kwargs)

    def argmax_reduction(self, axis=None, dim=None, **kwargs):
        return self._reduce("ArgMax", axis, dim, **kwargs)

    def min_argmin(self, axis=None, dim=None, **kwargs):
        return self._reduce("Min_ArgMin", axis, dim, **kwargs)

    def max_argmax(self, axis=None, dim=None, **kwargs):
        return self._reduce("Max_ArgMax", axis, dim, **kwargs)

    def Kmin(self, K, axis=None, dim=None, **kwargs):
        return self._reduce("KMin", axis, dim, opt_arg=K, **kwargs)

    def argKmin(self, K, axis=None, dim=None, **kwargs):
        return self._reduce("ArgKMin", axis, dim, opt_arg=K, **kwargs)

    def Kmin_argKmin(self, K, axis=None, dim=None, **kwargs):
        return self._reduce("KMin_ArgKMin", axis, dim, opt_arg=K, **kwargs)

    min_argmin_reduction = min_argmin
    max_argmax_reduction = max_argmax
    Kmin_reduction, argKmin_reduction, Kmin_argKmin_reduction = Kmin, argKmin, Kmin_argKmin

    # ----------------------------------------------------------------------
    # Linear operator
    # ----------------------------------------------------------------------

    def t(self):
        """The transposed symbolic matrix: i and j variables swap roles."""
        swap = {0: 1, 1: 0, 2: 2}
        formula, variables = self.formula, []
        for v in self.variables:
            w = v.with_category(swap[v.category])
            formula = formula.replace(v.key, w.key)
            variables.append(w)
        return type(self)._make(formula, variables, self._dim, self.nj, self.ni,
                                self.batchdims, _swap_ranges(self.ranges))

    T = property(t)

    def __matmul__(self, v, **kwargs):
        """K @ v = sum_j K_ij v_j for K of dimension 1 and v of shape (N,),
        (N, D) or (..., N, D) (batch dimensions broadcast with K's); keyword
        arguments (sum_scheme, backend, ...) go to the sum reduction."""
        if self._dim != 1:
            raise ValueError("K @ v needs a LazyTensor of dimension 1, got shape %s"
                             % (self._shape,))
        shape = tuple(self.tools.shape(v))
        if len(shape) == 0:
            raise ValueError("K @ v needs v of shape (N,) or (..., N, D), got a scalar")
        if len(shape) == 1:
            column = self.tools.reshape(v, (1, shape[0], 1))
        else:
            column = self.tools.reshape(v, shape[:-2] + (1,) + shape[-2:])
        if self.nj is not None and self.tools.shape(column)[-2] != self.nj:
            raise ValueError("K @ v: K has %d columns but v has shape %s"
                             % (self.nj, shape))
        product = self * self._lift(column)
        result = product.sum(dim=product.dim() - 2, **kwargs)
        return self.tools.reshape(result, (-1,)) if len(shape) == 1 else result

    def matvec(self, v, **kwargs):
        """K @ v, for scipy.sparse.linalg.aslinearoperator."""
        return self.__matmul__(v, **kwargs)

    def rmatvec(self, v, **kwargs):
        """K^T @ v, for scipy.sparse.linalg.aslinearoperator."""
        return self.T.__matmul__(v, **kwargs)

    def solve(self, b, alpha=1e-10, eps=1e-6, call=True):
        """a with (alpha Id + K) a = b, by conjugate gradient, for a symmetric
        positive LazyTensor K of dimension 1 and b of shape (M,) or (M, D)."""
        if isinstance(b, GenericLazyTensor):
            if len(b.variables) != 1 or b.variables[0].category != 0:
                raise ValueError("solve takes b as an array or an i-variable LazyTensor")
            b = b.variables[0].array
        from keops.common.solve import conjugate_gradient

        def solve():
            return conjugate_gradient(lambda v: self @ v + alpha * v, b, eps,
                                      dot=lambda u, v: (u * v).sum(),
                                      copy=lambda u: u * 1)
        return solve() if call else LazySolve(self, solve)


class LazySolve:
    """A linear solve of a LazyTensor, ready to run (pykeops's callable
    LazyTensor of solve(..., call=False)): calling it, or its `callfun`,
    solves."""

    def __init__(self, lazy, callfun):
        self.lazy, self.callfun = lazy, callfun

    def __call__(self):
        return self.callfun()

    def __str__(self):
        return "KeOps LazyTensor solve\n    formula: %s" % self.lazy._text()

    __repr__ = __str__


# The reductions of ComplexLazyTensors: values of the same components, so
# that the results are complex again.
COMPLEX_REDUCTIONS = ("Sum", "Min", "Max")


class LazyReduction:
    """A reduction of a LazyTensor, ready to run: calling it with the arrays
    of the symbolic variables (in the order of their indices) runs the
    Genred on them and on the LazyTensor's own arrays (pykeops's callable
    LazyTensor)."""

    def __init__(self, lazy, reduction_op, axis, opt_arg=None, weight=None,
                 options=None):
        if lazy.is_complex and reduction_op not in COMPLEX_REDUCTIONS:
            raise ValueError("complex LazyTensors support the reductions %s (min and "
                             "max of the real and imaginary parts apart, as in "
                             "pykeops), got %s" % (", ".join(COMPLEX_REDUCTIONS),
                                                   reduction_op))
        both = lazy if weight is None else lazy._combine("{0}#{1}", [weight],
                                                         dim=lazy._dim)
        formula, _, formula2 = both._text().partition("#")
        options = dict(options or {})
        genred_options = {k: options.pop(k) for k in GENRED_OPTIONS if k in options}
        if lazy.ranges is not None:
            options.setdefault("ranges", lazy.ranges)
        self.lazy, self.reduction_op, self.axis = lazy, reduction_op, axis
        self.call_options = options
        self.variables = both._data()
        self.symbolic = sorted((v.index, v.dim, v.category) for v in both._symbolic())
        self.routine = lazy.genred_class(formula, [], reduction_op=reduction_op,
                                         axis=axis, opt_arg=opt_arg,
                                         formula2=formula2 or None, **genred_options)

    def _arrays(self, args):
        """The LazyTensor's arrays, constants in the dtype of the others."""
        tools = self.lazy.tools
        like = next((v.array for v in self.variables if v.array is not None),
                    args[0] if args else None)
        return [v.array if v.array is not None else tools.constant(v.value, like)
                for v in self.variables]

    @property
    def callfun(self):
        """The Genred that a call runs (pykeops's `callfun`)."""
        return self.routine

    def __call__(self, *args, **kwargs):
        if len(args) != len(self.symbolic):
            raise ValueError("this reduction takes %d arrays (for the symbolic "
                             "variables %s), got %d" % (len(self.symbolic),
                                                       self.symbolic, len(args)))
        options = dict(self.call_options, **kwargs)
        result = self.routine(*args, *self._arrays(args), **options)
        return self.lazy.tools.real_to_complex(result) if self.lazy.is_complex else result

    def __str__(self):
        return "KeOps LazyTensor reduction\n    formula: %s\n    reduction: %s " \
               "(axis=%d)" % (self.routine.formula, self.reduction_op, self.axis)


def make_constructors(lazy_tensor_class, complex_class):
    """Links a LazyTensor class with its ComplexLazyTensor class and returns
    pykeops's Var, Vi, Vj and Pm for them."""
    lazy_tensor_class.real_class = lazy_tensor_class
    lazy_tensor_class.complex_class = complex_class

    def Var(x_or_ind, dim=None, cat=None):
        """A variable from data (cat = axis: 0 for (..., M, D) i-data, 1 for
        (..., N, D) j-data, 2 for (..., D) parameters), or the symbolic
        variable (ind, dim, cat) when dim is given."""
        if dim is None:
            return lazy_tensor_class(x_or_ind, axis=cat)
        return lazy_tensor_class((x_or_ind, dim, cat))

    def Vi(x_or_ind, dim=None):
        """An i-variable from a (..., M, D) array, or the symbolic Vi(ind, dim)."""
        return Var(x_or_ind, dim, 0)

    def Vj(x_or_ind, dim=None):
        """A j-variable from a (..., N, D) array, or the symbolic Vj(ind, dim)."""
        return Var(x_or_ind, dim, 1)

    def Pm(x_or_ind, dim=None):
        """A parameter from a (..., D) array, a number or a list of numbers, or
        the symbolic Pm(ind, dim)."""
        if dim is None and isinstance(x_or_ind, int) and not isinstance(x_or_ind, bool):
            x_or_ind = float(x_or_ind)
        return Var(x_or_ind, dim, 2)

    return Var, Vi, Vj, Pm
