# test_wide_selections.py - KMin, ArgKMin and KMin_ArgKMin of formulas with
# many components, which the kernels reduce in output chunks of 16
# components (each chunk's K best lists apart), and of large K (lists in
# memory, also in a GPU thread's local memory), against NumPy's stable sort.
# SPDX-License-Identifier: MIT
import numpy as np
import pytest

from keops.numpy import Genred

D = 40  # 16 + 16 + 8: the last chunk repeats component 39


def grid(rng, shape, dtype):
    """Multiples of 1/64: x - y is exact in float32 too, and ties occur."""
    return (rng.integers(0, 64, shape) / 64).astype(dtype)


def k_best(d, k):
    """The K smallest of d (rows, columns, D) over the columns, and their
    columns (ties: the smaller column first), as (rows, K * D): slot s of
    component c at s * D + c, the kernels' order."""
    order = np.argsort(d, axis=1, kind="stable")[:, :k, :]
    values = np.take_along_axis(d, order, axis=1)
    rows = d.shape[0]
    return values.reshape(rows, -1), order.reshape(rows, -1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("axis", [0, 1])
# 70: heaps in float64, vectors in float32 on the CPU; local memory on the GPU
@pytest.mark.parametrize("k", [3, 70])
@pytest.mark.parametrize("reduction_op", ["KMin", "ArgKMin", "KMin_ArgKMin"])
def test_k_best_of_wide_formulas_match_numpy(reduction_op, k, axis, dtype):
    rng = np.random.default_rng(k + axis)
    x, y = grid(rng, (80, D), dtype), grid(rng, (90, D), dtype)
    result = Genred("x-y", [f"x = Vi({D})", f"y = Vj({D})"],
                    reduction_op=reduction_op, axis=axis, opt_arg=k)(x, y)
    diff = x[:, None, :].astype(np.float64) - y[None, :, :]
    values, columns = k_best(diff if axis == 1 else diff.transpose(1, 0, 2), k)
    expected = {"KMin": (values,), "ArgKMin": (columns,),
                "KMin_ArgKMin": (values, columns)}[reduction_op]
    got = result if isinstance(result, tuple) else (result,)
    for ours, want in zip(got, expected):
        assert ours.shape == (want.shape[0], k, D)
        ours = ours.reshape(want.shape)
        if np.issubdtype(want.dtype, np.integer):
            np.testing.assert_array_equal(ours, want)
        else:
            np.testing.assert_array_equal(ours, want.astype(dtype))


def test_k_best_of_a_wide_formula_over_column_splits():
    """Few rows and many columns: the runtime splits the columns between
    threads and merges their chunks' lists (the kernels' merge mode)."""
    rng = np.random.default_rng(3)
    x, y = grid(rng, (3, D), np.float64), grid(rng, (9000, D), np.float64)
    values, columns = Genred("x-y", [f"x = Vi({D})", f"y = Vj({D})"],
                             reduction_op="KMin_ArgKMin", axis=1, opt_arg=5)(x, y)
    want_values, want_columns = k_best(x[:, None, :] - y[None, :, :], 5)
    np.testing.assert_array_equal(values.reshape(3, -1), want_values)
    np.testing.assert_array_equal(columns.reshape(3, -1), want_columns)



@pytest.mark.parametrize("k", [1000, 1500])  # 1500: every column, a full sort
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_thousand_best_over_column_splits(k, dtype):
    """K in the thousands (heaps; on the GPU in each thread's local memory,
    compiled in loops), few rows: the columns split between threads, whose
    lists merge."""
    rng = np.random.default_rng(k)
    x, y = grid(rng, (7, 3), dtype), grid(rng, (1500, 3), dtype)
    values, columns = Genred("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)"],
                             reduction_op="KMin_ArgKMin", axis=1, opt_arg=k)(x, y)
    d = ((x[:, None, :].astype(np.float64) - y[None, :, :]) ** 2).sum(-1)
    want_values, want_columns = k_best(d[:, :, None], k)
    np.testing.assert_array_equal(columns.reshape(7, -1), want_columns)
    np.testing.assert_array_equal(values.reshape(7, -1), want_values.astype(dtype))


def test_hundreds_best_of_a_narrow_formula():
    """K = 500 of 8 components: 48 kB of lists per row, which the GPU takes in
    output chunks of 2 components (its 16 kB of lists per thread); few rows,
    so the columns split and merge too."""
    rng = np.random.default_rng(8)
    x, y = grid(rng, (6, 8), np.float32), grid(rng, (2000, 8), np.float32)
    values, columns = Genred("x-y", ["x = Vi(8)", "y = Vj(8)"],
                             reduction_op="KMin_ArgKMin", axis=1, opt_arg=500)(x, y)
    want_values, want_columns = k_best(x[:, None, :] - y[None, :, :], 500)
    np.testing.assert_array_equal(columns.reshape(6, -1), want_columns)
    np.testing.assert_array_equal(values.reshape(6, -1), want_values)
