#!/usr/bin/env bash
# Tokenizer encode throughput: tiny-gpt vs js-tiktoken (and tiktoken's WASM build) on a large
# English text and a large Chinese text, in one run. Not a test. Needs `npm ci` in tools/tiktoken.
#   bash bench/tokenize.sh [BUILD_DIR] [FILE...]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift || true
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target tokenize-bench -j2 >/dev/null
node bench/tokenize_bench.mjs --bin "$build/tokenize-bench" "$@"
