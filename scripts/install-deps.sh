#!/usr/bin/env bash
# install-deps.sh - Install every system package KeOps-MLIR needs (Debian 12).
# SPDX-License-Identifier: MIT
#
# Idempotent: when everything is present it only runs dpkg-query and exits.
set -euo pipefail

packages=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22
  lld libomp-dev libgtest-dev libgmock-dev cmake ninja-build python3-dev
  openmpi-bin libopenmpi-dev ccache
  libclang-rt-22-dev  # the sanitizers' and libFuzzer's runtimes
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all system packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
