# keops/common/lazy_tensor.py - LazyTensor: symbolic matrices F(x_i, y_j) as formula strings.
# SPDX-License-Identifier: MIT
"""The LazyTensor of pykeops, for any array library.

A LazyTensor is a formula over variables: arrays of shape (M, 1, D) are
i-variables, (1, N, D) j-variables, (D,) parameters; Python ints are integer
constants and floats dimension-1 parameters. Operations build the formula;
reductions (.sum(dim), .logsumexp(dim), .argKmin(K, dim), ...) compile it with
Genred and run it, dim=0 reducing over i and dim=1 over j.
"""
import itertools

_IDS = itertools.count()


class _Variable:
    """One array of the formula: `category` 0 (i), 1 (j) or 2 (parameter).
    A Python float is a parameter whose array takes the dtype of the other
    arrays when the formula is reduced (`array` is None until then)."""

    def __init__(self, array, category, dim, value=None):
        self.key = "@%d@" % next(_IDS)
        self.array, self.category, self.dim, self.value = array, category, dim, value


class GenericLazyTensor:
    """Subclasses set `genred_class` (their Genred) and `tools`: asarray(x),
    shape(x), reshape(x, shape) and constant(value, like) (a (1,) array of
    `like`'s dtype, float64 without `like`)."""

    genred_class = None
    tools = None

    def __init__(self, x=None, axis=None, formula=None, variables=(), dim=1, ni=None,
                 nj=None):
        if formula is not None:
            self.formula, self.variables, self._dim = formula, list(variables), dim
            self.ni, self.nj = ni, nj
            return
        self.ni = self.nj = None
        if isinstance(x, bool) or x is None:
            raise TypeError("a LazyTensor is built from an array, an int or a float, "
                            "got %r" % (x,))
        if isinstance(x, int):
            self.formula, self.variables, self._dim = "IntCst(%d)" % x, [], 1
            return
        if isinstance(x, float):
            variable = _Variable(None, 2, 1, value=x)
            self.formula, self.variables, self._dim = variable.key, [variable], 1
            return
        array = self.tools.asarray(x)
        shape = tuple(self.tools.shape(array))
        if axis is not None:
            if len(shape) != 2:
                raise ValueError("Vi/Vj take a 2-D array (rows, dim), got shape %s"
                                 % (shape,))
            category, rows, dim = axis, shape[0], shape[1]
        elif len(shape) == 3 and shape[1] == 1:
            category, rows, dim = 0, shape[0], shape[2]
        elif len(shape) == 3 and shape[0] == 1:
            category, rows, dim = 1, shape[1], shape[2]
        elif len(shape) == 1:
            category, rows, dim = 2, 1, shape[0]
        else:
            raise ValueError(
                "expected an array of shape (M, 1, D) (an i-variable), (1, N, D) "
                "(a j-variable) or (D,) (a parameter), got shape %s; batch "
                "dimensions are not supported yet" % (shape,))
        if category == 0:
            self.ni = rows
        elif category == 1:
            self.nj = rows
        core_shape = (dim,) if category == 2 else (rows, dim)
        variable = _Variable(self.tools.reshape(array, core_shape), category, dim)
        self.formula, self.variables, self._dim = variable.key, [variable], dim

    # ----------------------------------------------------------------------
    # Building formulas
    # ----------------------------------------------------------------------

    def _lift(self, other):
        return other if isinstance(other, GenericLazyTensor) else type(self)(other)

    def _combine(self, pattern, others=(), dim=None):
        """A new LazyTensor whose formula is `pattern` formatted with the
        formulas of self and `others`."""
        operands = [self] + [self._lift(o) for o in others]
        variables, seen = [], set()
        ni = nj = None
        for operand in operands:
            for variable in operand.variables:
                if variable.key not in seen:
                    seen.add(variable.key)
                    variables.append(variable)
            for size, name in ((operand.ni, "i"), (operand.nj, "j")):
                current = ni if name == "i" else nj
                if size is not None and current is not None and size != current:
                    raise ValueError("incompatible numbers of %s-rows: %d and %d"
                                     % (name, current, size))
            ni = ni if ni is not None else operand.ni
            nj = nj if nj is not None else operand.nj
        formula = pattern.format(*[o.formula for o in operands])
        if dim is None:
            dims = {o._dim for o in operands} - {1}
            if len(dims) > 1:
                raise ValueError("operand dimensions %s do not broadcast"
                                 % sorted(o._dim for o in operands))
            dim = dims.pop() if dims else 1
        return type(self)(formula=formula, variables=variables, dim=dim, ni=ni, nj=nj)

    def _unary(self, name, dim=None):
        return self._combine(name + "({0})", dim=dim)

    # Arithmetic.
    def __add__(self, other): return self._combine("({0}+{1})", [other])
    def __radd__(self, other): return self._lift(other)._combine("({0}+{1})", [self])
    def __sub__(self, other): return self._combine("({0}-{1})", [other])
    def __rsub__(self, other): return self._lift(other)._combine("({0}-{1})", [self])
    def __mul__(self, other): return self._combine("({0}*{1})", [other])
    def __rmul__(self, other): return self._lift(other)._combine("({0}*{1})", [self])
    def __truediv__(self, other): return self._combine("({0}/{1})", [other])
    def __rtruediv__(self, other): return self._lift(other)._combine("({0}/{1})", [self])
    def __neg__(self): return self._combine("(-{0})")
    def __abs__(self): return self._unary("Abs")

    def __pow__(self, other):
        if isinstance(other, int):
            return self._unary("Square") if other == 2 else self._combine(
                "Pow({0},%d)" % other)
        if other == 0.5:
            return self._unary("Sqrt")
        if other == -0.5:
            return self._unary("Rsqrt")
        return self._combine("Powf({0},{1})", [other])

    def __or__(self, other):
        return self._combine("({0}|{1})", [other], dim=1)

    def __getitem__(self, key):
        key = key[-1] if isinstance(key, tuple) else key
        if isinstance(key, int):
            return self._combine("Elem({0},%d)" % (key % self._dim), dim=1)
        if isinstance(key, slice) and key.step in (None, 1):
            start, stop, _ = key.indices(self._dim)
            return self._combine("Extract({0},%d,%d)" % (start, stop - start),
                                 dim=stop - start)
        raise IndexError("LazyTensors take an int or a contiguous slice on their "
                         "last axis, got %r" % (key,))

    # Comparisons (0 or 1).
    def __lt__(self, other): return self._combine("LessThan({0},{1})", [other])
    def __le__(self, other): return self._combine("LessOrEqual({0},{1})", [other])
    def __gt__(self, other): return self._lift(other)._combine("LessThan({0},{1})", [self])
    def __ge__(self, other): return self._lift(other)._combine("LessOrEqual({0},{1})", [self])

    # Math.
    def exp(self): return self._unary("Exp")
    def log(self): return self._unary("Log")
    def sqrt(self): return self._unary("Sqrt")
    def rsqrt(self): return self._unary("Rsqrt")
    def square(self): return self._unary("Square")
    def abs(self): return self._unary("Abs")
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
    def norm(self, dim=-1): return self.norm2()
    def normalize(self): return self._unary("Normalize")
    def sqdist(self, other): return self._combine("SqDist({0},{1})", [other], dim=1)
    def weightedsqnorm(self, weight):
        return self._lift(weight)._combine("WeightedSqNorm({0},{1})", [self], dim=1)
    def weightedsqdist(self, other, weight):
        return self._lift(weight)._combine("WeightedSqDist({0},{1},{2})",
                                           [self, other], dim=1)
    def concat(self, other):
        other = self._lift(other)
        return self._combine("Concat({0},{1})", [other], dim=self._dim + other._dim)
    def matvecmult(self, other):
        other = self._lift(other)
        return self._combine("MatVecMult({0},{1})", [other],
                             dim=self._dim // other._dim)
    def vecmatmult(self, other):
        other = self._lift(other)
        return self._combine("VecMatMult({0},{1})", [other],
                             dim=other._dim // self._dim)
    def tensorprod(self, other):
        other = self._lift(other)
        return self._combine("TensorProd({0},{1})", [other], dim=self._dim * other._dim)
    def one_hot(self, dim): return self._combine("OneHot({0},%d)" % dim, dim=dim)

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

    # ----------------------------------------------------------------------
    # Shape and text
    # ----------------------------------------------------------------------

    def _text(self):
        text = self.formula
        for k, v in enumerate(self.variables):
            text = text.replace(v.key, "Var(%d,%d,%d)" % (k, v.dim, v.category))
        return text

    def __str__(self):
        return "KeOps LazyTensor\n    formula: %s\n    shape: %s" % (self._text(),
                                                                     self.shape)

    @property
    def shape(self):
        return (self.ni or 1, self.nj or 1, self._dim)

    @property
    def ndim(self):
        return 3

    def dim(self):
        return 3

    # ----------------------------------------------------------------------
    # Reductions
    # ----------------------------------------------------------------------

    def _arrays(self, variables):
        """The arrays of `variables`, Python floats in the arrays' dtype."""
        like = next((v.array for v in variables if v.array is not None), None)
        return [v.array if v.array is not None else self.tools.constant(v.value, like)
                for v in variables]

    def _reduce(self, reduction_op, dim, opt_arg=None, formula2=None, **kwargs):
        axis = dim if dim is not None else kwargs.pop("axis", None)
        if axis not in (0, 1):
            raise ValueError("reductions need dim=0 (over i) or dim=1 (over j), got %r"
                             % (axis,))
        call_options = {k: kwargs.pop(k) for k in ("backend", "device_id", "ranges",
                                                   "out") if k in kwargs}
        call = kwargs.pop("call", True)
        routine = self.genred_class(self._text(), [], reduction_op=reduction_op,
                                    axis=axis, opt_arg=opt_arg, formula2=formula2,
                                    **kwargs)
        arrays = self._arrays(self.variables)
        if not call:
            return lambda: routine(*arrays, **call_options)
        return routine(*arrays, **call_options)

    def sum(self, dim=-1, **kwargs):
        if dim in (-1, 2):
            return self._unary("Sum", dim=1)
        return self._reduce("Sum", dim, **kwargs)

    def sum_reduction(self, dim=None, **kwargs): return self._reduce("Sum", dim, **kwargs)
    def logsumexp(self, dim=None, weight=None, **kwargs):
        if weight is None:
            return self._reduce("LogSumExp", dim, **kwargs)
        return self._with_weight("LogSumExp", weight, dim, **kwargs)
    logsumexp_reduction = logsumexp

    def sumsoftmaxweight(self, weight, dim=None, **kwargs):
        return self._with_weight("SumSoftMaxWeight", weight, dim, **kwargs)
    sumsoftmaxweight_reduction = sumsoftmaxweight

    def _with_weight(self, reduction_op, weight, dim, **kwargs):
        # One set of variables for the formula and its weight.
        both = self._combine("{0}#{1}", [weight])
        formula, formula2 = both._text().split("#")
        routine = self.genred_class(formula, [], reduction_op=reduction_op, axis=dim,
                                    formula2=formula2, **kwargs)
        return routine(*self._arrays(both.variables))

    def min(self, dim=-1, **kwargs):
        return self._unary("Min", dim=1) if dim in (-1, 2) else self._reduce("Min", dim, **kwargs)
    def max(self, dim=-1, **kwargs):
        return self._unary("Max", dim=1) if dim in (-1, 2) else self._reduce("Max", dim, **kwargs)
    def argmin(self, dim=-1, **kwargs):
        return self._unary("ArgMin", dim=1) if dim in (-1, 2) else self._reduce("ArgMin", dim, **kwargs)
    def argmax(self, dim=-1, **kwargs):
        return self._unary("ArgMax", dim=1) if dim in (-1, 2) else self._reduce("ArgMax", dim, **kwargs)
    def min_reduction(self, dim=None, **kwargs): return self._reduce("Min", dim, **kwargs)
    def max_reduction(self, dim=None, **kwargs): return self._reduce("Max", dim, **kwargs)
    def argmin_reduction(self, dim=None, **kwargs): return self._reduce("ArgMin", dim, **kwargs)
    def argmax_reduction(self, dim=None, **kwargs): return self._reduce("ArgMax", dim, **kwargs)
    def min_argmin(self, dim=None, **kwargs): return self._reduce("Min_ArgMin", dim, **kwargs)
    def max_argmax(self, dim=None, **kwargs): return self._reduce("Max_ArgMax", dim, **kwargs)
    min_argmin_reduction = min_argmin
    max_argmax_reduction = max_argmax
    def Kmin(self, K, dim=None, **kwargs): return self._reduce("KMin", dim, opt_arg=K, **kwargs)
    def argKmin(self, K, dim=None, **kwargs): return self._reduce("ArgKMin", dim, opt_arg=K, **kwargs)
    def Kmin_argKmin(self, K, dim=None, **kwargs):
        return self._reduce("KMin_ArgKMin", dim, opt_arg=K, **kwargs)
    Kmin_reduction, argKmin_reduction, Kmin_argKmin_reduction = Kmin, argKmin, Kmin_argKmin

    def t(self):
        """The transposed symbolic matrix: i and j variables swap roles."""
        swapped, formula = [], self.formula
        for v in self.variables:
            category = {0: 1, 1: 0}.get(v.category, v.category)
            w = _Variable(v.array, category, v.dim, value=v.value)
            formula = formula.replace(v.key, w.key)
            swapped.append(w)
        return type(self)(formula=formula, variables=swapped, dim=self._dim,
                          ni=self.nj, nj=self.ni)

    T = property(t)

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
        return solve() if call else solve

    def __matmul__(self, v):
        """K @ v: sum_j K_ij v_j for a LazyTensor of dimension 1."""
        if self._dim != 1:
            raise ValueError("K @ v needs a LazyTensor of dimension 1, got %d"
                             % self._dim)
        shape = tuple(self.tools.shape(v))
        column = self.tools.reshape(v, (1, shape[0], shape[1] if len(shape) == 2 else 1))
        result = (self * type(self)(column)).sum(dim=1)
        return self.tools.reshape(result, (-1,)) if len(shape) == 1 else result


def make_variable_constructors(lazy_tensor_class):
    """Vi and Vj for a LazyTensor class: variables from (rows, D) arrays."""

    def Vi(x):
        """An i-variable from a (M, D) array."""
        return lazy_tensor_class(x, axis=0)

    def Vj(x):
        """A j-variable from a (N, D) array."""
        return lazy_tensor_class(x, axis=1)

    return Vi, Vj
