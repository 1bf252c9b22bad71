# keops/utils.py - Package-level utilities of pykeops.
# SPDX-License-Identifier: MIT
"""The package-level functions of pykeops: the kernel cache folder
(get/set_build_folder, clean_pykeops), verbosity, and self-checks
(test_numpy_bindings, test_torch_bindings, check_health)."""
import pathlib

import numpy as np

from keops import _C, __version__, config


def get_build_folder():
    """The folder of the on-disk kernel cache ('' when it is disabled)."""
    return _C.cache_directory()


def set_build_folder(path=None):
    """Moves the on-disk kernel cache to `path` (created if needed); None
    restores the default; 'off' disables the cache."""
    _C.set_cache_directory(_C.default_cache_directory() if path is None else str(path))


def clean_pykeops():
    """Removes the compiled kernels of the on-disk cache and empties the
    process cache (kernels held by Genred objects stay usable)."""
    _C.clear_kernel_cache()
    folder = get_build_folder()
    if folder:
        for entry in pathlib.Path(folder).glob("*.kobj"):
            entry.unlink(missing_ok=True)


def release_gpu_memory():
    """Frees the device memory that KeOps keeps from one GPU run to the next
    (up to 1 GiB per device, which spares small runs their allocations);
    nothing to do without a GPU."""
    _C.gpu_release_memory()


def set_verbose(verbose):
    """Reports (or not) each kernel compiled or loaded from the disk cache."""
    config.verbose = bool(verbose)


def _check_gaussian_sum(module, to_array):
    rng = np.random.default_rng(0)
    x, y, b = rng.random((50, 3)), rng.random((40, 3)), rng.random((40, 2))
    routine = module.Genred("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"],
                            axis=1)
    result = np.asarray(routine(*(to_array(a) for a in (x, y, b))))
    expected = np.exp(-((x[:, None] - y[None]) ** 2).sum(-1)) @ b
    return bool(np.allclose(result, expected, rtol=1e-10))


def test_numpy_bindings():
    """Runs a Gaussian kernel sum with keops.numpy against NumPy."""
    import keops.numpy
    ok = _check_gaussian_sum(keops.numpy, lambda a: a)
    print("keops with numpy bindings is %s" % ("working!" if ok else "NOT working"))
    return ok


def test_torch_bindings():
    """Runs a Gaussian kernel sum with keops.torch against NumPy."""
    import torch

    import keops.torch
    ok = _check_gaussian_sum(keops.torch, torch.from_numpy)
    print("keops with torch bindings is %s" % ("working!" if ok else "NOT working"))
    return ok


def check_health():
    """Prints what this installation can do and checks the bindings."""
    print("keops %s: CPU backend, GPU backend %s" % (
        __version__,
        "on " + ", ".join("%s (sm_%d%d)" % d for d in config.gpu_devices)
        if config.gpu_available else "not available (%s)"
        % config.gpu_unavailable_reason))
    print("kernel cache folder: %s" % (get_build_folder() or "disabled"))
    ok = test_numpy_bindings()
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch is not installed: keops.torch is unavailable")
        return ok
    return test_torch_bindings() and ok
