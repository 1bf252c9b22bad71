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
for benchmark in gaussian_sum hand_kernel gaussian_gradient block_sparse batched \
    compile_time few_rows call_overhead wide_outputs feature_dims \
    aot_first_call knn distributed gpu; do
  .venv/bin/python "$benchmark.py" "$@"
done
.venv/bin/python plot.py
