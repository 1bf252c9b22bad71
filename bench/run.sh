#!/usr/bin/env bash
# run.sh - Run the benchmarks: builds the project, makes .venv with NumPy and
# the CPU build of PyTorch when missing, and writes the tables to
# bench/results/. Arguments go to every benchmark (e.g. --sizes 10000).
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh > /dev/null 2>&1
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -c "import numpy" 2>/dev/null || .venv/bin/pip install -q numpy
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/pip install -q torch==2.13.0
cd bench
../.venv/bin/python gaussian_sum.py "$@"
../.venv/bin/python gaussian_gradient.py "$@"
PYTHONPATH=../build/python ../.venv/bin/python block_sparse.py "$@"
../.venv/bin/python compile_time.py "$@"
../.venv/bin/python few_rows.py "$@"
../.venv/bin/python wide_outputs.py "$@"
../.venv/bin/python feature_dims.py "$@"
../.venv/bin/python aot_first_call.py "$@"
../.venv/bin/python gpu.py "$@"
