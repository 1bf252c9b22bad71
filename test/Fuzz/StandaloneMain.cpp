//===- StandaloneMain.cpp - Replay fuzzer inputs without libFuzzer -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// A main for a libFuzzer target in builds without -fsanitize=fuzzer: each
// argument is a file whose bytes are one input, run in order (ctest replays
// the corpus this way, so the target is built and run in every build).
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  for (int k = 1; k < argc; ++k) {
    std::ifstream file(argv[k], std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "cannot read %s\n", argv[k]);
      return 1;
    }
    std::string input((std::istreambuf_iterator<char>(file)),
                      std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(input.data()),
                           input.size());
  }
  std::printf("%d inputs ran\n", argc - 1);
  return 0;
}
