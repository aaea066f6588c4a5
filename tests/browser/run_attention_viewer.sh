#!/usr/bin/env bash
# CTest entry for the browser test: builds viewer pages and JSON dumps with the real binary on
# fixture models, then checks the pages in headless Chromium (attention_viewer.test.mjs).
#   run_attention_viewer.sh TINY_GPT_BINARY OUT_DIR [NODE]
# Exits 77 (CTest: skipped) when Chromium or the npm packages are missing; `bash tools/setup.sh --test`
# installs both.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$1"
out="$2"
node="${3:-node}"
fixtures="$here/../fixtures/ref"

if [[ ! -x /usr/bin/chromium ]]; then
  echo "skipped: /usr/bin/chromium is missing (apt-get install chromium, or bash tools/setup.sh --test)"
  exit 77
fi
if ! command -v "$node" >/dev/null; then
  echo "skipped: node is missing (apt-get install nodejs npm, or bash tools/setup.sh --test)"
  exit 77
fi
if [[ ! -d "$here/node_modules/playwright-core" ]]; then
  echo "skipped: playwright-core is not installed (cd tests/browser && npm ci, or bash tools/setup.sh --test)"
  exit 77
fi

mkdir -p "$out"
pairs=()
dump() {  # NAME MODEL SENTENCE: NAME.html and NAME.json from the same capture
  "$bin" attention-dump "$3" -m "$fixtures/$2" --format html -o "$out/$1.html"
  "$bin" attention-dump "$3" -m "$fixtures/$2" --json -o "$out/$1.json"
  pairs+=("$out/$1.html" "$out/$1.json")
}
dump gelu_3layer_4head gelu_3layer_4head.model.json "once upon a time"
dump chinese_vocab chinese_vocab.model.json "早上好，AI"

exec "$node" "$here/attention_viewer.test.mjs" "${pairs[@]}"
