# test_gpu.py - The GPU backend from Python: a clear error without a GPU;
# with one, NumPy arrays and torch CUDA tensors (used in place, gradients
# included) against dense float64 references.
# SPDX-License-Identifier: MIT
import os

import numpy as np
import pytest

import keops
from keops.numpy import Genred

ALIASES = ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"]
needs_gpu = pytest.mark.skipif(not keops.config.gpu_available,
                               reason=keops.config.gpu_unavailable_reason)


def data(n=1000, m=1500, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 3)), rng.random((m, 3)), rng.random((m, 1))


def dense(reduction_op, x, y, b):
    d = ((x[:, None] - y[None]) ** 2).sum(-1)
    if reduction_op == "Sum":
        return np.exp(-d) @ b
    if reduction_op == "LogSumExp":
        m = (-d).max(1, keepdims=True)
        return m + np.log(np.exp(-d - m).sum(1, keepdims=True))
    if reduction_op == "Min":
        return d.min(1, keepdims=True)
    if reduction_op == "ArgKMin":
        return np.argsort(d, 1, kind="stable")[:, :4]
    raise AssertionError(reduction_op)


@pytest.mark.skipif(keops.config.gpu_available, reason="a GPU is present")
def test_gpu_backend_without_gpu_says_why():
    x, y, b = data(10, 10)
    routine = Genred("Exp(-SqDist(x,y))*b", ALIASES, axis=1)
    with pytest.raises(ValueError, match="^no GPU: "):
        routine(x, y, b, backend="GPU")
    assert keops.config.gpu_unavailable_reason.startswith("no GPU: ")
    # The option reaches the kernels of solvers and of torch's backward pass.
    from keops.numpy import KernelSolve
    solver = KernelSolve("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"],
                         "b", axis=1)
    with pytest.raises(ValueError, match="^no GPU: "):
        solver(x, x, b, backend="GPU_1D")
    torch = pytest.importorskip("torch")
    from keops.torch import Genred as TorchGenred
    xt = torch.from_numpy(x).requires_grad_()
    bound = TorchGenred("Exp(-SqDist(x,y))*b", ALIASES, axis=1).with_call_options(
        backend="GPU")
    with pytest.raises(ValueError, match="^no GPU: "):
        bound(xt, torch.from_numpy(y), torch.from_numpy(b))
    # auto falls back to the CPU, forward and backward.
    np.testing.assert_allclose(routine(x, y, b), dense("Sum", x, y, b), rtol=1e-12)
    out = TorchGenred("Exp(-SqDist(x,y))*b", ALIASES, axis=1)(
        xt, torch.from_numpy(y), torch.from_numpy(b))
    out.sum().backward()
    assert xt.grad.shape == xt.shape


@needs_gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction_op, formula, k", [
    ("Sum", "Exp(-SqDist(x,y))*b", None),
    ("LogSumExp", "-SqDist(x,y)", None),
    ("Min", "SqDist(x,y)", None),
    ("ArgKMin", "SqDist(x,y)", 4),
])
@pytest.mark.parametrize("device_id", [-1, 0])
def test_numpy_on_gpu_matches_dense(dtype, reduction_op, formula, k, device_id):
    x, y, b = (a.astype(dtype) for a in data())
    routine = Genred(formula, ALIASES, reduction_op=reduction_op, axis=1, opt_arg=k)
    ours = routine(x, y, b, backend="GPU", device_id=device_id)
    ref = dense(reduction_op, *(a.astype(np.float64) for a in (x, y, b)))
    if reduction_op == "ArgKMin":
        np.testing.assert_array_equal(ours, ref)
    else:
        np.testing.assert_allclose(ours, ref, rtol=1e-4 if dtype == "float32" else 1e-10)


@needs_gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction_op, formula, k", [
    ("Sum", "Exp(-SqDist(x,y))*b", None),
    ("LogSumExp", "-SqDist(x,y)", None),
    ("ArgKMin", "SqDist(x,y)", 4),
])
def test_block_sparse_on_gpu_matches_masked_dense(dtype, reduction_op, formula, k):
    """ranges= on the GPU (the block table of each device) equal the dense
    reduction over the kept blocks only, as on the CPU."""
    from test_block_sparse import clustered
    x, y, ranges, mask = clustered(seed=3, m=3000, n=2000, cutoff=0.3)
    b = np.random.default_rng(3).random((2000, 1))
    aliases = ["x = Vi(2)", "y = Vj(2)", "b = Vj(1)"]
    routine = Genred(formula, aliases, reduction_op=reduction_op, axis=1, opt_arg=k)
    ours = routine(*(a.astype(dtype) for a in (x, y, b)), backend="GPU", ranges=ranges)
    d = np.where(mask, ((x[:, None] - y[None]) ** 2).sum(-1), np.inf)
    rows = mask.any(1)
    if reduction_op == "Sum":
        ref = np.exp(-d) @ b
    elif reduction_op == "LogSumExp":
        ref = np.log(np.exp(-d).sum(1, keepdims=True))
    else:
        np.testing.assert_array_equal(ours[rows], np.argsort(d, 1, kind="stable")[rows, :4])
        return
    np.testing.assert_allclose(ours[rows], ref[rows], rtol=1e-4 if dtype == "float32" else 1e-10)


@needs_gpu
def test_block_sparse_wide_outputs_on_gpu():
    """Outputs reduced in chunks of 16 components, block-sparse, on the GPU."""
    from test_block_sparse import clustered
    x, y, ranges, mask = clustered(seed=5, m=3000, n=2000, cutoff=0.3)
    b = np.random.default_rng(1).random((2000, 40))
    out = Genred("Exp(-SqDist(x,y))*b", ["x = Vi(2)", "y = Vj(2)", "b = Vj(40)"],
                 axis=1)(x, y, b, backend="GPU", ranges=ranges)
    k = np.exp(-((x[:, None] - y[None]) ** 2).sum(-1)) * mask
    np.testing.assert_allclose(out, k @ b, rtol=1e-10, atol=1e-12)


@needs_gpu
def test_column_slices_on_gpu_are_read_and_written_in_place():
    """Host column slices go to the GPU with their row strides, and the rows
    of a strided output are written between the other columns."""
    rng = np.random.default_rng(4)
    wide_x, wide_y = rng.random((1500, 7)), rng.random((1200, 5))
    x, y, b = wide_x[:, 2:5], wide_y[:, 1:4], wide_y[:, 3:4]
    out = np.full((1500, 3), -1.0)
    Genred("Exp(-SqDist(x,y))*b", ALIASES, axis=1)(x, y, b, backend="GPU",
                                                   out=out[:, 1:2])
    np.testing.assert_allclose(out[:, 1:2], dense("Sum", x, y, b), rtol=1e-10)
    assert (out[:, 0] == -1).all() and (out[:, 2] == -1).all()


def _torch_cuda():
    torch = pytest.importorskip("torch")
    if not (keops.config.gpu_available and torch.cuda.is_available()):
        pytest.skip("no CUDA device for torch")
    return torch


def test_torch_cuda_tensors_are_used_in_place_and_differentiate():
    torch = _torch_cuda()
    from keops.torch import Genred as TorchGenred
    x, y, b = (torch.from_numpy(a).cuda().requires_grad_() for a in data())
    routine = TorchGenred("Exp(-SqDist(x,y))*b", ALIASES, axis=1)
    ours = routine(x, y, b)
    assert ours.device == x.device
    ref = torch.exp(-((x[:, None] - y[None]) ** 2).sum(-1)) @ b
    torch.testing.assert_close(ours, ref)
    eta = torch.rand_like(ref)
    for g, r in zip(torch.autograd.grad((ours * eta).sum(), (x, y, b)),
                    torch.autograd.grad((ref * eta).sum(), (x, y, b))):
        assert g.device == x.device
        torch.testing.assert_close(g, r)


def test_torch_cuda_tensors_on_a_side_stream():
    """The reduction queues on torch's current stream, after the copies that
    made its inputs there (they are not waited for on the host)."""
    torch = _torch_cuda()
    from keops.torch import Genred as TorchGenred
    routine = TorchGenred("Exp(-SqDist(x,y))*b", ALIASES, axis=1)
    host = [torch.from_numpy(a).pin_memory() for a in data(20000, 30000)]
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        x, y, b = (t.cuda(non_blocking=True) for t in host)
        ours = routine(x, y, b).cpu()
    x, y, b = (t.double() for t in host)
    ref = torch.exp(-((x[:2000, None] - y[None]) ** 2).sum(-1)) @ b
    torch.testing.assert_close(ours[:2000].double(), ref, rtol=1e-4, atol=1e-6)


def test_torch_rejects_mixed_devices():
    torch = _torch_cuda()
    from keops.torch import Genred as TorchGenred
    x, y, b = (torch.from_numpy(a) for a in data(10, 10))
    routine = TorchGenred("Exp(-SqDist(x,y))*b", ALIASES, axis=1)
    with pytest.raises(ValueError, match="host memory and others on cuda"):
        routine(x.cuda(), y, b)
    with pytest.raises(ValueError, match="backend='CPU'"):
        routine(x.cuda(), y.cuda(), b.cuda(), backend="CPU")


@pytest.mark.skipif(keops.config.gpu_available, reason="a GPU is present")
def test_float16_without_gpu_runs_on_the_cpu_or_says_why():
    """Without a GPU, float16 runs on the CPU (in float32, returned in
    float16); asking for the GPU names why there is none."""
    x, y, b = (a.astype(np.float16) for a in data(10, 10))
    routine = Genred("Exp(-SqDist(x,y))*b", ALIASES, axis=1)
    assert routine(x, y, b).dtype == np.float16
    with pytest.raises(ValueError, match="no GPU"):
        routine(x, y, b, backend="GPU")


@needs_gpu
@pytest.mark.parametrize("reduction_op, formula, k", [
    ("Sum", "Exp(-SqDist(x,y))*b", None),
    ("LogSumExp", "-SqDist(x,y)", None),
    ("Min", "SqDist(x,y)", None),
])
def test_float16_on_gpu_matches_dense(reduction_op, formula, k):
    x, y, b = (a.astype(np.float16) for a in data())
    routine = Genred(formula, ALIASES, reduction_op=reduction_op, axis=1, opt_arg=k)
    ours = routine(x, y, b, backend="GPU")
    assert ours.dtype == np.float16
    ref = dense(reduction_op, *(a.astype(np.float64) for a in (x, y, b)))
    np.testing.assert_allclose(ours.astype(np.float64), ref, rtol=1e-2, atol=1e-2)


def test_torch_half_cuda_tensors():
    torch = _torch_cuda()
    from keops.torch import Genred as TorchGenred
    x, y, b = (torch.from_numpy(a).cuda().half() for a in data())
    ours = TorchGenred("Exp(-SqDist(x,y))*b", ALIASES, axis=1)(x, y, b)
    assert ours.dtype == torch.float16 and ours.device == x.device
    x, y, b = (t.double() for t in (x, y, b))
    ref = torch.exp(-((x[:, None] - y[None]) ** 2).sum(-1)) @ b
    torch.testing.assert_close(ours.double(), ref, rtol=1e-2, atol=1e-2)


def test_gpu_check_bundle_reaches_the_runtime():
    """scripts/gpu-check: a bundle of keops-run --emit=bundle, loaded through the
    runtime's C API with ctypes alone, makes a GPU kernel (no GPU: the runtime's
    reason) that, on a GPU, computes what the CPU kernel does."""
    import json
    import subprocess
    import sys
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    sys.path.insert(0, os.path.join(root, "scripts", "gpu-check"))
    import check
    aliases = ["--alias", "x=Vi(3)", "--alias", "y=Vj(3)", "--alias", "b=Vj(1)"]
    bundle = json.loads(subprocess.run(
        [os.path.join(root, "build", "bin", "keops-run"), "--formula",
         "Sum_Reduction(Exp(-SqDist(x,y))*b,0)", *aliases, "--emit=bundle"],
        check=True, capture_output=True, text=True).stdout)
    assert bundle["abi_version"] == 3 and bundle["block_size"] == 256
    assert bundle["rows_per_thread"] == 4  # x and two sum states fit 4 rows
    assert ".entry " + bundle["entry"] in bundle["ptx"]
    # Kernel symbols are unique per formula and options, and stable.
    def entry(*args):
        return json.loads(subprocess.run(
            [os.path.join(root, "build", "bin", "keops-run"), *args, "--emit=bundle"],
            check=True, capture_output=True, text=True).stdout)["entry"]
    gauss = ["--formula", "Sum_Reduction(Exp(-SqDist(x,y))*b,0)", *aliases]
    assert entry(*gauss) == bundle["entry"]
    assert entry(*gauss, "--dtype", "float64") != bundle["entry"]
    assert entry("--formula", "Sum_Reduction(SqDist(x,y)*b,0)", *aliases) != bundle["entry"]
    assert bundle["entry"].startswith("keops_") and len(bundle["entry"]) == 22
    rt = check.Runtime(os.path.join(root, "build", "lib", "libKeOpsRuntime.so"))
    if not keops.config.gpu_available:
        with pytest.raises(RuntimeError, match="^no GPU: "):
            rt.kernel(bundle)
        return
    if os.environ.get("KEOPS_GPU_EMULATION"):
        return  # the emulating driver runs the host kernels of this process, not PTX
    x, y, b = (a.astype(np.float32) for a in data())
    out = check.host_run(rt, rt.kernel(bundle), bundle, [x, y, b])[0]
    np.testing.assert_allclose(out, dense("Sum", *(a.astype(np.float64) for a in (x, y, b))),
                               rtol=1e-4)


def test_gpu_check_launches_what_the_bundle_says(tmp_path):
    """scripts/gpu-check/check.py through the stand-in CUDA driver of the
    tests, which logs launches and computes nothing: its ctypes structures
    reach the runtime as the C API lays them out (the rows per thread of the
    bundle set the grid; strided host arrays, a stream-less run)."""
    import json
    import subprocess
    import sys
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    bundle = subprocess.run(
        [os.path.join(root, "build", "bin", "keops-run"), "--formula",
         "Sum_Reduction(Exp(-SqDist(x,y))*b,0)", "--alias", "x=Vi(3)", "--alias",
         "y=Vj(3)", "--alias", "b=Vj(1)", "--emit=bundle", "--gpu-rows-per-thread", "3"],
        check=True, capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if k != "KEOPS_GPU_EMULATION"}).stdout
    (tmp_path / "bundle.json").write_text(bundle)
    assert json.loads(bundle)["rows_per_thread"] == 3
    script = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import check
bundle = json.load(open(sys.argv[2]))
rt = check.Runtime(sys.argv[3])
kernel = rt.kernel(bundle, cubin=False)
rng = np.random.default_rng(0)
inputs = [rng.random((n, d), dtype=np.float32) for n, d in ((2000, 3), (777, 3), (777, 1))]
check.host_run(rt, kernel, bundle, inputs, pad=2)
"""
    log = tmp_path / "cuda.log"
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(root, "build", "test", "fake-cuda", "stub"),
               FAKE_CUDA_DEVICE="90", FAKE_CUDA_DEVICES="1", FAKE_CUDA_SMS="1",
               FAKE_CUDA_LOG=str(log))
    subprocess.run([sys.executable, "-c", script, os.path.join(root, "scripts", "gpu-check"),
                    str(tmp_path / "bundle.json"),
                    os.path.join(root, "build", "lib", "libKeOpsRuntime.so")],
                   check=True, env=env)
    lines = log.read_text().splitlines()
    # 2000 rows in blocks of 256 x 3 rows: 3 blocks, on one device.
    assert lines[0] == "load device=0 image=ptx"
    assert lines[1].startswith("launch device=0 grid=3,1,1 block=256 stream=(nil) "
                               "rows=[0,2000) cols=[0,777) mode=0")


def test_release_gpu_memory():
    """The device memory kept between runs can be handed back (a no-op
    without a GPU); later runs allocate again."""
    keops.release_gpu_memory()
    if keops.config.gpu_available:
        x, y, b = data(300, 200)
        routine = Genred("Exp(-SqDist(x,y))*b", ALIASES, axis=1)
        routine(x, y, b, backend="GPU")
        keops.release_gpu_memory()
        np.testing.assert_allclose(routine(x, y, b, backend="GPU"), dense("Sum", x, y, b),
                                   rtol=1e-10)
