#!/usr/bin/env bash
# Runs the whole CUDA measurement sweep of issue 8 in one call (docs/validation.md):
#   1. builds the harness alone (cmake -S cuda_validation; sm_90 SASS + compute_80 PTX) in
#      build/cuda, so a GPU machine needs only CUDA and CMake, not meshsim's other dependencies,
#   2. runs the harness self-check, then the sweep b in {1,4,16} x k in {1,2,4,8,16},
#   3. writes <out-dir>/<gpu>-<date>.json (schema meshsim.cuda-measurements/v1; default out-dir
#      cuda_validation/measurements),
#   4. when a meshsim binary is there (build/release/meshsim or $MESHSIM), runs `meshsim validate`
#      on it (table, and the JSON report as <gpu>-<date>.validate.json); otherwise prints the command.
# Usage: cuda_validation/run_sweep.sh [--out-dir DIR] [--hardware PROFILE] [harness flags...]
# Exit: 0 done, 77 no GPU, anything else a failure (the harness's or meshsim's code).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="$root/cuda_validation/measurements"
hardware="${MESHSIM_HARDWARE:-}"
meshsim="${MESHSIM:-$root/build/release/meshsim}"
harness_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out-dir) out_dir="$2"; shift 2 ;;
    --hardware) hardware="$2"; shift 2 ;;
    *) harness_args+=("$1"); shift ;;
  esac
done

build="$root/build/cuda"
cmake -S "$root/cuda_validation" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_COMPILER="${CUDACXX:-/usr/local/cuda/bin/nvcc}" \
  -DCMAKE_CUDA_ARCHITECTURES="90-real;80-virtual" >/dev/null
cmake --build "$build" --target meshsim_cuda_harness -j"$(nproc)"
harness="$build/meshsim_cuda_harness"

set +e
"$harness" --self-check
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
  echo "run_sweep.sh: harness self-check exited $rc (77 = no GPU); no measurement written" >&2
  exit $rc
fi

gpu="$(nvidia-smi --query-gpu=name --format=csv,noheader -i 0 2>/dev/null | head -1 || true)"
[[ -n "$gpu" ]] || gpu="unknown-gpu"
slug="$(echo "$gpu" | tr '[:upper:]' '[:lower:]' | sed -e 's/^nvidia //' -e 's/[^a-z0-9]\+/-/g' -e 's/^-//' -e 's/-$//')"
mkdir -p "$out_dir"
file="$out_dir/$slug-$(date -u +%Y-%m-%d).json"
"$harness" -o "$file" "${harness_args[@]+"${harness_args[@]}"}"
echo "run_sweep.sh: measurements in $file" >&2

if [[ -z "$hardware" ]]; then
  case "$slug" in
    *h100*) hardware="h100-sxm" ;;
    *h200*) hardware="h200-sxm" ;;
    *) hardware="" ;;
  esac
fi
validate=(validate --measurements "$file")
[[ -n "$hardware" ]] && validate+=(--hardware "$hardware")
if [[ -x "$meshsim" ]] && "$meshsim" --version >/dev/null 2>&1; then
  "$meshsim" "${validate[@]}"
  "$meshsim" "${validate[@]}" --json >"${file%.json}.validate.json"
  echo "run_sweep.sh: validation JSON in ${file%.json}.validate.json" >&2
else
  echo "run_sweep.sh: no meshsim binary here; validate elsewhere with: meshsim ${validate[*]}" >&2
fi
