#!/usr/bin/env bash
# test.sh - Install dependencies, build, and run every test (lit, GoogleTest)
# through ctest.
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/setup-venv.sh
scripts/build.sh
ctest --preset default
