#!/usr/bin/env bash
# test-pip-install.sh - `pip install .` into a fresh virtual environment, then
# run the NumPy and PyTorch tests against the installed package (not build/).
# SPDX-License-Identifier: MIT
#
# The wheel is built in build-wheel/ (kept between runs). ccache, which the
# CMake build uses where installed, serves it the objects of build/, so after
# scripts/build.sh this takes about a minute and a half, not a second full
# build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
pip=("$work/venv/bin/pip" install -q --disable-pip-version-check)
"${pip[@]}" numpy scipy pytest torch==2.13.0
"${pip[@]}" "$root" -Cbuild-dir="$root/build-wheel"

# From outside the source tree, so that `import keops` is the installed one.
cd "$work"
"$work/venv/bin/python" - <<'PY'
import keops, pathlib, sys
where = pathlib.Path(keops.__file__).resolve()
assert "site-packages" in where.parts, f"keops imported from {where}"
print("test-pip-install: keops from", where.parent)
PY
KEOPS_CACHE_DIR="$work/kernel-cache" "$work/venv/bin/python" -m pytest -q \
  -p no:cacheprovider --rootdir="$work" \
  "$root"/python/tests/test_{numpy_genred,torch_genred,lazy_tensor,package_utils,utils_modules}.py
echo "test-pip-install: passed"
