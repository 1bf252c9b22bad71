#!/usr/bin/env bash
# setup-venv.sh - Make the project's virtual environment .venv/ (NumPy, SciPy,
# pytest, nanobind, the CPU build of PyTorch 2.13) and point it at the Python
# package built in build/python. Idempotent: quick when all is installed.
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import numpy, scipy, pytest, nanobind, torch" 2>/dev/null; then
  .venv/bin/pip install -q --disable-pip-version-check \
    numpy scipy pytest nanobind torch==2.13.0
fi
site=$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$PWD/build/python" > "$site/keops-mlir-build.pth"
echo "setup-venv: .venv ready"
