#!/usr/bin/env bash
# build.sh - Configure and build KeOps-MLIR with the default preset (build/).
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset default
cmake --build --preset default
