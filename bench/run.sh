#!/usr/bin/env bash
# run.sh - Run the benchmarks: builds the project, makes .venv with NumPy when
# missing, and writes the tables to bench/results/.
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh > /dev/null
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -c "import numpy" 2>/dev/null || .venv/bin/pip install -q numpy
.venv/bin/python bench/gaussian_sum.py "$@"
