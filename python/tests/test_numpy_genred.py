# test_numpy_genred.py - keops.numpy.Genred against dense NumPy in float64.
# SPDX-License-Identifier: MIT
import pickle

import numpy as np
import pytest

from keops.numpy import Genred, generic_argkmin, generic_argmin, generic_logsumexp, generic_sum

ALIASES = ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)", "p = Pm(1)"]
RNG = np.random.default_rng(0)
X, Y, B, P = RNG.random((40, 3)), RNG.random((50, 3)), RNG.random((50, 2)), np.array([0.8])


def dense(formula_values, axis):
    """F as an (N, M, D) array; reduce over j (axis=1) or i (axis=0)."""
    return formula_values if axis == 1 else np.swapaxes(formula_values, 0, 1)


def sqdist():
    return ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1, keepdims=True)


def references(reduction_op, axis):
    """(formula, formula2, expected) for each reduction."""
    gauss = np.exp(-P[0] * sqdist())
    weights = np.broadcast_to(B[None, :, :], (40, 50, 2))
    diff = X[:, None, :] * Y[None, :, :] - P[0]
    if reduction_op == "Sum":
        return "Exp(-p*SqDist(x,y))*b", None, (dense(gauss * weights, axis)).sum(1)
    if reduction_op == "LogSumExp":
        f = dense(-P[0] * sqdist(), axis)
        return "-p*SqDist(x,y)", None, np.log(np.exp(f).sum(1))
    if reduction_op == "LogSumExpWeight":
        f, w = dense(-P[0] * sqdist(), axis), dense(weights, axis)
        return "-p*SqDist(x,y)", "b", np.log((np.exp(f) * w).sum(1))
    if reduction_op == "SumSoftMaxWeight":
        f, w = dense(-P[0] * sqdist(), axis), dense(weights, axis)
        return "-p*SqDist(x,y)", "b", (np.exp(f) * w).sum(1) / np.exp(f).sum(1)
    d = dense(diff, axis)
    table = {"Min": d.min(1), "Max": d.max(1), "ArgMin": d.argmin(1),
             "ArgMax": d.argmax(1), "Min_ArgMin": (d.min(1), d.argmin(1)),
             "Max_ArgMax": (d.max(1), d.argmax(1)),
             "KMin": np.sort(d, 1)[:, :3], "ArgKMin": np.argsort(d, 1)[:, :3],
             "KMin_ArgKMin": (np.sort(d, 1)[:, :3], np.argsort(d, 1)[:, :3])}
    return "x*y-p", None, table[reduction_op]


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("reduction_op", [
    "Sum", "LogSumExp", "LogSumExpWeight", "SumSoftMaxWeight", "Min", "Max", "ArgMin",
    "ArgMax", "Min_ArgMin", "Max_ArgMax", "KMin", "ArgKMin", "KMin_ArgKMin"])
def test_every_reduction_matches_dense_numpy(reduction_op, axis):
    formula, formula2, expected = references(reduction_op, axis)
    opt_arg = 3 if "KMin" in reduction_op else None
    routine = Genred(formula, ALIASES, reduction_op=reduction_op, axis=axis,
                     opt_arg=opt_arg, formula2=formula2)
    result = routine(X, Y, B, P)
    results = result if isinstance(result, tuple) else (result,)
    expecteds = expected if isinstance(expected, tuple) else (expected,)
    for got, want in zip(results, expecteds):
        assert got.shape == want.shape
        if np.issubdtype(want.dtype, np.integer):
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_float32_and_generic_helpers():
    x, y, b = X.astype(np.float32), Y.astype(np.float32), B[:, :1].astype(np.float32)
    a = generic_sum("Exp(-SqDist(x,y))*b", "a = Vi(1)", "x = Vi(3)", "y = Vj(3)",
                    "b = Vj(1)")(x, y, b)
    assert a.dtype == np.float32
    np.testing.assert_allclose(a, np.exp(-sqdist()[..., 0]) @ B[:, :1], rtol=1e-5)
    lse = generic_logsumexp("-SqDist(x,y)", "a = Vj(1)", "x = Vi(3)", "y = Vj(3)")(X, Y)
    np.testing.assert_allclose(lse[:, 0], np.log(np.exp(-sqdist()[..., 0]).sum(0)))
    nearest = generic_argmin("SqDist(x,y)", "a = Vi(1)", "x = Vi(3)", "y = Vj(3)")(X, Y)
    np.testing.assert_array_equal(nearest[:, 0], sqdist()[..., 0].argmin(1))
    knn = generic_argkmin("SqDist(x,y)", "a = Vi(4)", "x = Vi(3)", "y = Vj(3)")(X, Y)
    np.testing.assert_array_equal(knn, np.argsort(sqdist()[..., 0], 1)[:, :4])


def test_options_out_pickle_and_layouts():
    routine = Genred("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"],
                     axis=1, sum_scheme="kahan_scheme")
    expected = np.exp(-sqdist()[..., 0]) @ B[:, 0]
    out = np.zeros((40, 1))
    assert routine(X, Y, B[:, 0], out=out) is out
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-12)
    # Non-contiguous inputs and 1-D arrays for dimension-1 variables.
    xt = np.asfortranarray(X)
    np.testing.assert_allclose(routine(xt, Y, B[:, 0])[:, 0], expected, rtol=1e-12)
    clone = pickle.loads(pickle.dumps(routine))
    np.testing.assert_allclose(clone(X, Y, B[:, :1])[:, 0], expected, rtol=1e-12)
    wide = Genred("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"],
                  axis=1, use_double_acc=True)
    assert wide(X.astype(np.float32), Y.astype(np.float32),
                B[:, :1].astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("call, error, message", [
    (lambda: Genred("x", ["x = Vi(3)"], reduction_op="Mean"), ValueError,
     "unknown reduction_op 'Mean'"),
    (lambda: Genred("x", ["x = Vi(3)"], axis=2), ValueError, "axis must be 0"),
    (lambda: Genred("x", ["x = Vi(3)"], reduction_op="KMin"), ValueError,
     "needs opt_arg = K"),
    (lambda: Genred("x", ["x = Vi(3)"], reduction_op="SumSoftMaxWeight"), ValueError,
     "needs a weight formula"),
    (lambda: Genred("x", ["x = Vi(3)"], reduction_op="Min", sum_scheme="kahan_scheme"),
     ValueError, "only valid for sum-type reductions"),
    (lambda: Genred("x", ["x = Vi(3)"], use_double_acc=True, dtype_acc="float64"),
     ValueError, "cannot set both"),
    (lambda: Genred("Exq(x)", ["x = Vi(3)"], axis=1)(X), ValueError,
     "unknown operation 'Exq'"),
    (lambda: Genred("x+y", ["x = Vi(3)", "y = Vj(3)"], axis=1)(X), ValueError,
     "takes 2 arguments (x, y), got 1"),
    (lambda: Genred("x+y", ["x = Vi(3)", "y = Vj(3)"], axis=1)(X, B), ValueError,
     "argument 1 ('y') (Vj(3)) must have shape (rows, 3), got (50, 2)"),
    (lambda: Genred("x+y", ["x = Vi(3)", "y = Vj(3)"], axis=1)(X, Y.astype(np.float32)),
     TypeError, "mix dtypes"),
    (lambda: Genred("x+y*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], axis=1)(
        X, Y, B[:10, :1]), ValueError, "has 10 rows but"),
    (lambda: Genred("x", ["x = Vi(3)"], axis=1)(X, backend="TPU"), ValueError,
     "unknown backend 'TPU': use 'auto', 'CPU' or 'GPU'"),
    (lambda: Genred("x", ["x = Vi(3)"], axis=1)(X, device_id=-2), ValueError,
     "device_id must be -1 (every GPU) or a GPU number, got -2"),
    (lambda: Genred("x", ["x = Vi(3)"], axis=1)(X, ranges=(1,)), ValueError,
     "ranges must be a tuple of 6"),
])
def test_errors_name_the_problem(call, error, message):
    with pytest.raises(error, match=None) as info:
        call()
    assert message in str(info.value)


def test_batch_dimensions_broadcast():
    routine = Genred("Exp(-p*SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)",
                                               "p = Pm(1)"], axis=1)
    x, y = RNG.random((2, 1, 10, 3)), RNG.random((1, 4, 20, 3))
    b, p = RNG.random((4, 20, 1)), RNG.random((2, 4, 1))
    result = routine(x, y, b, p)
    assert result.shape == (2, 4, 10, 1)
    for i in range(2):
        for j in range(4):
            d = ((x[i, 0][:, None] - y[0, j][None]) ** 2).sum(-1)
            np.testing.assert_allclose(result[i, j], np.exp(-p[i, j, 0] * d) @ b[j])
    with pytest.raises(ValueError, match="do not broadcast"):
        routine(x, RNG.random((3, 20, 3)), b, p)


def test_column_slices_are_read_in_place():
    """Views whose rows are contiguous (column slices, any row stride) give
    the contiguous results; other layouts (transposes, steps) are copied."""
    wide_x, wide_y = RNG.random((40, 7)), RNG.random((50, 5))
    x, y, b = wide_x[:, 2:5], wide_y[:, 1:4], wide_y[:, 3:5]
    assert not x.flags.c_contiguous and x.strides == (56, 8)
    gauss = Genred("Exp(-p*SqDist(x,y))*b", ALIASES, reduction_op="Sum", axis=1,
                   dtype="float64")
    expected = gauss(np.ascontiguousarray(x), np.ascontiguousarray(y),
                     np.ascontiguousarray(b), P)
    np.testing.assert_allclose(gauss(x, y, b, P), expected, rtol=1e-13)
    stepped = np.asfortranarray(RNG.random((50, 3)))  # columns contiguous
    np.testing.assert_allclose(gauss(x, stepped, b, P),
                               gauss(np.ascontiguousarray(x), np.ascontiguousarray(stepped),
                                     np.ascontiguousarray(b), P), rtol=1e-13)
    out = np.full((40, 4), -1.0)
    gauss(x, y, b, P, out=out[:, 1:3])
    np.testing.assert_allclose(out[:, 1:3], expected, rtol=1e-13)
    assert (out[:, 0] == -1).all() and (out[:, 3] == -1).all()


def test_kernels_report_how_they_were_compiled():
    """The runtime descriptor of a compiled kernel: kind, K, target, tiles."""
    knn = Genred("SqDist(x,y)", ALIASES, reduction_op="ArgKMin", axis=1,
                 opt_arg=4).with_call_options(backend="CPU")
    info = knn.kernel("float32").compiled_as
    assert (info["reduction"], info["k"], info["target"]) == ("argkmin", 4, "cpu")
    assert info["lanes"] in (4, 8, 16) and info["arch"]
    # tile_j (1024) less one vector: rows of 1024 floats share cache sets.
    assert info["tile_cols"] == 1024 - info["lanes"] and info["tile_rows"] >= 1
    assert (info["state_floats"], info["state_ints"]) == (4, 4)


def test_kernels_reject_arrays_whose_rows_are_not_contiguous():
    """The extension reads rows in place: a transposed array is an error that
    names the strides (the Genred wrappers copy such arrays first)."""
    gauss = Genred("Exp(-p*SqDist(x,y))*b", ALIASES, reduction_op="Sum", axis=1,
                   dtype="float64")
    kernel = gauss.kernel("float64")
    out = np.empty((40, 2))
    with pytest.raises(ValueError, match=r"an input must have contiguous rows "
                                         r"\(strides \(1, 40\) elements"):
        kernel.run([np.asfortranarray(X), Y, B, P.reshape(1, 1)], [out])


def test_kernels_take_a_stream_for_gpu_arrays_only():
    """A CUDA stream orders the launches of device arrays; host arrays given
    one are an error that says so."""
    gauss = Genred("Exp(-p*SqDist(x,y))*b", ALIASES, reduction_op="Sum", axis=1,
                   dtype="float64")
    kernel = gauss.kernel("float64")
    out = np.empty((40, 2))
    with pytest.raises(ValueError, match="a CUDA stream is for arrays on a GPU; "
                                         "host arrays take none"):
        kernel.run([X, Y, B, P.reshape(1, 1)], [out], stream=1)
    kernel.run([X, Y, B, P.reshape(1, 1)], [out], stream=0)
    np.testing.assert_allclose(out, gauss(X, Y, B, P), rtol=1e-12)


def test_read_only_arrays_and_numpy_integers(tmp_path):
    """Read-only inputs (a memory map, np.frombuffer, writeable=False) are
    read in place, as pykeops accepts them; K may be a NumPy integer."""
    x, y, b = RNG.random((30, 3)), RNG.random((40, 3)), RNG.random((40, 2))
    gauss = Genred("Exp(-p*SqDist(x,y))*b", ALIASES, reduction_op="Sum", axis=1,
                   dtype="float64")
    expected = gauss(x, y, b, P)
    np.save(tmp_path / "y.npy", y)
    mapped = np.load(tmp_path / "y.npy", mmap_mode="r")
    frozen = b.copy()
    frozen.flags.writeable = False
    buffer = np.frombuffer(x.tobytes(), dtype=np.float64).reshape(30, 3)
    assert not mapped.flags.writeable and not buffer.flags.writeable
    np.testing.assert_allclose(gauss(buffer, mapped, frozen, P), expected, rtol=1e-13)
    knn = Genred("SqDist(x,y)", ["x=Vi(3)", "y=Vj(3)"], reduction_op="ArgKMin",
                 axis=1, opt_arg=np.int64(3))
    d = ((x[:, None] - y[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(knn(x, y), np.argsort(d, axis=1, kind="stable")[:, :3])
    with pytest.raises(ValueError, match="needs opt_arg = K, an integer >= 1, got True"):
        Genred("SqDist(x,y)", ["x=Vi(3)", "y=Vj(3)"], reduction_op="ArgKMin",
               axis=1, opt_arg=True)


def test_empty_arrays_of_any_dimension():
    """No rows, or no columns to reduce, with variables of dimension 3: an
    empty result, or the sum of nothing (NumPy gives empty arrays strides of
    0, which must not be taken for a layout problem)."""
    gauss = Genred("Exp(-SqDist(x,y))*b", ["x=Vi(3)", "y=Vj(3)", "b=Vj(2)"],
                   reduction_op="Sum", axis=1)
    y, b = RNG.random((5, 3)), RNG.random((5, 2))
    assert gauss(np.zeros((0, 3)), y, b).shape == (0, 2)
    np.testing.assert_array_equal(gauss(RNG.random((4, 3)), np.zeros((0, 3)),
                                        np.zeros((0, 2))), np.zeros((4, 2)))


@pytest.mark.parametrize("rows, cols", [(100, 3000), (2, 200_000)])
def test_logsumexp_of_plus_infinity_is_plus_infinity(rows, cols):
    """Values of +inf (several, in different lanes, tiles and column splits)
    make logsumexp +inf, as torch.logsumexp does, instead of NaN from
    inf - inf; a NaN value still gives NaN, and finite rows stay finite."""
    rng = np.random.default_rng(0)
    x = rng.random((rows, 1)).astype(np.float32)
    y = rng.random((cols, 1)).astype(np.float32)
    routine = Genred("x*y", ["x=Vi(1)", "y=Vj(1)"], reduction_op="LogSumExp", axis=1)
    finite = routine(x, y)
    expected = np.log(np.exp(x.astype(np.float64) * y[:, 0]).sum(1, keepdims=True))
    np.testing.assert_allclose(finite, expected, rtol=1e-5)
    y[[5, cols // 2, cols - 1]] = np.inf
    assert np.isposinf(routine(x, y)).all()
    y[7] = np.nan
    assert np.isnan(routine(x, y)).all()


@pytest.mark.parametrize("cols", [7, 3000])
def test_selections_that_no_column_reaches_give_index_minus_one(cols):
    """Min, Max and K-min results that no column reaches (every value NaN,
    +inf for a min, -inf for a max, or fewer than K columns) have value
    +inf (-inf for a max) and index -1, never a real column; rows whose
    values are finite are selected as usual (first column among equals)."""
    rng = np.random.default_rng(1)
    x = rng.random((6, 1))
    x[1], x[2], x[3] = np.nan, np.inf, -np.inf  # rows: NaN, +inf, -inf values
    y = rng.random((cols, 1)) + 0.5
    values, indices = Genred("x*y", ["x=Vi(1)", "y=Vj(1)"], reduction_op="Min_ArgMin",
                             axis=1)(x, y)
    dense = x * y[:, 0]
    finite = [0, 3, 4, 5]
    np.testing.assert_array_equal(indices[finite, 0], dense[finite].argmin(1))
    np.testing.assert_array_equal(values[1:3, 0], [np.inf, np.inf])
    np.testing.assert_array_equal(indices[1:3, 0], [-1, -1])
    values, indices = Genred("x*y", ["x=Vi(1)", "y=Vj(1)"], reduction_op="Max_ArgMax",
                             axis=1)(x, y)
    np.testing.assert_array_equal(values[[1, 3], 0], [-np.inf, -np.inf])
    np.testing.assert_array_equal(indices[[1, 3], 0], [-1, -1])
    np.testing.assert_array_equal(indices[[0, 2, 4, 5], 0],
                                  dense[[0, 2, 4, 5]].argmax(1))
    # K larger than the columns, and rows of NaN values.
    k = cols + 2 if cols < 10 else 5
    values, indices = Genred("x*y", ["x=Vi(1)", "y=Vj(1)"], reduction_op="KMin_ArgKMin",
                             axis=1, opt_arg=k)(x, y)
    order = np.argsort(dense[0], kind="stable")[:min(k, cols)]
    np.testing.assert_array_equal(indices[0, :min(k, cols)], order)
    np.testing.assert_array_equal(indices[0, cols:], -1)
    assert np.isposinf(values[0, cols:]).all()
    np.testing.assert_array_equal(indices[1], -1)
    assert np.isposinf(values[1]).all()


def test_a_parameter_beside_2d_variables_is_not_a_batch():
    """pykeops's rule: batch dimensions exist only when an argument has more
    than 2 dimensions. A parameter of shape (5, 1) beside 2-D variables is an
    error naming it (it was taken as a batch of 5); (1, 1) and (1,) are the
    parameter; with 3-D variables, (5, 1) is a batch of 5 parameters."""
    routine = Genred("p*SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)", "p = Pm(1)"], axis=1)
    x, y = RNG.random((10, 3)), RNG.random((20, 3))
    dense = ((x[:, None] - y[None]) ** 2).sum(-1).sum(1, keepdims=True)
    for p in (np.full(1, 2.0), np.full((1, 1), 2.0)):
        np.testing.assert_allclose(routine(x, y, p), 2 * dense)
    with pytest.raises(ValueError, match=r"'p'.*must have shape \(1,\), got \(5, 1\)"):
        routine(x, y, np.full((5, 1), 2.0))
    batched = routine(x[None].repeat(5, 0), y[None], np.arange(5.0)[:, None])
    assert batched.shape == (5, 10, 1)
    np.testing.assert_allclose(batched, np.arange(5.0)[:, None, None] * dense)


def test_float16_on_the_cpu_computes_in_float32():
    """float16 arrays on the CPU run the float32 kernel and return float16
    (pykeops runs float16 on GPUs only); index outputs stay int64."""
    x, y = RNG.random((30, 3)), RNG.random((40, 3))
    routine = Genred("Exp(-SqDist(x,y))", ["x = Vi(3)", "y = Vj(3)"], axis=1)
    half = routine(x.astype(np.float16), y.astype(np.float16), backend="CPU")
    assert half.dtype == np.float16
    exact = routine(x.astype(np.float16).astype(np.float64),
                    y.astype(np.float16).astype(np.float64))
    np.testing.assert_allclose(half, exact, rtol=1e-3)
    both = Genred("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)"], reduction_op="Min_ArgMin",
                  axis=1)(x.astype(np.float16), y.astype(np.float16), backend="CPU")
    assert both[0].dtype == np.float16 and both[1].dtype == np.int64


def _count_kernel_runs(monkeypatch):
    """A list that grows by one per Genred._call_2d (one kernel run): the
    shapes of its arrays."""
    calls = []
    original = Genred._call_2d

    def counted(self, arrays):
        calls.append([a.shape for a in arrays])
        return original(self, arrays)

    monkeypatch.setattr(Genred, "_call_2d", counted)
    return calls


@pytest.mark.parametrize("axis", [0, 1])
def test_a_batch_is_one_kernel_run_with_indices_per_entry(monkeypatch, axis):
    """Batch entries (broadcast ones included) fold into one block-sparse
    reduction: one kernel run, and the indices of ArgKMin / Min_ArgMin are
    those of each entry's own columns, as the loop over entries gave."""
    calls = _count_kernel_runs(monkeypatch)
    x, y = RNG.random((4, 1, 13, 3)), RNG.random((1, 3, 17, 3))
    q = RNG.random((4, 3, 1))
    for op, opt_arg in (("ArgKMin", 3), ("Min_ArgMin", None), ("LogSumExp", None)):
        routine = Genred("q*SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)", "q = Pm(1)"],
                         reduction_op=op, axis=axis, opt_arg=opt_arg)
        calls.clear()
        result = routine(x, y, q)
        assert len(calls) == 1
        for a in range(4):
            for c in range(3):
                d = q[a, c, 0] * ((x[a, 0][:, None] - y[0, c][None]) ** 2).sum(-1)
                d = d if axis == 1 else d.T
                if op == "ArgKMin":
                    expected = np.argsort(d, axis=1, kind="stable")[:, :3]
                    np.testing.assert_array_equal(result[a, c], expected)
                elif op == "Min_ArgMin":
                    np.testing.assert_allclose(result[0][a, c][:, 0], d.min(1))
                    np.testing.assert_array_equal(result[1][a, c][:, 0], d.argmin(1))
                else:
                    np.testing.assert_allclose(
                        result[a, c][:, 0], np.log(np.exp(d).sum(1)))


def _clusters_of_12_by_10():
    """Block-sparse ranges of 12 rows (2 clusters) x 10 columns (3 clusters)
    keeping 4 of the 6 blocks, and the mask of the pairs they keep."""
    from keops.numpy.cluster import from_matrix
    keep = np.array([[True, False, True], [False, True, True]])
    rows, cols = [(0, 7), (7, 12)], [(0, 4), (4, 7), (7, 10)]
    ranges = from_matrix(np.array(rows), np.array(cols), keep)
    mask = np.zeros((12, 10), bool)
    for ci, (i0, i1) in enumerate(rows):
        for cj, (j0, j1) in enumerate(cols):
            mask[i0:i1, j0:j1] = keep[ci, cj]
    return ranges, mask


def test_block_sparse_ranges_apply_to_every_batch_entry():
    """ranges describe one entry's (M, N) problem; with batch dimensions each
    entry reduces over its own columns of the same clusters."""
    x, y, b = RNG.random((3, 12, 2)), RNG.random((3, 10, 2)), RNG.random((3, 10, 1))
    ranges, mask = _clusters_of_12_by_10()
    routine = Genred("Exp(-SqDist(x,y))*b", ["x = Vi(2)", "y = Vj(2)", "b = Vj(1)"],
                     axis=1)
    result = routine(x, y, b, ranges=ranges)
    for e in range(3):
        kernel = np.exp(-((x[e][:, None] - y[e][None]) ** 2).sum(-1)) * mask
        np.testing.assert_allclose(result[e], kernel @ b[e])
    over_i = Genred("Exp(-SqDist(x,y))", ["x = Vi(2)", "y = Vj(2)"], axis=0)(
        x, y, ranges=ranges)
    for e in range(3):
        kernel = np.exp(-((x[e][:, None] - y[e][None]) ** 2).sum(-1)) * mask
        np.testing.assert_allclose(over_i[e][:, 0], kernel.sum(0))


def test_an_unnamed_batched_parameter_runs_per_entry(monkeypatch):
    """A parameter written Var(2,1,2) in the formula cannot become a variable
    of the rows by its alias: one run per entry, same results."""
    calls = _count_kernel_runs(monkeypatch)
    routine = Genred("Var(2,1,2)*SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)"], axis=1)
    x, y, p = RNG.random((2, 6, 3)), RNG.random((2, 5, 3)), RNG.random((2, 1))
    result = routine(x, y, p)
    assert len(calls) == 2
    for e in range(2):
        d = ((x[e][:, None] - y[e][None]) ** 2).sum(-1)
        np.testing.assert_allclose(result[e][:, 0], p[e, 0] * d.sum(1))
    # One run per entry cannot take ranges: a clear error.
    ranges = (np.array([[0, 6]]), np.array([1]), np.array([[0, 5]]),
              np.array([[0, 5]]), np.array([1]), np.array([[0, 6]]))
    with pytest.raises(ValueError, match="ranges with batch dimensions need "
                                         "variables on both axes and named "
                                         "parameters"):
        routine(x, y, p, ranges=ranges)


class _Stop(Exception):
    pass


def test_a_signal_interrupts_a_long_reduction():
    """A signal whose handler raises (Ctrl-C: KeyboardInterrupt) stops a
    long reduction at its next piece of work and the exception propagates,
    instead of waiting for the end of the run (here about 1.6e11 pairs, over
    20 s); the Genred runs normally afterwards."""
    import os
    import signal
    import threading
    import time

    def stop(signum, frame):
        raise _Stop()

    routine = Genred("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"],
                     axis=1)
    n = 400_000
    x = RNG.random((n, 3), dtype=np.float32)
    b = RNG.random((n, 1), dtype=np.float32)
    previous = signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    try:
        start = time.perf_counter()
        timer.start()
        with pytest.raises(_Stop):
            routine(x, x, b, backend="CPU")
        assert time.perf_counter() - start < 5.0
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    small = routine(x[:10], x[:20], b[:20], backend="CPU")
    dense = np.exp(-((x[:10, None] - x[None, :20]) ** 2).sum(-1)) @ b[:20]
    np.testing.assert_allclose(small, dense, rtol=1e-5)


@pytest.mark.parametrize("axis", [0, 1])
def test_reduced_variables_without_batch_dimensions_are_not_repeated(monkeypatch, axis):
    """When only the output rows' variables have batch dimensions (a vmap
    over x, y shared), the reduced variables stay one copy that every
    entry's rows meet: same results (indices in y's rows), ranges per
    entry, and no B x N copy of y; over i, y gives the output rows and is
    repeated per entry."""
    shapes = _count_kernel_runs(monkeypatch)
    x, y = RNG.random((5, 12, 3)), RNG.random((10, 3))
    ranges, mask = _clusters_of_12_by_10()
    for op, opt_arg in (("ArgKMin", 2), ("Sum", None)):
        routine = Genred("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)"],
                         reduction_op=op, axis=axis, opt_arg=opt_arg)
        for sparse in (None, ranges):
            shapes.clear()
            result = routine(x, y, ranges=sparse)
            # y is one copy as the reduced variable; as the output rows'
            # variable, each entry has its own rows.
            assert len(shapes) == 1 and shapes[0][1] == ((10, 3) if axis == 1
                                                         else (50, 3))
            for e in range(5):
                d = ((x[e][:, None] - y[None]) ** 2).sum(-1)
                d = np.where(mask, d, np.inf) if sparse is not None else d
                d = d if axis == 1 else d.T
                if op == "ArgKMin":
                    expected = np.argsort(d, axis=1, kind="stable")[:, :2]
                    np.testing.assert_array_equal(result[e], expected)
                else:
                    np.testing.assert_allclose(
                        result[e][:, 0], np.where(np.isinf(d), 0, d).sum(1))
