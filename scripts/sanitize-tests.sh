#!/usr/bin/env bash
# sanitize-tests.sh - Build the compiler, the runtime and their C++ tests
# with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ and run
# them (lit, GoogleTest, the fuzz corpus and the formula fuzzer; not the
# Python package, whose interpreter is not instrumented):
#   scripts/sanitize-tests.sh [ctest options...]
# Any sanitizer report fails the test that triggers it. scripts/test.sh (CI)
# runs it last, with -j2: about 11 minutes on 2 cores from a clean clone.
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh > /dev/null  # the sanitizers' runtime among them
runtime=$(compgen -G "/usr/lib/llvm-22/lib/clang/*/lib/linux" | head -1)
flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# The shared sanitizer runtime, so that shared libraries (the runtime's,
# linked with -z defs) find its symbols too.
link="-fsanitize=address,undefined -shared-libsan -Wl,-rpath,$runtime"
cmake --preset default -B build-asan -DKEOPS_PYTHON= \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$link" -DCMAKE_SHARED_LINKER_FLAGS="$link" > /dev/null
cmake --build build-asan
# LLVM's allocators poison their free memory from our instrumented code but
# not from the uninstrumented libMLIR (user poisoning would report its own
# accesses); LLVM's intentional process-lifetime allocations are not leaks;
# uninstrumented programs of the tests (cc-built AOT clients, mlir-runner)
# load the instrumented runtime library, and the sanitizer runtime with it.
export ASAN_OPTIONS="allow_user_poisoning=0:detect_leaks=0:verify_asan_link_order=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}"
# A downstream project built without the sanitizers cannot link the
# instrumented static libraries of the installed package.
export LIT_FILTER_OUT="Install/downstream"
ctest --test-dir build-asan --output-on-failure -E "keops-mpi" "$@"
