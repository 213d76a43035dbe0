#!/usr/bin/env bash
# Regenerates the reference capacity reports in reports/ (docs/report.md). Usage:
#   scripts/make-reports.sh [MESHSIM] [OUTDIR]
# The reports do not depend on -j (results are placed by index); MESHSIM_JOBS sets it (default 2).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
meshsim="${1:-$root/build/release/meshsim}"
out="${2:-$root/reports}"
jobs="${MESHSIM_JOBS:-2}"
mkdir -p "$out"
"$meshsim" report --model vit-22b --hardware tpu-v4 --chips 1024 --steps 177000 \
  --global-batch 65536 -j "$jobs" -o "$out/vit-22b_tpu-v4_1024.json" > "$out/vit-22b_tpu-v4_1024.txt"
"$meshsim" report --model vit-22b --hardware h100-sxm --chips 1024 --steps 177000 \
  --global-batch 65536 -j "$jobs" -o "$out/vit-22b_h100_1024.json" > "$out/vit-22b_h100_1024.txt"
"$meshsim" report --model vit-e14 --hardware tpu-v4 --chips 256 --steps 177000 \
  --global-batch 16384 -j "$jobs" -o "$out/vit-e14_tpu-v4_256.json" > "$out/vit-e14_tpu-v4_256.txt"
