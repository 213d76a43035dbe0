#!/usr/bin/env bash
# meshsim sweep and report across MPI ranks (docs/sweep.md "Across machines (MPI)"), run by CTest
# when CMake finds MPI (tests/CMakeLists.txt).
#
#   mpi_cli_test.sh MESHSIM MPIEXEC sweep    3 ranks write exactly the bytes of -j 1 (text, --json,
#   mpi_cli_test.sh MESHSIM MPIEXEC report   -o, --csv, report --html); for sweep also: ranks 1
#                                            and 2 write nothing, and ranks of unequal -j
#   mpi_cli_test.sh MESHSIM MPIEXEC errors   a bad flag, a rank that alone fails, ranks given
#                                            different work, a verb that does not distribute: one
#                                            line from rank 0, the same exit code on every rank
#
# A fourth argument "small" (the sanitizer build, where every step runs many times slower) sweeps
# ViT-B/16 instead of ViT-22B.
set -uo pipefail
meshsim=$1
mpiexec=$2
mode=$3
size=${4:-full}
# LeakSanitizer reports what OpenMPI leaves allocated at MPI_Finalize (not ours, and not freeable
# by us); AddressSanitizer and UBSan still check everything else. Later options win.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
# Three ranks on one machine of any size (root in CI containers, 2 cores).
run3=("$mpiexec" --allow-run-as-root --oversubscribe -n 3)
export OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/meshsim-mpi-XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
same() {  # same FILE_A FILE_B WHAT
  if cmp -s "$1" "$2"; then
    echo "ok: $3 ($(wc -c < "$1") bytes)"
  else
    fail "$3 differs"
    diff "$1" "$2" | head -20
  fi
}

# ViT-22B on 64 TPU v4 chips: ~60 candidates, a handful simulated, a 5-point scaling curve.
sweep_args=(sweep --model vit-22b --hardware tpu-v4 --chips 64 --top 3)
report_args=(report --model vit-22b --hardware tpu-v4 --chips 64)
if [ "$size" = small ]; then
  sweep_args=(sweep --model vit-b16 --hardware tpu-v4 --chips 64 --batch 4096 --top 3)
  report_args=(report --model vit-b16 --hardware tpu-v4 --chips 64 --global-batch 4096
               --steps 1000 --max-scaling-chips 128)
fi

if [ "$mode" = sweep ] || [ "$mode" = report ]; then
  for verb in $mode; do
    if [ "$verb" = sweep ]; then args=("${sweep_args[@]}"); else args=("${report_args[@]}"); fi
    extra=(--csv "$verb.csv" -o "$verb.json")
    [ "$verb" = report ] && extra+=(--html "$verb.html")
    "$meshsim" "${args[@]}" -j 1 "${extra[@]}" > "$verb.txt" 2> "$verb.err" ||
      fail "$verb -j 1 exit $?"
    "$meshsim" "${args[@]}" -j 1 --json > "$verb.stdout.json" || fail "$verb -j 1 --json exit $?"
    # The same relative paths from another directory (the HTML names its JSON file).
    mkdir -p mpi
    (cd mpi && "${run3[@]}" "$meshsim" "${args[@]}" -j 1 "${extra[@]}" > "$verb.txt" 2> "$verb.err") ||
      fail "mpirun -n 3 $verb exit $?"
    (cd mpi && "${run3[@]}" "$meshsim" "${args[@]}" -j 1 --json > "$verb.stdout.json") ||
      fail "mpirun -n 3 $verb --json exit $?"
    same "$verb.txt" "mpi/$verb.txt" "$verb text"
    same "$verb.json" "mpi/$verb.json" "$verb -o JSON"
    same "$verb.stdout.json" "mpi/$verb.stdout.json" "$verb --json"
    same "$verb.csv" "mpi/$verb.csv" "$verb --csv"
    [ "$verb" = report ] && same "$verb.html" "mpi/$verb.html" "$verb --html"
    grep -q '"schema"' "$verb.stdout.json" || fail "$verb --json printed no JSON"
  done
fi
if [ "$mode" = sweep ]; then
  # Who writes: each rank's own standard output and error. Rank 0 the table, the others nothing.
  "${run3[@]}" sh -c '"$0" "$@" > "out.$OMPI_COMM_WORLD_RANK" 2> "err.$OMPI_COMM_WORLD_RANK"' \
    "$meshsim" "${sweep_args[@]}" -j 1 || fail "mpirun -n 3 sweep (per-rank files) exit $?"
  same sweep.txt out.0 "rank 0's standard output"
  for r in 1 2; do
    [ -s "out.$r" ] && fail "rank $r wrote to standard output"
    [ -s "err.$r" ] && fail "rank $r wrote to standard error"
  done
  # Rank 0 alone shows progress (lines "sweep: ..." on standard error, docs/sweep.md); nothing else.
  grep -v '^sweep: ' err.0 > err.0.other || true
  [ -s err.0.other ] && fail "rank 0 wrote to standard error: $(cat err.0.other)"
  # Uneven ranks: rank 0 with 2 threads, the others with 1 (the hand-out asks each rank's count).
  "$mpiexec" --allow-run-as-root --oversubscribe -n 1 "$meshsim" "${sweep_args[@]}" -j 2 : \
    -n 2 "$meshsim" "${sweep_args[@]}" -j 1 > mixed.txt || fail "mpirun MPMD exit $?"
  same sweep.txt mixed.txt "sweep text, rank 0 -j 2 and ranks 1-2 -j 1"
elif [ "$mode" = errors ]; then
  # expect NAME CODE PATTERN -- COMMAND...: every rank exits CODE, rank 0 prints exactly one line
  # matching PATTERN on standard error, ranks 1 and 2 print nothing.
  expect() {
    local name=$1 code=$2 pattern=$3
    shift 4
    rm -f rc.* out.* err.*
    "${run3[@]}" sh -c '"$@" > "out.$OMPI_COMM_WORLD_RANK" 2> "err.$OMPI_COMM_WORLD_RANK";
                        echo $? > "rc.$OMPI_COMM_WORLD_RANK"' sh "$@" > /dev/null 2>&1
    for r in 0 1 2; do
      local got
      got=$(cat "rc.$r" 2> /dev/null || echo none)
      [ "$got" = "$code" ] || fail "$name: rank $r exit $got, expected $code"
      [ -s "out.$r" ] && fail "$name: rank $r wrote to standard output"
    done
    [ "$(wc -l < err.0)" = 1 ] || fail "$name: rank 0 printed $(wc -l < err.0) lines: $(cat err.0)"
    grep -q -- "$pattern" err.0 || fail "$name: rank 0 printed '$(cat err.0)', not '$pattern'"
    for r in 1 2; do
      [ -s "err.$r" ] && fail "$name: rank $r printed: $(cat "err.$r")"
    done
    echo "ok: $name: exit $code on every rank, one line from rank 0"
  }
  expect "bad flag" 2 "^meshsim: --chips" -- "$meshsim" sweep --model vit-b16 --chips 0
  expect "bad value" 2 "^meshsim: --optimizers" -- \
    "$meshsim" sweep --model vit-b16 --chips 64 --batch 64 --optimizers adamw
  expect "report bad flag" 2 "^meshsim: --steps" -- \
    "$meshsim" report --model vit-22b --hardware tpu-v4 --chips 64 --steps 1 --tokens 1
  # Only rank 2 cannot read its model file: the other ranks must not wait for it forever.
  expect "one rank fails alone" 2 "^meshsim: missing-on-rank-2.json: " -- sh -c \
    'if [ "$OMPI_COMM_WORLD_RANK" = 2 ]; then m=missing-on-rank-2.json; else m=vit-b16; fi;
     exec "$0" sweep --model "$m" --hardware tpu-v4 --chips 64 --batch 4096' "$meshsim"
  # Rank 1 sweeps another chip count: its items are not rank 0's.
  expect "ranks given different work" 2 "^meshsim: mpirun: the ranks were given different work" \
    -- sh -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then c=32; else c=64; fi;
              exec "$0" sweep --model vit-b16 --hardware tpu-v4 --chips "$c" --batch 4096' \
    "$meshsim"
  expect "a verb that does not distribute" 2 "^meshsim: mpirun: only sweep and report" -- \
    "$meshsim" run --model vit-b16 --hardware tpu-v4 --mesh 16x4
  # An output rank 0 cannot write: refused before any work, on every rank.
  expect "unwritable output" 2 "^meshsim: --output" -- \
    "$meshsim" sweep --model vit-b16 --hardware tpu-v4 --chips 64 --batch 4096 \
    -o "$work/no-such-dir/out.json"
elif [ "$mode" != report ]; then
  echo "usage: $0 MESHSIM MPIEXEC sweep|report|errors"
  exit 2
fi
if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
