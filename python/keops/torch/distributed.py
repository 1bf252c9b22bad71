# keops/torch/distributed.py - Reductions over torch.distributed process groups.
# SPDX-License-Identifier: MIT
"""A Genred call (or LazyTensor reduction) with `process_group=` runs over
the ranks of a torch.distributed group; `layout=` says what each holds
(docs/distributed.md):

- "sharded": each rank passes its rows of every variable (the same
  parameters everywhere; shards may be uneven or empty) and gets its rows of
  the output. The shards of the reduced variables travel around the ring of
  ranks, P - 1 steps, the next shard sent and received while the current
  one is reduced into raw accumulator states (kernel.run_partial, with
  global column indices); the kind's merge (kernel.merge_partials) makes
  the result that of one process.
- "replicated": every rank passes the whole inputs and gets the whole
  output; the ranks split the output rows (the reduced axis when the rows
  are few) and all-gather the pieces.

Before any kernel runs, the ranks exchange what they were called with (one
all_gather_object): an argument, dtype or compile error on one rank, or
ranks that disagree, raise on every rank instead of hanging. The backward of
a distributed reduction is the same distributed reduction of the Grad
formula (Genred.backward_genred): sharded, a rank's gradient holds the
contributions of every rank's rows (every rank calls backward, as with DDP)
and the gradient of a parameter is summed over the ranks, so that every
rank gets the whole of it; replicated, every rank gets the gradient of one
process (every rank calls backward with the same output gradient). CPU
tensors and CPU kernels only (run_partial is CPU code)."""
import time

import numpy as np
import torch
import torch.distributed as dist

from keops.torch import DTYPES, Genred, derivative_extras, kernel_outputs

LAYOUTS = ("sharded", "replicated")
# Below this many output rows per rank, the replicated layout splits the
# reduced axis (states merged) rather than the output rows.
FEW_ROWS_PER_RANK = 64


class DistributedError(RuntimeError):
    """The distributed reduction failed on another rank of the group."""


def bind(genred, group, layout):
    """`genred` for calls over `group` with `layout`; a group of None is one
    process, which holds every row: `genred` itself."""
    if layout not in LAYOUTS:
        raise ValueError("layout must be 'sharded' or 'replicated', got %r"
                         % (layout,))
    if group is None:
        return genred
    if not isinstance(group, dist.ProcessGroup):
        raise TypeError("process_group must be a torch.distributed ProcessGroup "
                        "(e.g. torch.distributed.group.WORLD), got %s"
                        % type(group).__name__)
    if genred.backend == "gpu":
        raise ValueError("distributed reductions run CPU kernels: use backend "
                         "'CPU' or 'auto'")
    bound = object.__new__(DistributedGenred)
    bound.__dict__.update(genred.__dict__)
    bound.backend = "cpu"
    bound.group, bound.layout, bound.rows = group, layout, None
    return bound


class DistributedGenred(Genred):
    """A Genred bound to a process group and a layout; once the ranks agreed
    on a call, `rows` holds every rank's [rows of i, rows of j]."""

    def _call(self, args, out):
        bound = self._copy()
        bound.rows = agree(self, args)
        return Genred._call(bound, args, out)

    def run(self, args):
        kernel, inputs, rows = self.kernel_inputs(args)
        if self.layout == "sharded":
            return kernel, ring_outputs(kernel, inputs, rows, self.rows, self.group)
        return kernel, replicated_outputs(kernel, inputs, rows,
                                          self.range_arrays(kernel), self.group)

    def backward_genred(self, position):
        described = Genred.backward_genred(self, position)
        if described is None:
            return None
        routine, inputs, sum_rows = described
        routine = bind(routine, self.group, self.layout)
        if sum_rows and self.layout == "sharded":
            return _summed_over_ranks(routine), inputs, False
        return routine, inputs, sum_rows

    def backward_extras(self, inputs, signature, args, eta, result):
        _, row_category, _ = signature
        return derivative_extras(
            inputs, result, self._columns(signature, args),
            lambda reduction: bind(self._related(reduction), self.group,
                                   self.layout)(*args),
            eta=eta, first_column=self._first_row(1 - row_category))

    def forward_derivative(self, signature, args, tangents, result):
        raise NotImplementedError("forward-mode derivatives (jvp) of distributed "
                                  "reductions are not supported")

    def _first_row(self, category):
        """The global index of this rank's first row of `category` (0 when
        replicated)."""
        if self.layout == "replicated":
            return 0
        return sum(rows[category] for rows in self.rows[:dist.get_rank(self.group)])


def _summed_over_ranks(routine):
    """The gradient of a parameter from the rows of a sharded `routine`:
    summed over this rank's rows, then over the ranks."""
    def gradient(*args):
        return _SumOverRanks.apply(routine(*args).sum(0), routine.group)
    return gradient


class _SumOverRanks(torch.autograd.Function):
    """The sum of a tensor over the ranks of a group, on every rank; its
    gradient (the objective being the sum of every rank's) is the sum of
    the ranks' output gradients."""

    @staticmethod
    def forward(ctx, tensor, group):
        ctx.group = group
        total = tensor.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(total, group=group)
        return total

    @staticmethod
    def backward(ctx, gradient):
        return _SumOverRanks.apply(gradient, ctx.group), None


def agree(genred, args):
    """Every rank's [rows of i, rows of j] for this call of the bound
    `genred`, once each rank checked its arguments and the ranks compared
    theirs; raises on every rank when one fails or they disagree."""
    group = genred.group
    report = {"call": "%s (%s layout)" % (genred.red_formula, genred.layout)}
    error = None
    try:
        report.update(_describe(genred, args))
    except Exception as raised:  # raised below, once every rank knows
        error = raised
        report["error"] = "%s: %s" % (type(raised).__name__, raised)
    reports = [None] * dist.get_world_size(group)
    dist.all_gather_object(reports, report, group=group)
    if error is not None:
        error.add_note("(keops: raised on every rank of the process group)")
        try:
            raise error
        finally:  # no frame <-> traceback cycle keeping the group alive
            error = None
    failed = ["rank %d: %s" % (rank, other["error"])
              for rank, other in enumerate(reports) if "error" in other]
    if failed:
        raise DistributedError("the distributed reduction failed on " +
                               "; ".join(failed))
    for rank, other in enumerate(reports):
        for key in ("call", "dtype", "parameters") + (
                ("shapes",) if genred.layout == "replicated" else ()):
            if other[key] != reports[0][key]:
                raise ValueError(
                    "the ranks disagree on the %s of the distributed reduction: "
                    "rank 0 has %s, rank %d has %s" % (
                        key, reports[0][key], rank, other[key]) +
                    (" (the replicated layout takes the same inputs on every rank)"
                     if key == "shapes" else ""))
    return [other["rows"] for other in reports]


def _describe(genred, args):
    """What the ranks compare of this rank's call; raises for a call that
    cannot run here."""
    genred.check_arguments(args)
    for k, arg in enumerate(args):
        if arg.device.type != "cpu":
            raise ValueError("argument %d is on %s: distributed reductions take "
                             "CPU tensors" % (k, arg.device))
        if arg.dim() > 2:
            raise ValueError("argument %d has shape %s: distributed reductions "
                             "take 2-D variables and 1-D parameters (no batch "
                             "dimensions)" % (k, tuple(arg.shape)))
    dtypes = [a.dtype for a in args]
    dtype = "float32" if genred.half_on_cpu(dtypes) else genred.dtype_name(dtypes)
    kernel = genred.kernel(dtype)
    shapes, rows = genred.shapes_2d(kernel, [a.shape for a in args])
    categories = [category for _, category, _ in kernel.inputs]
    if genred.layout == "sharded":
        if genred.ranges is not None:
            raise ValueError("block-sparse ranges are not supported in the sharded "
                             "layout: use layout='replicated'")
        if kernel.row_category not in categories:
            raise ValueError("the sharded layout needs a variable indexed by the "
                             "output rows (a V%s variable)"
                             % "ij"[kernel.row_category])
    return {"dtype": dtype, "shapes": shapes, "rows": rows,
            "parameters": [arg.detach().reshape(-1).tolist()
                           for arg, category in zip(args, categories)
                           if category == 2]}


def _axis_rows(kernel, output_rows, columns):
    """(rows_i, rows_j) of a run with these output rows and columns."""
    return ((output_rows, columns) if kernel.row_category == 0
            else (columns, output_rows))


def ring_outputs(kernel, inputs, rows, ranks_rows, group, steps=None):
    """The outputs of this rank's rows (sharded layout): its `inputs` (2-D,
    with `rows` [rows of i, rows of j]) over the reduced variables of every
    rank, whose shards travel around the ring; `ranks_rows` holds every
    rank's rows. `steps`, a list, receives per ring step the seconds of
    compute and of waiting for the exchange, and the bytes sent."""
    output_axis = kernel.row_category
    reduced = 1 - output_axis
    local = rows[output_axis]
    outputs = kernel_outputs(kernel, local)
    travelling = [k for k, (_, category, _) in enumerate(kernel.inputs)
                  if category == reduced]
    sizes = [r[reduced] for r in ranks_rows]
    if not travelling or not any(sizes):
        # One column (no reduced variable) or none anywhere: as one process.
        kernel.run(inputs, outputs, rows[0], rows[1])
        return outputs
    rank, size = dist.get_rank(group), dist.get_world_size(group)
    offsets = np.cumsum([0] + sizes)
    shards = [p for p in range(size) if sizes[p]]  # a slot each, column order
    floats, ints, state_dtype = kernel.state_layout
    states = (torch.empty((len(shards), local * floats), dtype=DTYPES[state_dtype]),
              torch.empty((len(shards), local * ints), dtype=torch.int64))
    # The reduced variables of a shard side by side: one message per step.
    shard = torch.cat([inputs[k] for k in travelling], dim=1)
    bounds = np.cumsum([0] + [inputs[k].shape[1] for k in travelling])
    view = None
    for step in range(size):
        source = (rank - step) % size  # whose shard this rank holds now
        pending, received = [], None
        if step + 1 < size:
            following = (source - 1) % size
            received = shard.new_empty((sizes[following], shard.shape[1]))
            if sizes[source]:
                pending.append(dist.isend(shard, group=group,
                                          group_dst=(rank + 1) % size))
            if sizes[following]:
                pending.append(dist.irecv(received, group=group,
                                          group_src=(rank - 1) % size))
        start = time.perf_counter()
        if sizes[source] and local:
            view = list(inputs)
            for k, begin, end in zip(travelling, bounds, bounds[1:]):
                view[k] = shard[:, begin:end]
            slot = shards.index(source)
            kernel.run_partial(view, outputs, 0, sizes[source], states[0][slot],
                               states[1][slot],
                               *_axis_rows(kernel, local, sizes[source]))
            ints = states[1][slot]  # global column indices (none stays -1)
            ints[ints >= 0] += int(offsets[source])
        computed = time.perf_counter()
        for request in pending:
            request.wait()
        if steps is not None:
            steps.append({"compute_s": computed - start,
                          "wait_s": time.perf_counter() - computed,
                          "bytes_sent": shard.numel() * shard.element_size()
                          if sizes[source] and received is not None else 0})
        if received is not None:
            shard = received
    if view is not None:
        kernel.merge_partials(view, outputs, len(shards), states[0].reshape(-1),
                              states[1].reshape(-1),
                              *_axis_rows(kernel, local, view[travelling[0]].shape[0]))
    return outputs


def replicated_outputs(kernel, inputs, rows, ranges, group):
    """The whole outputs on every rank (replicated layout): each rank
    computes a share of the output rows (with the block-sparse `ranges` of
    the kernel's rows, as Genred.range_arrays gives them, or None), or with
    few rows, dense, a share of the reduced axis into raw states that every
    rank merges; the shares are all-gathered."""
    output_axis = kernel.row_category
    reduced = 1 - output_axis
    total, columns = rows[output_axis], rows[reduced]
    rank, size = dist.get_rank(group), dist.get_world_size(group)
    outputs = kernel_outputs(kernel, total)
    reduced_variables = any(category == reduced for _, category, _ in kernel.inputs)
    if (ranges is None and reduced_variables and 0 < total < FEW_ROWS_PER_RANK * size
            and columns >= size):
        cuts = [columns * p // size for p in range(size + 1)]
        floats, ints, state_dtype = kernel.state_layout
        mine = (torch.empty(total * floats, dtype=DTYPES[state_dtype]),
                torch.empty(total * ints, dtype=torch.int64))
        kernel.run_partial(inputs, outputs, cuts[rank], cuts[rank + 1], *mine,
                           rows[0], rows[1])
        kernel.merge_partials(inputs, outputs, size,
                              *(_all_gathered(m, group) for m in mine),
                              rows[0], rows[1])
        return outputs
    share = -(-total // size)
    begin, end = min(total, rank * share), min(total, (rank + 1) * share)
    mine = kernel_outputs(kernel, share)
    if end > begin:
        view = [arg[begin:end] if category == output_axis else arg
                for arg, (_, category, _) in zip(inputs, kernel.inputs)]
        kernel.run(view, [m[:end - begin] for m in mine],
                   *_axis_rows(kernel, end - begin, columns),
                   _rows_of_ranges(ranges, begin, end))
    for output, piece in zip(outputs, mine):
        output.copy_(_all_gathered(piece, group)[:total])
    return outputs


def _all_gathered(tensor, group):
    """Every rank's `tensor` (same shape on every rank), concatenated."""
    pieces = [torch.empty_like(tensor) for _ in range(dist.get_world_size(group))]
    dist.all_gather(pieces, tensor.contiguous(), group=group)
    return torch.cat(pieces)


def _rows_of_ranges(ranges, begin, end):
    """The block-sparse (row ranges, slices, column ranges) of the output
    rows [begin, end), renumbered from 0; None stays None."""
    if ranges is None:
        return None
    clusters, slices, reduced = ranges
    kept, reduced_kept = [], []
    for (first, last), start, stop in zip(clusters.reshape(-1, 2),
                                          np.concatenate([[0], slices[:-1]]), slices):
        first, last = max(first, begin), min(last, end)
        if first < last:
            kept.append((first - begin, last - begin))
            reduced_kept.append(reduced.reshape(-1, 2)[start:stop])
    return (np.array(kept, dtype=np.int64).reshape(-1),
            np.cumsum([len(r) for r in reduced_kept], dtype=np.int64),
            np.concatenate(reduced_kept or [np.empty((0, 2))]).astype(
                np.int64).reshape(-1))
