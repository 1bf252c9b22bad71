# keops/config.py - Package settings, as pykeops.config.
# SPDX-License-Identifier: MIT
"""Settings read by the package: `verbose` (report each kernel compiled or
loaded from the disk cache; from $KEOPS_VERBOSE or $PYKEOPS_VERBOSE, off by
default) and what pykeops code checks: `gpu_available` (whether the CUDA
driver sees a GPU; `gpu_unavailable_reason` says why not) and
`cpu_available`."""
import os

from keops import _C

verbose = os.environ.get("KEOPS_VERBOSE", os.environ.get("PYKEOPS_VERBOSE", "0")) != "0"
gpu_devices = _C.gpu_devices()  # (name, major, minor) of each GPU
gpu_available = bool(gpu_devices)
gpu_unavailable_reason = _C.gpu_unavailable_reason()
cpu_available = True
