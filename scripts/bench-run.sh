#!/usr/bin/env bash
# Wall time and peak memory of whole `meshsim run` processes (issue 5 benchmarks), median of N runs.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
bin=build/release/meshsim
for args in "--hardware tpu-v4 --mesh 256x4" "--hardware h100-sxm --mesh 128x8" "--hardware tpu-v4 --mesh 1024x4"; do
  walls=() mems=()
  for _ in $(seq "$n"); do
    out=$( { /usr/bin/time -f "%e %M" "$bin" run --model vit-22b $args --json >/dev/null; } 2>&1 | tail -1)
    walls+=("${out% *}") mems+=("${out#* }")
  done
  wall=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p")
  mem=$(printf '%s\n' "${mems[@]}" | sort -n | tail -1)
  echo "vit-22b $args: median wall ${wall} s, peak RSS $((mem / 1024)) MiB (n=$n)"
done
