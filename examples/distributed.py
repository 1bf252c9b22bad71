# distributed.py - Reductions over the ranks of a torch.distributed job.
# SPDX-License-Identifier: MIT
"""Each rank holds only its rows of the points (layout="sharded") and gets
its rows of: the Gaussian kernel sum over every rank's points, the indices
of the 10 nearest points (global indices), and the gradient with respect to
its points of an energy summed over the ranks. Then, replicated, every rank
passes all the points and gets the whole result. With --check, each rank
compares its rows with one process holding everything.

    torchrun --nproc-per-node 2 examples/distributed.py --check
    mpirun -np 2 python examples/distributed.py    (one machine; else set
                                                    MASTER_ADDR)
    srun -n 16 python examples/distributed.py      (set MASTER_ADDR)
    python examples/distributed.py                 (one process)

The job starts from the environment: torchrun's RANK and WORLD_SIZE, or
those of OpenMPI, MPICH or Slurm; gloo runs on CPUs. See
docs/distributed.md."""
import argparse
import os

import torch
import torch.distributed as dist

from keops.torch import Genred, Vi, Vj

RANK_VARIABLES = ("RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID")
SIZE_VARIABLES = ("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS")


def init_from_environment():
    """The process group of the job that started this process (None: alone)."""
    def first(names):
        return next((int(os.environ[n]) for n in names if n in os.environ), None)

    rank, size = first(RANK_VARIABLES), first(SIZE_VARIABLES)
    if not size or size == 1:
        return None
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29500")
    dist.init_process_group("gloo", rank=rank, world_size=size)
    return dist.group.WORLD


def my_rows(total, group):
    """This rank's rows [begin, end) of `total` (all of them when alone)."""
    rank, size = (dist.get_rank(group), dist.get_world_size(group)) if group else (0, 1)
    return total * rank // size, total * (rank + 1) // size


def relative_difference(ours, theirs):
    """max |ours - theirs| / max |theirs| (indices: whether any differs)."""
    ours, theirs = ours.detach(), theirs.detach()
    if theirs.numel() == 0:
        return 0.0
    if theirs.dtype == torch.int64:
        return float((ours != theirs).any())
    return float((ours - theirs).abs().max() / theirs.abs().max())


def main(n=20000, m=30000, group=None, check=False):
    """Runs the example on this rank; with `check`, returns the largest
    relative difference with one process holding everything."""
    torch.manual_seed(0)  # every rank draws the same points...
    x_all, y_all, b_all = torch.rand(n, 3), torch.rand(m, 3), torch.rand(m, 1)
    (i0, i1), (j0, j1) = my_rows(n, group), my_rows(m, group)
    # ...and keeps its rows only (a real job would load its shard).
    x = x_all[i0:i1].clone().requires_grad_()
    y, b = y_all[j0:j1].clone().requires_grad_(), b_all[j0:j1]
    options = {"process_group": group, "layout": "sharded"}

    gaussian = Genred("Exp(-SqDist(x,y)*s)*b",
                      ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)", "s = Pm(1)"], axis=1)
    scale = torch.tensor([4.0])
    a = gaussian(x, y, b, scale, **options)  # this rank's rows of the sum
    neighbours = (Vi(x) - Vj(y)).sqnorm2().argKmin(10, dim=1, **options)
    # The energy is the sum of every rank's part: every rank calls backward,
    # and the gradient of its points holds every rank's contributions.
    (a ** 2).sum().backward()
    # Replicated: every rank passes the whole inputs, gets the whole output.
    whole = gaussian(x_all, y_all, b_all, scale, process_group=group,
                     layout="replicated")
    rank = dist.get_rank(group) if group else 0
    print("rank %d: rows %d:%d of x, %d:%d of y; sum %.4f, first neighbours %s"
          % (rank, i0, i1, j0, j1, float(a.detach().sum()), neighbours[:1].tolist()))
    if not check:
        return None
    x1, y1 = x_all.clone().requires_grad_(), y_all.clone().requires_grad_()
    a1 = gaussian(x1, y1, b_all, scale)
    (a1 ** 2).sum().backward()
    reference = (Vi(x_all[i0:i1]) - Vj(y_all)).sqnorm2().argKmin(10, dim=1)
    pairs = [(a, a1[i0:i1]), (whole, a1), (x.grad, x1.grad[i0:i1]),
             (y.grad, y1.grad[j0:j1]), (neighbours, reference)]
    errors = [relative_difference(ours, theirs) for ours, theirs in pairs]
    print("rank %d: relative differences with one process (sum, replicated sum, "
          "gradients of x and y, neighbours) %s" % (rank, errors))
    return max(errors)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--x-rows", type=int, default=20000)
    parser.add_argument("--y-rows", type=int, default=30000)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    process_group = init_from_environment()
    worst = main(args.x_rows, args.y_rows, process_group, args.check)
    if process_group is not None:
        dist.barrier()
        dist.destroy_process_group()
    if worst is not None and worst > 1e-4:
        raise SystemExit("differences with one process: %g" % worst)
