#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. release build (CMake preset "release", build/) + the Catch2/CTest suite;
#   2. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer (preset
#      "asan", build-asan/); any sanitizer report aborts the process and fails the run;
#   3. the libFuzzer targets, each for FUZZ_SECONDS (default 60) (tools/fuzz.sh).
# TINYGPT_SKIP_ASAN=1 / TINYGPT_SKIP_FUZZ=1 leave out step 2 / 3 (e.g. for a quick local run).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake --preset release
cmake --build --preset release -j"$jobs"
ctest --preset release -j"$jobs"

if [[ "${TINYGPT_SKIP_ASAN:-0}" != 1 ]]; then
  cmake --preset asan
  cmake --build --preset asan -j"$jobs"
  ctest --preset asan -j"$jobs"
fi

if [[ "${TINYGPT_SKIP_FUZZ:-0}" != 1 ]]; then
  bash tools/fuzz.sh
fi
