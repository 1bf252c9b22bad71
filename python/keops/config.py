# keops/config.py - Package settings, as pykeops.config.
# SPDX-License-Identifier: MIT
"""Settings read by the package: `verbose` (report each kernel compiled or
loaded from the disk cache; from $KEOPS_VERBOSE or $PYKEOPS_VERBOSE, off by
default) and what pykeops code checks: `gpu_available` (False: the GPU
backends are not available yet) and `cpu_available`."""
import os

verbose = os.environ.get("KEOPS_VERBOSE", os.environ.get("PYKEOPS_VERBOSE", "0")) != "0"
gpu_available = False
cpu_available = True
