# keops/__init__.py - KeOps-MLIR: lazy kernel reductions, pykeops-compatible.
# SPDX-License-Identifier: MIT
"""KeOps-MLIR.

`keops.numpy` and `keops.torch` offer the Genred interface of pykeops 2.x
(generic reductions of a formula over point clouds), compiled by an MLIR
compiler; `import keops.torch` needs PyTorch.
"""
__version__ = "0.1.0"
