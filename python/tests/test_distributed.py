# test_distributed.py - keops.torch reductions over torch.distributed groups
# (process_group=, layout=) against the single-process results.
# SPDX-License-Identifier: MIT
"""Groups of 2 and 3 gloo processes (torch.multiprocessing, spawned once per
group size: each process imports torch) run every case: every reduction
kind in both layouts, over j and over i, float32 and float64, on uneven and
empty shards, with a parameter, first and second derivatives, block-sparse
ranges (replicated) and LazyTensor reductions; each rank compares its part
with the single-process result that this process computed (values to
rounding, indices exactly). Then calls that fail on one rank, or on which
the ranks disagree, must raise on every rank; a hang fails the group after
its timeout."""
import os
import re
import traceback

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from keops.numpy.cluster import from_matrix
from keops.torch import Genred, Vi, Vj

N, M = 200, 150  # rows of the i- and j-variables
# Each rank's rows of the i- and j-variables: uneven, and empty on some
# ranks. Replicated: the 150 output rows over i are "few" for 3 ranks (the
# reduced axis is split), the others split the rows.
CUTS = {2: ([0, 130, 200], [0, 40, 150]),
        3: ([0, 0, 70, 200], [0, 90, 90, 150])}
ALIASES = ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)", "p = Pm(1)"]
SELECTED = "p*SqDist(x,y)+Elem(b,0)"
KINDS = {  # reduction_op: (formula, K, weight formula)
    "Sum": ("Exp(-p*SqDist(x,y))*b", None, None),
    "LogSumExp": ("-p*SqDist(x,y)", None, "b"),
    "SumSoftMaxWeight": ("-p*SqDist(x,y)", None, "b"),
    **{kind: (SELECTED, None, None) for kind in (
        "Min", "ArgMin", "Min_ArgMin", "Max", "ArgMax", "Max_ArgMax")},
    **{kind: (SELECTED, 3, None) for kind in ("KMin", "ArgKMin", "KMin_ArgKMin")},
}
DIFFERENTIABLE = ("Sum", "LogSumExp", "SumSoftMaxWeight", "Min", "Max_ArgMax",
                  "KMin_ArgKMin")
# Blocks of a block-sparse reduction: clusters of rows of x and y, and which
# pairs of clusters meet.
RANGES = from_matrix(np.array([[0, 50], [50, 130], [130, 200]]),
                     np.array([[0, 60], [60, 150]]),
                     np.array([[True, False], [True, True], [False, True]]))
GROUP_TIMEOUT_S = 120


def data(dtype):
    """x (N, 3), y (M, 3), b (M, 2) and the parameter p (1,)."""
    generator = torch.Generator().manual_seed(0)
    x, y, b = (torch.rand(shape, generator=generator, dtype=torch.float64)
               for shape in ((N, 3), (M, 3), (M, 2)))
    return [t.to(dtype) for t in (x, y, b, torch.tensor([0.7], dtype=torch.float64))]


def weights(shape, dtype, seed):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed),
                      dtype=torch.float64).to(dtype)


def differentiate(results, output, output_rows, args, part, order):
    """Adds to `results` the gradients of sum(output * w) w.r.t. `args`
    (x, y, b, p), and for order 2 those of sum(grad_x * v); w and v are
    fixed random weights whose rows `part` gives."""
    total = (N, M)[output_rows]
    w = part(weights((total,) + tuple(output.shape[1:]), output.dtype, 1), output_rows)
    grads = torch.autograd.grad((output * w).sum(), args, create_graph=order > 1)
    if order > 1:
        v = part(weights((N, 3), output.dtype, 2), 0)
        grads = torch.autograd.grad((grads[0] * v).sum(), args, allow_unused=True)
    for name, grad, rows in zip("xybp", grads, (0, 1, 1, 2)):
        results["grad_" + name] = (grad, rows)


def reduction_case(kind, axis, dtype, order, ranges=None):
    """A Genred case: its results (output and derivatives) for this rank's
    `part` of the data and the call's `options`."""
    def run(part, options):
        formula, k, formula2 = KINDS[kind]
        genred = Genred(formula, ALIASES, reduction_op=kind, axis=axis, opt_arg=k,
                        formula2=formula2)
        args = [part(t, rows).detach().clone().requires_grad_(order > 0)
                for t, rows in zip(data(dtype), (0, 1, 1, 2))]
        outputs = genred(*args, ranges=ranges, **options)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        output_rows = 1 - axis
        results = {"output%d" % n: (o, output_rows) for n, o in enumerate(outputs)}
        if order:
            differentiate(results, outputs[0], output_rows, args, part, order)
        return results
    return run


def lazy_case(axis):
    """LazyTensor reductions (the options pass through them): a Gaussian
    sum and a K-nearest-neighbour search."""
    def run(part, options):
        x, y, b, _ = data(torch.float32)
        x, y, b = part(x, 0), part(y, 1), part(b, 1)
        distances = (Vi(x) - Vj(y)).sqnorm2()
        output_rows = 1 - axis
        weighted = (-distances).exp() * (Vj(b) if axis else Vi(x))
        return {"gaussian": (weighted.sum(dim=axis, **options), output_rows),
                "knn": (distances.argKmin(4, dim=axis, **options), output_rows)}
    return run


def cases():
    """name -> (layout, run)."""
    found = {}
    for layout in ("sharded", "replicated"):
        for axis in (0, 1):
            for dtype in (torch.float32, torch.float64):
                for kind in KINDS:
                    found["%s-%s-axis%d-%s" % (kind, layout, axis, str(dtype)[6:])] = (
                        layout, reduction_case(kind, axis, dtype, 0))
            for kind in DIFFERENTIABLE:
                found["grad-%s-%s-axis%d" % (kind, layout, axis)] = (
                    layout, reduction_case(kind, axis, torch.float64, 1))
            for kind in ("Sum", "LogSumExp"):
                found["grad2-%s-%s-axis%d" % (kind, layout, axis)] = (
                    layout, reduction_case(kind, axis, torch.float64, 2))
            found["lazy-%s-axis%d" % (layout, axis)] = (layout, lazy_case(axis))
            found["ranges-Min_ArgMin-axis%d" % axis] = (
                "replicated", reduction_case("Min_ArgMin", axis, torch.float64, 0,
                                             RANGES))
            found["ranges-grad-Sum-axis%d" % axis] = (
                "replicated", reduction_case("Sum", axis, torch.float64, 1, RANGES))
    return found


CASES = cases()


def whole(tensor, rows):
    return tensor


def expect_error(call, kind, pattern):
    """None when `call` raises `kind` with a message matching `pattern`,
    else what happened."""
    try:
        call()
    except kind as error:
        if re.search(pattern, str(error)):
            return None
        return "%s: %s does not match %r" % (type(error).__name__, error, pattern)
    except Exception as error:  # another exception: reported
        return "%s instead of %s: %s" % (type(error).__name__, kind.__name__, error)
    return "no %s raised" % kind.__name__


def error_checks(rank, size):
    """name -> None or the failure, for calls that must raise on every rank;
    each rank of the group runs them in this order."""
    from keops.torch.distributed import DistributedError

    world = dist.group.WORLD
    x, y, b, p = data(torch.float64)
    cut_i, cut_j = CUTS[size]
    xs, ys, bs = x[cut_i[rank]:cut_i[rank + 1]], y[cut_j[rank]:cut_j[rank + 1]], \
        b[cut_j[rank]:cut_j[rank + 1]]
    genred = Genred(KINDS["Sum"][0], ALIASES, axis=1)
    last = size - 1

    def call(*args, layout="sharded", routine=genred, **options):
        return lambda: routine(*args, process_group=world, layout=layout, **options)

    # The rank whose arguments are wrong raises its own error; the others
    # name it.
    own, others = (ValueError, "must have shape") if rank == last else (
        DistributedError, "rank %d: ValueError: argument 0" % last)
    checks = {"bad-shape-on-one-rank": expect_error(
        call(xs[:, :2] if rank == last else xs, ys, bs, p), own, others)}
    broken = Genred("Exp(-Unknown(x,y))*b" if rank == 0 else KINDS["Sum"][0],
                    ALIASES, axis=1)
    checks["compile-error-on-one-rank"] = expect_error(
        call(xs, ys, bs, p, routine=broken),
        Exception if rank == 0 else DistributedError,
        "Unknown" if rank == 0 else "rank 0: ")
    checks["dtypes-disagree"] = expect_error(
        call(*(t.float() if rank == 0 else t for t in (xs, ys, bs, p))),
        ValueError, "disagree on the dtype")
    checks["parameters-disagree"] = expect_error(
        call(xs, ys, bs, p + rank), ValueError, "disagree on the parameters")
    checks["replicated-shapes-disagree"] = expect_error(
        call(x[:N - rank], y, b, p, layout="replicated"), ValueError,
        "disagree on the shapes")
    checks["sharded-ranges-refused"] = expect_error(
        call(xs, ys, bs, p, ranges=RANGES), ValueError,
        "ranges are not supported in the sharded layout")
    checks["unknown-layout"] = expect_error(
        call(xs, ys, bs, p, layout="scattered"), ValueError, "layout must be")
    # After the errors, the group still works.
    checks["usable-after-errors"] = None if call(x, y, b, p, layout="replicated")(
    ).shape == (N, 2) else "wrong shape"
    return checks


def compare(ours, expected):
    """None when `ours` equals `expected` (indices exactly), else why not."""
    if ours is None or expected is None:
        return None if ours is None and expected is None else "one of them is None"
    if ours.dtype == torch.int64 or expected.dtype == torch.int64:
        return None if torch.equal(ours, expected) else "indices differ"
    tolerance = 1e-5 if expected.dtype == torch.float32 else 1e-10
    try:
        torch.testing.assert_close(ours.detach(), expected, rtol=tolerance,
                                   atol=tolerance)
    except AssertionError as error:
        return str(error)
    return None


def _worker(rank, size, init_file, references, out_dir):
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=rank,
                            world_size=size)
    expected_all = torch.load(references)
    cut = CUTS[size]

    def shard(tensor, rows):
        if rows == 2:
            return tensor
        return tensor[cut[rows][rank]:cut[rows][rank + 1]]

    outcomes = {}
    options = {"process_group": dist.group.WORLD}
    for name, (layout, run) in CASES.items():
        part = shard if layout == "sharded" else whole
        try:
            results = run(part, dict(options, layout=layout))
            problems = ["%s: %s" % (key, problem) for key, (value, rows)
                        in results.items()
                        if (problem := compare(value, part(expected_all[name][key],
                                                           rows)))]
            outcomes[name] = "; ".join(problems) or None
        except Exception:  # reported by the parent's test of this case
            outcomes[name] = traceback.format_exc()
    outcomes.update(error_checks(rank, size))
    torch.save(outcomes, os.path.join(out_dir, "rank%d.pt" % rank))
    dist.barrier()
    dist.destroy_process_group()


def _run_group(size, references, directory):
    """Every rank's outcomes (name -> None or the failure), or the error
    that stopped the group."""
    directory.mkdir()
    context = mp.start_processes(
        _worker, (size, str(directory / "init"), str(references), str(directory)),
        nprocs=size, join=False, start_method="spawn")
    try:
        for _ in range(GROUP_TIMEOUT_S):
            if context.join(timeout=1):
                break
        else:
            return "the group of %d processes did not finish in %d s" % (
                size, GROUP_TIMEOUT_S)
    except Exception as error:  # a rank crashed: every case reports it
        return "a rank of the group of %d failed: %s" % (size, error)
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
    return [torch.load(directory / ("rank%d.pt" % rank)) for rank in range(size)]


@pytest.fixture(scope="module")
def groups(tmp_path_factory):
    """size -> the outcomes of a group of `size` processes."""
    directory = tmp_path_factory.mktemp("distributed")
    references = directory / "references.pt"
    torch.save({name: {key: value.detach() if value is not None else None
                       for key, (value, _) in run(whole, {"backend": "CPU"}).items()}
                for name, (_, run) in CASES.items()}, references)
    return {size: _run_group(size, references, directory / ("group%d" % size))
            for size in CUTS}


def _check(outcomes, name):
    if isinstance(outcomes, str):
        pytest.fail(outcomes)
    failures = ["rank %d: %s" % (rank, found[name])
                for rank, found in enumerate(outcomes) if found[name]]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("size", sorted(CUTS))
@pytest.mark.parametrize("name", sorted(CASES))
def test_equals_the_single_process_result(groups, size, name):
    _check(groups[size], name)


@pytest.mark.parametrize("size", sorted(CUTS))
@pytest.mark.parametrize("name", ["bad-shape-on-one-rank", "compile-error-on-one-rank",
                                  "dtypes-disagree", "parameters-disagree",
                                  "replicated-shapes-disagree",
                                  "sharded-ranges-refused", "unknown-layout",
                                  "usable-after-errors"])
def test_errors_raise_on_every_rank(groups, size, name):
    _check(groups[size], name)


def test_without_a_group_the_layouts_are_one_process():
    x, y, b, p = data(torch.float64)
    genred = Genred(KINDS["Sum"][0], ALIASES, axis=1)
    expected = genred(x, y, b, p)
    for layout in ("sharded", "replicated"):
        torch.testing.assert_close(genred(x, y, b, p, layout=layout), expected)
    with pytest.raises(ValueError, match="layout must be 'sharded' or 'replicated'"):
        genred(x, y, b, p, layout="rows")
