#!/usr/bin/env bash
# Runs every libFuzzer target in targets.txt for FUZZ_SECONDS (default 15) on
# a copy of its seed corpus, FUZZ_JOBS (default 2) targets at a time. Fails
# when a target crashes, leaks or times out.
set -euo pipefail
build=${1:?build dir}
seconds=${FUZZ_SECONDS:-15}
jobs=${FUZZ_JOBS:-2}
here=$(cd "$(dirname "$0")" && pwd)
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

run_one() {  # name corpus
  local name=$1 corpus=$2 work
  work=$(mktemp -d)
  [ -n "$corpus" ] && [ -d "$here/$corpus" ] && cp -r "$here/$corpus/." "$work/"
  if "$build/tests/fuzz/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=0 "$work" > "$results/$name.log" 2>&1; then
    echo "fuzz: $name ok ($(grep -E '^#[0-9]+[[:space:]]+DONE' "$results/$name.log" | tail -1 | awk '{print $1}' | tr -d '#') runs in ${seconds}s)"
  else
    tail -40 "$results/$name.log"; echo "fuzz: $name FAILED"; touch "$results/$name.failed"
  fi
  rm -rf "$work"
}

running=0
while read -r name corpus; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  if [ ! -x "$build/tests/fuzz/$name" ]; then
    echo "fuzz: $name is not built in $build"; touch "$results/$name.failed"; continue
  fi
  run_one "$name" "${corpus:-}" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done < "$here/targets.txt"
wait || true
failed=$(find "$results" -name '*.failed' | wc -l)
echo "fuzz: $(grep -cvE '^\s*(#|$)' "$here/targets.txt") targets, $failed failed"
[ "$failed" -eq 0 ]
