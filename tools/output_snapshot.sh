#!/usr/bin/env bash
# Runs a fixed set of commands on the shipped models and keeps what each printed (stdout,
# stderr, exit code) and every file it wrote, one folder per command. Two snapshots of two
# builds are compared with `diff -r`: a refactoring that claims "no behaviour change" must
# leave them byte-identical.
#   bash tools/output_snapshot.sh BINARY OUTDIR
set -euo pipefail
bin=$(realpath "$1")
out=$(realpath -m "$2")
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$out" && mkdir -p "$out"
n=0
run() {  # run NAME ARGS...: in a scratch folder of its own, so written files are kept too
  local name=$1; shift
  local dir="$out/$(printf '%02d' $n)-$name"; n=$((n + 1))
  mkdir -p "$dir/files"
  (cd "$dir/files" && TINYGPT_MODEL_DIR="$root/models" "$bin" "$@" >"$dir/stdout" 2>"$dir/stderr"; echo $? >"$dir/exit") || true
  printf '%s\n' "$*" >"$dir/command"
}
val_tang="$root/data/tang_val_slice.txt"
val_en="$root/data/english_val_slice.txt"
for m in tang-poems english-kjv demo-tiny; do
  case $m in english-kjv) p="In the beginning"; w=" king";; demo-tiny) p="ab"; w="a";; *) p="床前明月光"; w="月";; esac
  run "gen-$m" generate "$p" -m $m --seed 7 -n 40
  run "gen-greedy-$m" generate "$p" -m $m --temperature 0 -n 40 --json --top-logprobs 3 --seed 1
  run "gen-sampled-$m" generate "$p" -m $m --seed 3 --temperature 0.9 --top-k 20 --top-p 0.8 -n 30 --json --no-echo
  run "tok-$m" tokenize "$p 新年快樂 Hello, world!" -m $m
  run "tok-json-$m" tokenize "$p" -m $m --json
  run "att-$m" attention-dump "$p" -m $m
  run "att-summary-$m" attention-dump "$p" -m $m --summary
  run "att-json-$m" attention-dump "$p" -m $m --json --include-qkv
  run "att-files-$m" attention-dump "$p" -m $m --layer 0 --head 0,1 -o a.svg
  run "att-html-$m" attention-dump "$p" -m $m -o a.html
  run "att-csv-$m" attention-dump "$p" -m $m -o a.csv
  run "att-npy-$m" attention-dump "$p" -m $m -o a.npy
  run "embed-$m" embed "$w" -m $m --neighbors 5 --position 1
  run "embed-json-$m" embed "$w" -m $m --neighbors 5 --position 2 --json
  run "embed-novec-$m" embed "$w" -m $m --no-vectors
  run "embed-export-$m" embed -m $m --export out
done
run embed-sim embed 月 --similarity 日 --neighbors 3
run embed-analogy embed --analogy "王 - 男 + 女" --neighbors 5
run embed-analogy-en embed -m english-kjv --analogy '" king" - " man" + " woman"' --json
run embed-plot embed 月 日 山 水 --plot map.svg --plot-neighbors 2
run embed-plot-json embed 月 日 山 --plot map.svg --json
run embed-multi embed "hello" -m english-kjv --similarity " world"
# embed: every part of the text and JSON together, multi-token words, the warnings on stderr
run embed-multi-pos embed 月光 --position 3 --neighbors 4
run embed-multi-json embed 月光 --position 3 --similarity 明月 --json
run embed-sim-multi embed 月 --similarity 明月 --no-vectors
run embed-unk embed "月☃" --similarity "☃" --analogy "☃ - 月 + 日" --no-vectors
run embed-unk-json embed "月☃" --similarity "☃" --json
run embed-hint embed king -m english-kjv --position 5 --no-vectors
run embed-hint-json embed king -m english-kjv --neighbors 3 --json
run embed-all embed 月 --neighbors 3 --similarity 日 --analogy "王 - 男 + 女" --plot map.svg --plot-neighbors 3 --export out --no-vectors
run embed-all-json embed 月 --neighbors 3 --similarity 日 --analogy "王 - 男 + 女" --plot map.svg --plot-neighbors 3 --export out --json
run embed-plot-neighbors-json embed 月 日 --plot map.svg --plot-neighbors 3 --json
run embed-plot-dup embed 月 月 日 --plot map.svg
run embed-plot-export embed 月 日 --plot map.svg --export out
run err-plot-via-missing embed 月 日 --plot sub/../map.svg
run embed-analogy-export embed --analogy "王 - 男 + 女" --export out --json
run embed-plot-bpe embed " king" " queen" " man" -m english-kjv --plot map.svg --plot-neighbors 2
run embed-pos-bos embed a -m demo-tiny --position 31
run err-position-one embed 月 --position 128
run err-position-overflow embed 月光 --position 2147483647 --no-vectors
run err-position-hint embed king -m english-kjv --position 100000
run err-analogy-zero embed --analogy "月 - 月"
run err-analogy-quote embed --analogy '"月 - 日'
run err-analogy-start embed --analogy "- 月"
run err-analogy-blank embed --analogy "  "
run err-analogy-ops embed --analogy "月 日"
run err-analogy-model embed --analogy "月 -" -m /nonexistent/model.json
run err-plot-one embed 月 --plot map.svg
run err-plot-dup embed 月 月 --plot map.svg
run err-plot-words embed --plot map.svg --analogy "王 - 男 + 女"
run err-plot-neighbors embed 月 --plot-neighbors 2
run err-no-word embed
run err-two-words embed 月 日
run err-two-position embed 月 日 --plot map.svg --position 1
run err-sim-empty embed 月 --similarity ""
run embed-unk-demo embed "a月" -m demo-tiny --similarity "月" --no-vectors
run err-export-missing embed --export nope/dir
run err-export-file embed --export /etc/hostname
run err-export-proc embed --export /proc/tiny-gpt-out
run err-plot-missing embed 月 日 --plot nope/map.svg
run err-plot-dir embed 月 日 --plot /tmp
run err-plot-then-export embed 月 日 --plot map.svg --export nope/dir
run ppl-tang perplexity -m tang-poems -f "$val_tang"
run ppl-tang-lines perplexity -m tang-poems -f "$val_tang" --per-line --json
run ppl-en perplexity -m english-kjv -f "$val_en" --json
# errors: the messages must not change either
run err-temp generate 床 --temperature -1
run err-topp generate 床 --top-p 0
run err-topk generate 床 --top-k -2
run err-layer attention-dump 床 --layer 9
run err-head attention-dump 床 --head 99
run err-analogy embed --analogy "月 -"
run err-position embed 月光 --position 100000
run err-model generate 床 -m /nonexistent/model.json
run gen-empty generate "" -m english-kjv --seed 5 -n 30
echo "$n commands; outputs in $out"
