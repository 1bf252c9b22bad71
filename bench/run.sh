#!/usr/bin/env bash
# run.sh - Run the benchmarks: builds the project, makes the benchmarks' own
# environment bench/.venv (the peers pykeops, FAISS, scikit-learn beside the
# project's PyTorch and NumPy; bench/setup-env.sh) when missing, and writes the
# tables to bench/results/. Arguments go to every benchmark (e.g. --sizes 10000).
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh > /dev/null 2>&1
bench/setup-env.sh > /dev/null
cd bench
.venv/bin/python gaussian_sum.py "$@"
.venv/bin/python hand_kernel.py "$@"
.venv/bin/python gaussian_gradient.py "$@"
.venv/bin/python block_sparse.py "$@"
.venv/bin/python compile_time.py "$@"
.venv/bin/python few_rows.py "$@"
.venv/bin/python call_overhead.py "$@"
.venv/bin/python wide_outputs.py "$@"
.venv/bin/python feature_dims.py "$@"
.venv/bin/python aot_first_call.py "$@"
.venv/bin/python knn.py "$@"
.venv/bin/python gpu.py "$@"
.venv/bin/python plot.py
