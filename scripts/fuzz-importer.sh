#!/usr/bin/env bash
# fuzz-importer.sh - Fuzz the formula parser and importer with libFuzzer and
# AddressSanitizer + UndefinedBehaviorSanitizer for a bounded time:
#   scripts/fuzz-importer.sh [SECONDS (default 60)] [libFuzzer options...]
# Builds test/Fuzz's target in build-fuzz/ (only what it links), starts from
# test/Fuzz/corpus, and keeps what it finds in build-fuzz/corpus; a crash,
# an abort, a sanitizer report or an input that takes over 10 s fails.
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
scripts/install-deps.sh > /dev/null  # libFuzzer's runtime among them
sanitizers="address,undefined"
cmake --preset default -B build-fuzz -DKEOPS_ENABLE_FUZZERS=ON \
  -DKEOPS_ENABLE_TESTS=OFF -DKEOPS_PYTHON= \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,$sanitizers -fno-sanitize-recover=all" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$sanitizers" > /dev/null
cmake --build build-fuzz --target keops-fuzz-importer
mkdir -p build-fuzz/corpus
cp -n test/Fuzz/corpus/* build-fuzz/corpus/
# LLVM's allocators poison their free memory from our instrumented code but
# not from the uninstrumented libMLIR: user poisoning would report its
# accesses.
ASAN_OPTIONS=allow_user_poisoning=0:${ASAN_OPTIONS:-} \
  build-fuzz/test/Fuzz/keops-fuzz-importer build-fuzz/corpus \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=4096 "$@"
