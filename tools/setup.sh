#!/usr/bin/env bash
# Installs everything tiny-gpt needs on a fresh Debian (bookworm) machine, as root.
#   bash tools/setup.sh          build + run dependencies
#   bash tools/setup.sh --test   also what the test suite needs (PyTorch reference,
#                                tiktoken via npm, Chromium for the viewer test, clang for fuzzing,
#                                the KJV text for the tokenizer fixture test)
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(cmake g++ make pkg-config libcli11-dev nlohmann-json3-dev libspdlog-dev catch2 libpcre2-dev libeigen3-dev)
test_pkgs=(python3 python3-numpy python3-torch python3-regex python3-matplotlib libopenblas0-pthread
           chromium fonts-wqy-zenhei librsvg2-bin clang-14 libclang-rt-14-dev clang-format-14
           bible-kjv bible-kjv-text)  # the last two: the training text the tokenizer fixture test rebuilds

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
  want+=("${test_pkgs[@]}")
  # Node.js may come from elsewhere with its own npm (Debian's npm package would conflict).
  command -v node >/dev/null || want+=(nodejs)
  command -v npm >/dev/null || want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ "${1:-}" == "--test" ]]; then
  # Reference tokenizers (js-tiktoken, GPT-2's encoder files) for tests and benchmarks.
  for dir in tools/tiktoken tests/browser; do
    if [[ -f "$dir/package-lock.json" ]]; then (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); fi
  done
fi
