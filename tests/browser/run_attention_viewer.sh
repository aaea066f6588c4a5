#!/usr/bin/env bash
# CTest entry for the browser tests: builds pages and their JSON with the real binary on fixture
# and shipped models, then checks the pages in headless Chromium.
#   run_attention_viewer.sh TINY_GPT_BINARY OUT_DIR [NODE] [attention|trace]
#   attention (default): attention-dump's viewer (attention_viewer.test.mjs)
#   trace: trace --format html (trace_viewer.test.mjs)
# Exits 77 (CTest: skipped) when Chromium or the npm packages are missing; `bash tools/setup.sh --test`
# installs both.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$1"
out="$2"
node="${3:-node}"
kind="${4:-attention}"
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
if [[ "$kind" == trace ]]; then
  page() {  # NAME MODEL TEXT ARGS...: NAME.html and NAME.json from the same trace
    "$bin" trace "$3" -m "$2" "${@:4}" --format html -o "$out/$1.html"
    "$bin" trace "$3" -m "$2" "${@:4}" --json -o "$out/$1.json"
    pairs+=("$out/$1.html" "$out/$1.json")
  }
  page trace_gelu "$fixtures/gelu_3layer_4head.model.json" "once upon a time" --seed 3
  page trace_chinese "$fixtures/chinese_vocab.model.json" "早上好，AI" --seed 5 --position 3
  page trace_greedy "$fixtures/sinusoidal_untied_relu.model.json" "$(/usr/bin/python3 -c "import json; print(json.load(open('$here/../fixtures/trace/sinusoidal_untied_relu.trace.json'))['prompt'])")" --temperature 0
  page trace_tang "$here/../../models/tang-poems.json" "床前明月光" --seed 1
  exec "$node" "$here/trace_viewer.test.mjs" "${pairs[@]}"
fi
dump() {  # NAME MODEL SENTENCE: NAME.html and NAME.json from the same capture
  "$bin" attention-dump "$3" -m "$fixtures/$2" --format html -o "$out/$1.html"
  "$bin" attention-dump "$3" -m "$fixtures/$2" --json -o "$out/$1.json"
  pairs+=("$out/$1.html" "$out/$1.json")
}
dump gelu_3layer_4head gelu_3layer_4head.model.json "once upon a time"
dump chinese_vocab chinese_vocab.model.json "早上好，AI"

exec "$node" "$here/attention_viewer.test.mjs" "${pairs[@]}"
