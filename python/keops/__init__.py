# keops/__init__.py - KeOps-MLIR: lazy kernel reductions, pykeops-compatible.
# SPDX-License-Identifier: MIT
"""KeOps-MLIR.

`keops.numpy` and `keops.torch` offer the Genred interface of pykeops 2.x
(generic reductions of a formula over point clouds), compiled by an MLIR
compiler; `import keops.torch` needs PyTorch. The package-level utilities of
pykeops (clean_pykeops, set_build_folder, check_health, ...) are here too,
and load_library, which calls the kernels of a library built by keops-aot.
"""
__version__ = "0.1.0"

from keops import config  # noqa: E402
from keops.library import KernelLibrary, load_library  # noqa: E402
from keops.utils import (check_health, clean_pykeops, get_build_folder,  # noqa: E402
                         release_gpu_memory, set_build_folder, set_verbose,
                         test_numpy_bindings, test_torch_bindings)

clean_keops = clean_pykeops

__all__ = ["config", "KernelLibrary", "load_library", "check_health", "clean_pykeops", "clean_keops", "get_build_folder",
           "set_build_folder", "set_verbose", "test_numpy_bindings", "test_torch_bindings"]
