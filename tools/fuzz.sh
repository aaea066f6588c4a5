#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan; CMake preset "fuzz", in build-fuzz/
# or $FUZZ_BUILD_DIR)
# and runs each for a bounded time. Fails on any crash, sanitizer report, leak, timeout
# or out-of-memory; the input that caused it is kept in build-fuzz/artifacts/.
#
#   tools/fuzz.sh                     every target, 60 s each
#   FUZZ_SECONDS=600 tools/fuzz.sh    longer, by hand
#   tools/fuzz.sh loader cli          some targets (loader, safetensors, tokenizer, cli)
#
# Reproduce a finding: build-fuzz/tests/fuzz/fuzz_<target> build-fuzz/artifacts/<file>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(loader safetensors tokenizer cli); fi

root=$PWD  # paths given to the targets are absolute: fuzz_cli works in a scratch directory
build=$(realpath -m "${FUZZ_BUILD_DIR:-build-fuzz}")
cmake --preset fuzz -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_loader fuzz_safetensors fuzz_tokenizer fuzz_cli

mkdir -p "$build/artifacts"
work=$(mktemp -d /tmp/tinygpt-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

declare -A max_len=([loader]=12000 [safetensors]=4096 [tokenizer]=2048 [cli]=512)
declare -A extra_seeds=([loader]="$root/tests/fixtures/broken")

failed=0
summary=$(printf '%-10s %12s %10s %8s %8s  %s' target executions exec/s cov corpus result)
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  [[ -x "$bin" ]] || { echo "fuzz.sh: unknown target '$t' (loader, safetensors, tokenizer, cli)" >&2; exit 2; }
  mkdir -p "$work/$t"
  log="$work/$t.log"
  echo "== fuzz_$t for ${seconds} s"
  status=0
  # The first corpus directory receives new inputs (a scratch copy); the seeds stay untouched.
  "$bin" -max_total_time="$seconds" -print_final_stats=1 -print_funcs=0 -close_fd_mask=3 -timeout=10 \
    -rss_limit_mb=2048 -max_len="${max_len[$t]}" -dict="$root/tests/fuzz/$t.dict" \
    -artifact_prefix="$build/artifacts/$t-" "$work/$t" "$root/tests/fuzz/corpus/$t" ${extra_seeds[$t]:-} \
    >"$log" 2>&1 || status=$?
  stat_of() { sed -n "s/^$1 *//p" "$log" | tail -1; }
  last() { grep -oE "$1 [0-9]+" "$log" | tail -1 | cut -d' ' -f2 || true; }
  runs=$(stat_of stat::number_of_executed_units:)
  speed=$(stat_of stat::average_exec_per_sec:)
  cov=$(last cov:)
  corpus=$(last corp:)
  result=ok
  if ((status != 0)); then
    result="FAILED (exit $status)"
    failed=1
    echo "---- fuzz_$t failed; the end of its log:"
    tail -n 60 "$log"
    grep -E 'Test unit written to|artifact' "$log" || true
  fi
  summary+=$'\n'$(printf '%-10s %12s %10s %8s %8s  %s' "$t" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${corpus:-?}" "$result")
done

echo
echo "$summary"
exit "$failed"
