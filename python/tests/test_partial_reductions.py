# test_partial_reductions.py - Partial reductions of keops._C kernels, as a
# distributed engine uses them: shards of the reduced variables reduced
# into raw states apart, then merged.
# SPDX-License-Identifier: MIT
import numpy as np
import pytest

from keops import _C

RNG = np.random.default_rng(7)
ALIASES = ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"]


def states(kernel, rows, count=1):
    floats, ints, dtype = kernel.state_layout
    return (np.empty(count * rows * floats, dtype=dtype),
            np.empty(count * rows * ints, dtype=np.int64))


def outputs(kernel, rows):
    return [np.empty((rows, dim), dtype=dtype) for dtype, dim in kernel.outputs]


@pytest.mark.parametrize("formula", [
    "Sum_Reduction(Exp(-SqDist(x,y))*b, 0)",
    "LogSumExp_Reduction(-SqDist(x,y), 0, b)",
    "Min_ArgMin_Reduction(Floor(3*SqDist(x,y)), 0)",
    "ArgKMin_Reduction(SqDist(x,y)+Elem(b,0), 4, 0)",
    # 45 components: the K best of 3 output chunks in each raw state.
    "KMin_ArgKMin_Reduction(TensorProd(TensorProd(x,y),Concat(y,b)), 3, 0)",
])
def test_shards_reduced_apart_and_merged_equal_one_run(formula):
    """Each of 3 shards of the columns (y, b) is reduced into raw states on
    its own arrays, as a rank holding only its shard would; with the shard's
    offset added to its indices, the merged states give the outputs of one
    run over all the columns (indices exactly, ties to the smaller column)."""
    kernel = _C.compile(formula, ALIASES, "float64", backend="cpu")
    x, y, b = RNG.random((40, 3)), RNG.random((301, 3)), RNG.random((301, 2))
    whole = outputs(kernel, 40)
    kernel.run([x, y, b], whole)
    cuts = [0, 100, 101, 301]  # a shard of one column too
    shards = [states(kernel, 40) for _ in range(3)]
    for (floats, ints), begin, end in zip(shards, cuts, cuts[1:]):
        ys, bs = y[begin:end], b[begin:end]
        kernel.run_partial([x, ys, bs], outputs(kernel, 40), 0, end - begin,
                           floats, ints)
        ints[ints >= 0] += begin  # global column indices (none stays -1)
    merged = outputs(kernel, 40)
    kernel.merge_partials([x, y, b], merged, 3,
                          np.concatenate([f for f, _ in shards]),
                          np.concatenate([i for _, i in shards]))
    for ours, expected in zip(merged, whole):
        if expected.dtype == np.int64:
            np.testing.assert_array_equal(ours, expected)
        else:
            np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_state_buffers_of_the_wrong_size_or_dtype_are_refused():
    kernel = _C.compile("Sum_Reduction(Exp(-SqDist(x,y))*b, 0)", ALIASES, "float32",
                        backend="cpu")
    x, y, b = (RNG.random(s, dtype=np.float32) for s in ((4, 3), (5, 3), (5, 2)))
    floats, ints = states(kernel, 4)
    with pytest.raises(ValueError, match="floats must be a contiguous array of"):
        kernel.run_partial([x, y, b], outputs(kernel, 4), 0, 5, floats[:-1], ints)
    with pytest.raises(ValueError, match="float32"):
        kernel.run_partial([x, y, b], outputs(kernel, 4), 0, 5,
                           floats.astype(np.float64), ints)
    with pytest.raises(ValueError, match=r"not within \[0, 5\)"):
        kernel.run_partial([x, y, b], outputs(kernel, 4), 0, 6, floats, ints)
    with pytest.raises(ValueError, match="floats must be a contiguous array of"):
        kernel.merge_partials([x, y, b], outputs(kernel, 4), 2, floats, ints)
