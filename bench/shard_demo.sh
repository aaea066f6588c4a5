#!/bin/bash
# The commands of docs/scaling.md, run and timed: split a prompt file into shards, run them
# with GNU parallel, merge in input order, and compare with one process on the whole file.
#   bash bench/shard_demo.sh [BINARY]   (N, TOKENS, MODEL, SHARDS, JOBS from the environment)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build/tiny-gpt}")
N=${N:-200} TOKENS=${TOKENS:-32} MODEL=${MODEL:-tang-poems} SHARDS=${SHARDS:-4} JOBS=${JOBS:-2}
command -v parallel >/dev/null || { echo "GNU parallel is not installed (apt-get install parallel)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 bench/make_prompts.py "$N" >"$work/prompts.jsonl"
cd "$work"
run() { echo "\$ $*"; local t0; t0=$(date +%s.%N); eval "$@"; echo "  ($(echo "$(date +%s.%N) - $t0" | bc) s)"; }
uptime
run "split -n l/$SHARDS -d --additional-suffix=.jsonl prompts.jsonl shard-"
run "parallel -j $JOBS '$BIN generate -m $MODEL --batch {} -n $TOKENS -t 1 -o {.}.out.jsonl 2>/dev/null' ::: shard-*.jsonl"
run "cat shard-*.out.jsonl > merged.jsonl"
run "$BIN generate -m $MODEL --batch prompts.jsonl -n $TOKENS -t $JOBS -o single.jsonl 2>/dev/null"
run "cmp merged.jsonl single.jsonl && echo identical: \$(wc -l < merged.jsonl) lines"
uptime
