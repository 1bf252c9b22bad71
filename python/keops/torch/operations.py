# keops/torch/operations.py - The module path of KernelSolve in pykeops.
# SPDX-License-Identifier: MIT
"""keops.torch.operations, as pykeops.torch.operations: KernelSolve."""
from keops.torch import KernelSolve

__all__ = ["KernelSolve"]
