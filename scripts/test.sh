#!/usr/bin/env bash
# test.sh - Install dependencies, build, and run every test (lit, GoogleTest,
# pytest) through ctest, then `pip install .` into a fresh virtual
# environment and its tests (scripts/test-pip-install.sh), then the C++
# tests again built with AddressSanitizer + UndefinedBehaviorSanitizer
# (scripts/sanitize-tests.sh, in build-asan/).
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/setup-venv.sh
scripts/build.sh
ctest --preset default
scripts/test-pip-install.sh
scripts/sanitize-tests.sh -j2
