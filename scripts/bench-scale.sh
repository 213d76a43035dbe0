#!/usr/bin/env bash
# The scale benchmarks of issue 15: wall time, user CPU time, peak memory and simulated events of
# whole meshsim processes, median of N runs (default 3), then the Google Benchmark cases of
# bench/collective_bench.cpp (the 8192 and 65,536-GPU reduced ring all-reduce). Usage:
#   scripts/bench-scale.sh [N] [--quick]      (--quick: skip the H100 sweep and the 16,384-GPU runs)
# Targets (issue 15 item 2): H100 1024-chip sweep < 5 s; run on 16,384 H100 < 2 s; 1 GiB ring
# all-reduce on 8192 chips < 0.5 s, 65,536 < 5 s; TPU v5p 6144-chip run < 1 s.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
quick=${2:-}
bin=build/release/meshsim
bench=build/release/bench/meshsim_bench
measure() {
  local label=$1
  shift
  local walls=() users=() mems=() events=""
  for _ in $(seq "$n"); do
    local out
    # A refusal (exit 2, e.g. a step over the event limit) is reported, not a failure of the script.
    if ! out=$( { /usr/bin/time -f "%e %U %M" "$bin" "$@" > /tmp/bench-scale.$$ ; } 2>&1); then
      echo "$label: refused: $(echo "$out" | grep '^meshsim:' | head -1)"
      rm -f /tmp/bench-scale.$$
      return 0
    fi
    read -r w u m <<< "$(echo "$out" | tail -1)"
    walls+=("$w") users+=("$u") mems+=("$m")
    # The simulation's event count (a layer timeline's "events" is a list, not a number).
    events=$(grep -o '"events": [0-9][0-9]*' /tmp/bench-scale.$$ | head -1 | grep -o '[0-9]*' || true)
  done
  rm -f /tmp/bench-scale.$$
  local mid=$(( (n + 1) / 2 ))
  echo "$label: median wall $(printf '%s\n' "${walls[@]}" | sort -n | sed -n "${mid}p") s," \
       "user $(printf '%s\n' "${users[@]}" | sort -n | sed -n "${mid}p") s," \
       "peak RSS $(( $(printf '%s\n' "${mems[@]}" | sort -n | tail -1) / 1024 )) MiB," \
       "events ${events:-n/a} (n=$n)"
}
for g in 8192 16384; do
  measure "ring all-reduce 1 GiB, $g H100" collective --op all-reduce --bytes 1GiB \
    --hardware h100-sxm --group "$g" --algorithm ring --json
done
measure "ring all-reduce 1 GiB, 4096 TPU v4" collective --op all-reduce --bytes 1GiB \
  --hardware tpu-v4 --group 4096 --algorithm ring --json
measure "run vit-22b, 6144 TPU v5p (1536x4)" run --model vit-22b --hardware tpu-v5p --chips 6144 \
  --mesh 1536x4 --batch 61440 --json
measure "run vit-22b, 1024 H100 (256x4)" run --model vit-22b --hardware h100-sxm --mesh 256x4 --json
if [[ "$quick" != "--quick" ]]; then
  measure "run vit-22b, 16384 H100 (4096x4)" run --model vit-22b --hardware h100-sxm --chips 16384 \
    --mesh 4096x4 --json
  measure "run vit-22b, 16384 H100 (2048x8)" run --model vit-22b --hardware h100-sxm --chips 16384 \
    --mesh 2048x8 --json
  measure "sweep vit-22b, 1024 H100, -j 2" sweep --model vit-22b --hardware h100-sxm --chips 1024 \
    -j 2 --json
fi
"$bench" --benchmark_filter='RingAllReduce1GiBH100Reduced'
