# keops/common/batches.py - Batch dimensions folded into one reduction.
# SPDX-License-Identifier: MIT
"""A Genred call whose arguments have batch dimensions is one block-sparse
reduction: entry b of the B = prod(batch) entries takes the rows
[b M, (b + 1) M) of the i-variables and [b N, (b + 1) N) of the
j-variables, stacked (broadcast entries repeated), and one cluster of rows
meets its own cluster of columns (or the call's own clusters, shifted to
entry b). Reduced variables without batch dimensions (a vmap over x with
y shared) are not repeated: every entry's rows meet the same columns. Parameters with batch dimensions become variables of the output
rows (each row holds its entry's value), so that the kernel stays one.
Indices that the reduction returns are made relative to their entry."""
import numpy as np

CATEGORY_NAMES = ("Vi", "Vj", "Pm")


def _batch_half(ranges_out, slices, redranges, count, rows_out, rows_red,
                shared_out, shared_red):
    """One half (output clusters, slices, reduced ranges) of the ranges of
    `count` entries, each with the given half of one entry's ranges; an axis
    `shared_*` is one copy for every entry (not stacked: not shifted)."""
    entries = np.arange(count, dtype=np.int64)

    def shifted(array, step):
        return (array[None] + (entries * step).reshape(
            (count,) + (1,) * array.ndim)).reshape((-1,) + array.shape[1:])

    if not shared_out:  # one copy of the clusters per entry
        return (shifted(ranges_out, rows_out), shifted(slices, len(redranges)),
                shifted(redranges, 0 if shared_red else rows_red))
    # The shared output rows reduce over their ranges in every entry.
    starts = np.concatenate([[0], slices[:-1]])
    own = [shifted(redranges[begin:end], rows_red).reshape(-1, 2)
           for begin, end in zip(starts, slices)]
    merged = np.concatenate(own) if own else redranges
    return ranges_out, np.cumsum([len(r) for r in own], dtype=np.int64), merged


def batch_ranges(ranges, count, rows_i, rows_j, shared_i=False, shared_j=False):
    """The 6-tuple of block-sparse ranges of `count` entries of `rows_i` x
    `rows_j` pairs, each with `ranges` (pykeops's 6-tuple of one entry;
    None: every row meets every column), shifted to its rows and columns;
    an axis `shared_*` holds one copy of its rows for every entry."""
    if ranges is None:
        ranges = (np.array([[0, rows_i]]), np.array([1]), np.array([[0, rows_j]]),
                  np.array([[0, rows_j]]), np.array([1]), np.array([[0, rows_i]]))
    ranges_i, slices_i, redranges_j, ranges_j, slices_j, redranges_i = (
        np.asarray(r, dtype=np.int64) for r in ranges)
    halves = (_batch_half(ranges_i, slices_i, redranges_j, count, rows_i, rows_j,
                          shared_i, shared_j) +
              _batch_half(ranges_j, slices_j, redranges_i, count, rows_j, rows_i,
                          shared_j, shared_i))
    return tuple(np.ascontiguousarray(h, dtype=np.int64) for h in halves)


def entry_aliases(inputs, row_category, batched_parameters):
    """The aliases of a kernel's `inputs` ((name, category, dim) in position
    order) where the parameters at `batched_parameters` are variables of
    `row_category`; None when one of them has no name to rewrite."""
    aliases = []
    for position, (name, category, dim) in enumerate(inputs):
        if position in batched_parameters:
            if not name:
                return None
            category = row_category
        if name:
            aliases.append("%s = %s(%d, %d)" % (name, CATEGORY_NAMES[category],
                                                position, dim))
    return aliases


class Folding:
    """How a call with batch dimensions `batch` is one reduction of a
    kernel with `inputs` ((name, category, dim)) whose output rows are of
    `row_category`: `fold(args, shapes, batch_shapes, tools)` gives the 2-D
    arguments, `unfold(result, tools)` the (*batch, rows, ...) result."""

    def __init__(self, inputs, row_category, shapes, batch_shapes, batch):
        self.inputs, self.row_category, self.batch = inputs, row_category, batch
        self.count = int(np.prod(batch, dtype=np.int64))
        rows = [None, None]
        for (_, category, _), shape, own in zip(inputs, shapes, batch_shapes):
            if category != 2 and rows[category] is None:
                rows[category] = shape[len(own)] if len(shape) > len(own) + 1 else 1
        self.rows = rows
        self.batched_parameters = {
            position for position, ((_, category, _), own)
            in enumerate(zip(inputs, batch_shapes))
            if category == 2 and any(n != 1 for n in own)}
        # The reduced variables without batch dimensions stay one copy.
        reduced = 1 - row_category
        self.shared = all(all(n == 1 for n in own)
                          for (_, category, _), own in zip(inputs, batch_shapes)
                          if category == reduced)

    def possible(self):
        """Whether both axes have variables (their rows per entry)."""
        return None not in self.rows

    def fold(self, args, batch_shapes, tools):
        """The arguments as 2-D arrays of the stacked entries."""
        batch = tuple(self.batch)
        folded = []
        for position, (arg, own, (_, category, dim)) in enumerate(
                zip(args, batch_shapes, self.inputs)):
            if category == 2 and position not in self.batched_parameters:
                folded.append(tools.reshape(arg, (dim,)))
                continue
            if category == 2:  # a variable of the output rows
                category = self.row_category
                arg = tools.reshape(arg, own + (1, dim))
            rows = self.rows[category]
            if self.shared and category == 1 - self.row_category:
                folded.append(tools.reshape(arg, (rows, dim)))
                continue
            arg = tools.reshape(arg, (1,) * (len(batch) - len(own)) + tuple(
                tools.shape(arg)))
            arg = tools.expand(arg, batch + (rows, dim))
            folded.append(tools.reshape(arg, (self.count * rows, dim)))
        return folded

    def ranges(self, ranges):
        shared = [False, False]
        shared[1 - self.row_category] = self.shared
        return batch_ranges(ranges, self.count, self.rows[0], self.rows[1],
                            *shared)

    def unfold(self, result, tools):
        """A result (or pair) of the folded call as (*batch, rows, ...);
        indices relative to their entry's columns."""
        if isinstance(result, tuple):
            return tuple(self.unfold(r, tools) for r in result)
        shape = tuple(tools.shape(result))
        rows = self.rows[self.row_category]
        result = tools.reshape(result, tuple(self.batch) + (rows,) + shape[1:])
        if not tools.is_index(result) or self.shared:  # shared: local indices
            return result
        columns = self.rows[1 - self.row_category]
        offsets = tools.arange(self.count, result) * columns
        return result - tools.reshape(offsets, tuple(self.batch) + (1,) * (
            len(shape)))
