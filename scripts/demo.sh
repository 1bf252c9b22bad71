#!/usr/bin/env bash
# demo.sh - Install dependencies, build, and run the demo: the seed's Gaussian
# kernel sum a_i = sum_j exp(-|x_i - y_j|^2) b_j, imported from its KeOps
# formula into the keops dialect and canonicalized.
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
set -x
build/bin/keops-run --formula 'Sum_Reduction(Exp(-SqDist(x,y))*b,0)' \
  --alias 'x=Vi(3)' --alias 'y=Vj(3)' --alias 'b=Vj(1)' --emit=mlir \
  | build/bin/keops-opt --canonicalize --cse
