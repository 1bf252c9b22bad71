#!/usr/bin/env bash
# setup-env.sh - Make the benchmarks' own environment bench/.venv with the
# peers KeOps-MLIR is measured against (pykeops 2.3, FAISS, scikit-learn) and
# matplotlib for the plots. Never the project's .venv: the peers are only
# competitors. It sees the project's .venv (PyTorch, NumPy) and the keops
# package built in build/python through .pth files. Idempotent.
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh > /dev/null
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
fi
if ! bench/.venv/bin/python -c "import pykeops, faiss, sklearn, matplotlib" 2>/dev/null; then
  bench/.venv/bin/pip install -q --disable-pip-version-check \
    pykeops==2.3 faiss-cpu==1.15.1 scikit-learn matplotlib
fi
site=$(bench/.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
project=$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$PWD/build/python" > "$site/keops-mlir-build.pth"
echo "$project" > "$site/keops-mlir-project-venv.pth"
echo "setup-env: bench/.venv ready"
