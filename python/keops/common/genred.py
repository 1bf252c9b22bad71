# keops/common/genred.py - The array-agnostic part of Genred.
# SPDX-License-Identifier: MIT
"""GenredBase checks a Genred's options, compiles its kernel (cached by the
compiler, so once per process), checks the arguments of a call and turns them
into the 2-D contiguous arrays of the kernel. keops.numpy and keops.torch add
the array library."""
import numpy as np

from keops import _C, config
from keops.common.batches import Folding, entry_aliases
from keops.common.reductions import accumulation_options, reduction_formula

CATEGORY_NAMES = ("Vi", "Vj", "Pm")
_REPORTED = set()  # (formula, dtype) of the kernels reported when verbose
GPU_BACKENDS = ("GPU", "GPU_1D", "GPU_2D", "GPU_1D_host", "GPU_1D_device",
                "GPU_2D_host", "GPU_2D_device")


def map_results(result, convert):
    """`convert` applied to a result, or to each of a tuple of results."""
    if isinstance(result, tuple):
        return tuple(convert(r) for r in result)
    return convert(result)


class GenredBase:
    """Genred(formula, aliases, reduction_op="Sum", axis=0, ...), as in pykeops.

    `dtype`, `cuda_type`, `enable_chunks`, `rec_multVar_highdim` and
    `use_fast_math` are accepted and ignored: they only matter on GPUs.
    """

    def __init__(self, formula, aliases, reduction_op="Sum", axis=0, dtype=None,
                 opt_arg=None, formula2=None, cuda_type=None, dtype_acc="auto",
                 use_double_acc=False, sum_scheme="auto", enable_chunks=True,
                 rec_multVar_highdim=False, use_fast_math=True):
        self._init_args = (formula, list(aliases), reduction_op, axis, dtype, opt_arg,
                           formula2, cuda_type, dtype_acc, use_double_acc, sum_scheme,
                           enable_chunks, rec_multVar_highdim, use_fast_math)
        self.formula = formula
        self.formula2 = formula2
        self.aliases = list(aliases)
        self.reduction_op = reduction_op
        self.axis = axis
        self.opt_arg = opt_arg
        self.red_formula = reduction_formula(formula, reduction_op, axis, opt_arg,
                                             formula2)
        self.sum_scheme, self.double_acc = accumulation_options(
            reduction_op, dtype_acc, use_double_acc, sum_scheme)

    def __reduce__(self):
        return (self.__class__, self._init_args)

    backend = "auto"  # of the compiler: "cpu", "gpu" or "auto"
    device_id = -1

    def kernel(self, dtype):
        """The compiled kernel for `dtype` ('float32' or 'float64')."""
        kernel = _C.compile(self.red_formula, self.aliases, dtype, self.sum_scheme,
                            self.double_acc, self.backend)
        if config.verbose and (self.red_formula, dtype) not in _REPORTED:
            _REPORTED.add((self.red_formula, dtype))
            print("[keops] %s (%s): %s in %.1f ms" % (
                self.red_formula, dtype, "loaded from the disk cache"
                if kernel.from_disk_cache else "compiled", kernel.compile_ms))
        return kernel

    ranges = None

    def with_ranges(self, ranges):
        """This Genred made block-sparse by `ranges`, the 6-tuple (ranges_i,
        slices_i, redranges_j, ranges_j, slices_j, redranges_i) of pykeops
        (see keops.numpy.cluster.from_matrix); None: dense. The same tuple
        serves the reductions over i and over j (backward passes included)."""
        if ranges is None:
            return self
        if not isinstance(ranges, (tuple, list)) or len(ranges) != 6:
            raise ValueError("ranges must be a tuple of 6 integer arrays (ranges_i, "
                             "slices_i, redranges_j, ranges_j, slices_j, "
                             "redranges_i), got %r" % (type(ranges).__name__,))
        names = ("ranges_i", "slices_i", "redranges_j", "ranges_j", "slices_j",
                 "redranges_i")
        arrays = []
        for name, array in zip(names, ranges):
            array = np.asarray(array)
            expected = 1 if name.startswith("slices") else 2
            if array.dtype.kind not in "iu" or array.ndim != expected or (
                    expected == 2 and array.shape[1] != 2):
                raise ValueError("ranges: %s must be an integer array of shape %s, "
                                 "got %s of shape %s" % (
                                     name, "(n,)" if expected == 1 else "(n, 2)",
                                     array.dtype, array.shape))
            arrays.append(np.ascontiguousarray(array, dtype=np.int64))
        bound = self._copy()
        bound.ranges = tuple(arrays)
        return bound

    def _copy(self):
        """A shallow copy with every attribute (copy.copy would rebuild it
        from the constructor's arguments through __reduce__)."""
        bound = object.__new__(type(self))
        bound.__dict__.update(self.__dict__)
        return bound

    def range_arrays(self, kernel):
        """The (row ranges, slices, column ranges) of `kernel`'s rows as flat
        arrays, or None."""
        if self.ranges is None:
            return None
        half = self.ranges[:3] if kernel.row_category == 0 else self.ranges[3:]
        return tuple(array.reshape(-1) for array in half)

    def with_call_options(self, backend=None, device_id=None, ranges=None):
        """This Genred for calls with pykeops's `backend` ("auto", "CPU",
        "GPU", "GPU_1D", ...; "auto" is the GPU when one is usable),
        `device_id` (-1: every GPU for host arrays) and `ranges`; None keeps
        this Genred's own."""
        if backend is None and device_id is None and ranges is None:
            return self
        bound = self.with_ranges(ranges)._copy()
        if backend is not None:
            if backend in GPU_BACKENDS:
                bound.backend = "gpu"
            elif backend in ("auto", "CPU"):
                bound.backend = backend.lower()
            else:
                raise ValueError("unknown backend %r: use 'auto', 'CPU' or 'GPU'"
                                 % (backend,))
        if device_id is not None:
            if not isinstance(device_id, int) or device_id < -1:
                raise ValueError("device_id must be -1 (every GPU) or a GPU "
                                 "number, got %r" % (device_id,))
            bound.device_id = device_id
        return bound

    def half_on_cpu(self, dtypes):
        """Whether arguments of `dtypes` are float16 bound for the CPU, which
        computes them in float32 (the results return in float16)."""
        if self.dtype_name(dtypes) != "float16":
            return False
        return self.backend == "cpu" or (self.backend == "auto"
                                         and not config.gpu_available)

    @staticmethod
    def dtype_name(dtypes):
        """The common dtype name of the arguments."""
        names = {str(d).replace("torch.", "") for d in dtypes}
        if len(names) > 1:
            raise TypeError("the arguments mix dtypes %s; they must all be float32, "
                            "all float64 or all float16" % ", ".join(sorted(names)))
        name = names.pop() if names else "float32"
        if name not in ("float32", "float64", "float16"):
            raise TypeError("arguments of dtype %s are not supported: use float32, "
                            "float64 or float16 (GPU only)" % name)
        return name

    def batched(self, args, shapes, call, tools, parameter_batches=False):
        """`call(genred, args)` on arguments with batch dimensions: (..., rows,
        D) for variables, (..., D) for parameters, broadcast as NumPy does.
        The entries are folded into one block-sparse reduction of the rows and
        columns of every entry (keops.common.batches; with this Genred's
        ranges, per entry), and the results come as (*batch, rows, ...).
        As in pykeops, there are batch dimensions only when an argument has
        more than 2 dimensions: a parameter of shape (5, 1) beside 2-D
        variables is an error, not a batch of 5, unless `parameter_batches`
        (torch.func.vmap, which adds a leading batch dimension to any
        argument). `tools` has the array library's reshape, expand, shape,
        arange, is_index and stack."""
        kernel = self.kernel(self.dtype_name([a.dtype for a in args]))
        if len(shapes) != len(kernel.inputs):
            self.shapes_2d(kernel, shapes)  # raises the count error
        if not parameter_batches and all(len(shape) <= 2 for shape in shapes):
            return call(self, args)
        batch_shapes = []
        for shape, (_, category, _) in zip(shapes, kernel.inputs):
            core = 1 if category == 2 else 2
            batch_shapes.append(tuple(shape[:-core]) if len(shape) > core else ())
        if not any(batch_shapes):
            return call(self, args)
        try:
            batch = np.broadcast_shapes(*batch_shapes)
        except ValueError:
            raise ValueError("the batch dimensions %s of the arguments do not "
                             "broadcast" % (batch_shapes,)) from None
        folding = Folding(kernel.inputs, kernel.row_category,
                          [tuple(s) for s in shapes], batch_shapes, batch)
        aliases = entry_aliases(kernel.inputs, kernel.row_category,
                                folding.batched_parameters)
        if folding.possible() and aliases is not None:
            genred = self._with_aliases(aliases) if folding.batched_parameters \
                else self._copy()
            genred.ranges = folding.ranges(self.ranges)
            return folding.unfold(
                call(genred, folding.fold(args, batch_shapes, tools)), tools)
        # An axis without variables, or an unnamed batched parameter: one
        # call per entry.
        if self.ranges is not None:
            raise ValueError("block-sparse ranges with batch dimensions need "
                             "variables on both axes and named parameters")
        results = []
        for index in np.ndindex(*batch):
            sliced = []
            for arg, own in zip(args, batch_shapes):
                # Align from the right; a batch dimension of 1 broadcasts.
                local = index[len(index) - len(own):]
                sliced.append(arg[tuple(0 if n == 1 else i
                                        for i, n in zip(local, own))] if own else arg)
            results.append(call(self, sliced))
        return tools.stack(results, batch)

    def _with_aliases(self, aliases):
        """This Genred (options, backend, device) with other `aliases`."""
        init = list(self._init_args)
        init[1] = list(aliases)
        bound = type(self)(*init)
        bound.backend, bound.device_id = self.backend, self.device_id
        return bound

    @staticmethod
    def shapes_2d(kernel, shapes):
        """The 2-D shape of each argument, and the rows of the i and j axes;
        raises ValueError naming the argument whose shape is wrong."""
        inputs = kernel.inputs
        if len(shapes) != len(inputs):
            raise ValueError("this Genred takes %d arguments (%s), got %d" % (
                len(inputs), ", ".join(name or "Var%d" % k
                                       for k, (name, _, _) in enumerate(inputs)),
                len(shapes)))
        result, rows = [], [None, None]
        for k, ((name, category, dim), shape) in enumerate(zip(inputs, shapes)):
            what = "argument %d%s (%s(%d))" % (
                k, " ('%s')" % name if name else "", CATEGORY_NAMES[category], dim)
            shape = tuple(shape)
            if len(shape) > 2:
                raise ValueError("%s has shape %s: batch dimensions must broadcast "
                                 "with those of the other arguments" % (what, shape))
            if category == 2:
                if shape not in ((dim,), (1, dim)) and not (dim == 1 and shape == ()):
                    raise ValueError("%s must have shape (%d,), got %s" % (what, dim, shape))
                result.append((1, dim))
                continue
            if len(shape) == 1 and dim == 1:
                shape = (shape[0], 1)
            if len(shape) != 2 or shape[1] != dim:
                raise ValueError("%s must have shape (rows, %d), got %s"
                                 % (what, dim, shape))
            result.append(shape)
            if rows[category] is None:
                rows[category] = shape[0]
        return result, [r if r is not None else 1 for r in rows]
