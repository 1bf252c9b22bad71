#!/usr/bin/env bash
# demo.sh - Install dependencies, build, and run the demo: the seed's Gaussian
# kernel sum a_i = sum_j exp(-|x_i - y_j|^2) b_j at D=3 with N=1e5, M=2e5 on
# the CPU, with its time, pairs/s and the error against a float64 reference,
# then the seed's Python sample (LazyTensor and torch.autograd).
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/setup-venv.sh
scripts/build.sh
set -x
build/bin/keops-run --formula 'Sum_Reduction(Exp(-SqDist(x,y))*b,0)' \
  --alias 'x=Vi(3)' --alias 'y=Vj(3)' --alias 'b=Vj(1)' \
  --size i=100000 --size j=200000 --repeat 3 --check
.venv/bin/python examples/gaussian_sum.py
