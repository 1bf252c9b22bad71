#!/usr/bin/env bash
# pykeops-compat.sh - Run pykeops's own test suite against keops.
# Downloads the pykeops sdist from PyPI into a temporary folder (nothing of it
# is kept), rewrites `pykeops` to `keops` in its tests, and runs the CPU ones
# with pytest on the package the build assembled in build/python. Their dense
# reference helpers (pykeops.numpy.utils) come from the same sdist; `keopscore`
# is replaced by a stub (the tests only set keopscore.auto_factorize).
# Needs network access and a build; arguments go to pytest.
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/pip download -q --no-deps --no-binary :all: pykeops==2.3 -d "$work"
tar xzf "$work"/pykeops-2.3.tar.gz -C "$work"
mkdir "$work/tests"
for test in "$work"/pykeops-2.3/pykeops/test/test_*.py; do
  sed -e 's/pykeops/keops/g' -e 's/from keops.numpy.utils import/from pk_np_utils import/' \
    "$test" > "$work/tests/$(basename "$test")"
done
sed -e 's/pykeops/keops/g' "$work/pykeops-2.3/pykeops/numpy/utils.py" \
  > "$work/tests/pk_np_utils.py"
echo "auto_factorize = False" > "$work/tests/keopscore.py"
# GPU-only or half-precision tests.
rm -f "$work"/tests/test_{float16,gpu_cpu,lazytensor_gaussian_fromhost}.py
cd "$work/tests"
PYTHONPATH="$root/build/python:." "$root/.venv/bin/python" -m pytest -q \
  -p no:cacheprovider "$@" .
