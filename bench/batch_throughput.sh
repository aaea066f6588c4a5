#!/bin/bash
# generate --batch against one process per prompt, on N short prompts (docs/performance.md).
# Each prompt is the first two characters of a line of data/tang_val_slice.txt, with its own
# seed; every prompt is also run alone, and the two outputs must agree line for line.
#   bash bench/batch_throughput.sh [BINARY]     (N, TOKENS, MODEL, THREADS from the environment)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/tiny-gpt}
N=${N:-200} TOKENS=${TOKENS:-32} MODEL=${MODEL:-tang-poems} THREADS=${THREADS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 bench/make_prompts.py "$N" >"$work/prompts.jsonl"
now() { date +%s.%N; }
uptime
t0=$(now)
"$BIN" generate -m "$MODEL" --batch "$work/prompts.jsonl" -n "$TOKENS" -t "$THREADS" -o "$work/batch.jsonl" 2>"$work/batch.log"
t1=$(now)
tokens=$(/usr/bin/python3 -c 'import json,sys; print(sum(len(json.loads(l)["ids"]) for l in open(sys.argv[1])))' "$work/batch.jsonl")
# One process per prompt: the same requests as flags, one at a time and $THREADS at a time.
/usr/bin/python3 - "$work/prompts.jsonl" >"$work/args" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    print(f'{r["id"]}\t{r["prompt"]}\t{r["seed"]}')
PY
one() { IFS=$'\t' read -r id prompt seed <<<"$1"; "$BIN" generate -m "$MODEL" "$prompt" --seed "$seed" -n "$TOKENS" --json -t 1 2>/dev/null >"$work/alone.$id"; }
export -f one
export BIN MODEL TOKENS work
t2=$(now)
while IFS= read -r a; do one "$a"; done <"$work/args"
t3=$(now)
tr '\n' '\0' <"$work/args" | xargs -0 -P "$THREADS" -I{} bash -c 'one "$1"' _ {}
t4=$(now)
/usr/bin/python3 - "$work" "$N" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
batch = [json.loads(l) for l in open(f"{work}/batch.jsonl")]
for i, b in enumerate(batch):
    assert b.pop("id") == i
    assert b == json.load(open(f"{work}/alone.{i}")), f"line {i} differs"
print(f"the {n} batch results equal the {n} single runs")
PY
cat "$work/batch.log"
uptime
/usr/bin/python3 - "$N" "$tokens" "$t0" "$t1" "$t2" "$t3" "$t4" "$THREADS" <<'PY'
import sys
n, tokens = int(sys.argv[1]), int(sys.argv[2])
t0, t1, t2, t3, t4 = map(float, sys.argv[3:8])
threads = sys.argv[8]
for name, s in ((f"batch, one process, -t {threads}", t1 - t0), ("a process per prompt, one at a time", t3 - t2),
                (f"a process per prompt, {threads} at a time (xargs -P {threads})", t4 - t3)):
    print(f"{name:55s} {s:7.2f} s  {n / s:7.1f} prompts/s  {tokens / s:8.0f} tokens/s")
PY
