# keops/numpy/operations.py - The module path of KernelSolve in pykeops.
# SPDX-License-Identifier: MIT
"""keops.numpy.operations, as pykeops.numpy.operations: KernelSolve."""
from keops.numpy import KernelSolve

__all__ = ["KernelSolve"]
