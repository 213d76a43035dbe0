#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`) and runs each for SECONDS (default 60) on a copy of
# its seed corpus in fuzz/corpus/<target>/. A crash stops the run with exit 1 and leaves the
# reproducer (crash-*) in build/fuzz/findings/<target>/; turn it into a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j2
for exe in build/fuzz/fuzz/fuzz_*; do
  [ -x "$exe" ] || continue
  name=$(basename "$exe")
  corpus=fuzz/corpus/${name#fuzz_}
  work=build/fuzz/corpus/$name findings=build/fuzz/findings/$name
  rm -rf "$work" "$findings" && mkdir -p "$work" "$findings"
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  echo "fuzz: $name for ${seconds}s"
  set +e
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/" "$work" >"$findings/log" 2>&1
  status=$?
  set -e
  grep -E '^(stat::number_of_executed_units|stat::new_units_added|SUMMARY)' "$findings/log" || true
  if [ $status -ne 0 ] || [ -n "$(find "$findings" -name 'crash-*' -o -name 'timeout-*' -o -name 'leak-*' -o -name 'oom-*')" ]; then
    echo "fuzz: $name failed (exit $status): see $findings/log" >&2
    exit 1
  fi
done
