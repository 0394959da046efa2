#!/usr/bin/env bash
# Runs every libFuzzer target in targets.txt for FUZZ_SECONDS (default 20) on
# a copy of its seed corpus. Fails when a target crashes, leaks or times out.
set -euo pipefail
build=${1:?build dir}
seconds=${FUZZ_SECONDS:-20}
here=$(cd "$(dirname "$0")" && pwd)
status=0
while read -r name corpus; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  work=$(mktemp -d)
  [ -n "${corpus:-}" ] && [ -d "$here/$corpus" ] && cp -r "$here/$corpus/." "$work/"
  echo "fuzz: $name for ${seconds}s"
  if ! "$build/tests/fuzz/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=0 "$work" > "$work.log" 2>&1; then
    tail -40 "$work.log"; echo "fuzz: $name FAILED"; status=1
  else
    grep -E '^#[0-9]+ *DONE' "$work.log" | tail -1 || true
  fi
  rm -rf "$work" "$work.log"
done < "$here/targets.txt"
exit $status
