# test_runtime_threads.py - Kernels run from several threads and after fork().
# SPDX-License-Identifier: MIT
"""The runtime keeps a pool of worker threads across calls: concurrent calls
(the GIL is released while kernels run) must each get their own right answer,
and a forked child, which has none of its parent's threads, must still run
kernels instead of waiting for workers that do not exist."""
import os
import signal
import threading

import numpy as np

from keops.numpy import Genred

GAUSS = Genred("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], axis=1)


def check_gaussian(seed, n=3000):
    rng = np.random.default_rng(seed)
    x, y, b = rng.random((n, 3)), rng.random((n, 3)), rng.random((n, 1))
    expected = np.exp(-((x[:, None] - y[None]) ** 2).sum(-1)) @ b
    return np.allclose(GAUSS(x, y, b), expected, rtol=1e-12)


def test_concurrent_calls_from_python_threads():
    results = []

    def work(seed):
        results.append(all(check_gaussian(seed * 10 + k, 600) for k in range(10)))

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 4


def test_forked_child_runs_kernels():
    assert check_gaussian(0)  # the parent's pool exists now
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if the kernel ran and was right
        signal.alarm(60)  # a hang becomes a failure, not a stuck test run
        try:
            os._exit(0 if check_gaussian(1) else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_the_pool_has_a_thread_per_core_of_the_cpu_affinity():
    """A process limited to one core (taskset, a batch scheduler, an MPI
    launcher) runs kernels on its own thread: the pool starts no worker
    (the machine's other cores are someone else's)."""
    if len(os.sched_getaffinity(0)) < 2:
        return  # one core already: nothing to tell apart
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one core, then its first kernel run
        os.close(read)
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        rng = np.random.default_rng(1)
        x, y, b = rng.random((3000, 3)), rng.random((3000, 3)), rng.random((3000, 1))
        # (NumPy's BLAS starts its own threads: before the count.)
        expected = np.exp(-((x[:, None] - y[None]) ** 2).sum(-1)) @ b
        before = len(os.listdir("/proc/self/task"))
        ours = GAUSS(x, y, b)
        after = len(os.listdir("/proc/self/task"))
        ok = np.allclose(ours, expected, rtol=1e-12)
        os.write(write, b"%d %d" % (ok, after - before))
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        ok, started = pipe.read().split()
    os.waitpid(pid, 0)
    assert ok == "1" and started == "0"
