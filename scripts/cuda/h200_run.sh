#!/usr/bin/env bash
# Every GPU measurement of issue 10's kernels (backward, split-KV decode, the Hopper progression) in one
# run on the H200 machine, from a prebuilt tilesim-cuda:
#
#   scripts/cuda/h200_run.sh OUTDIR [BINDIR]
#
# BINDIR (default .device/cuda) holds tilesim-cuda, lib/ (shared libraries the device lacks) and this
# script's siblings bwd_bench.py, sass_summary.py. Writes into OUTDIR (at most 8 files):
#   env.txt       nvidia-smi, driver, torch versions
#   selftest.txt  tilesim-cuda selftest (every kernel, dtype, mask, ragged size) against fp64
#   sass.txt      per kernel: HGMMA / QGMMA / HMMA counts and local-memory (LDL/STL) accesses
#   bench.txt     hopper progression (d 64, 128; N 4096, 8192), backward (the paper's Figure 2 shape and
#                 d 128), PyTorch SDPA flash fwd/bwd on the same shapes, split-KV decode (B 1, H 32,
#                 32k tokens, d 128: no split vs the heuristic's split, contiguous and paged)
#   bench.csv     the same numbers, one row per kernel and stage
#   sanitizer.txt compute-sanitizer memcheck and racecheck on small shapes of every kernel
#   steps.txt     each step's exit status and seconds
# SKIP_SANITIZER=1 leaves the sanitizer steps out. A short summary table is printed last. Steps run with a timeout; a failing step does not stop the others.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: h200_run.sh OUTDIR [BINDIR]" >&2; exit 2; }
O=$1
D=${2:-.device/cuda}
BIN=$D/tilesim-cuda
export LD_LIBRARY_PATH=$D/lib:${LD_LIBRARY_PATH:-}
export PYTHONUNBUFFERED=1
mkdir -p "$O"
: > "$O/steps.txt"
# step NAME LIMIT CMD...: CMD under `timeout LIMIT` (run and san below are shell functions, which
# timeout cannot start: they read the limit from LIMIT and apply it to the program themselves).
step() {
  local name=$1; LIMIT=$2; shift 2
  local t0; t0=$(date +%s)
  if [ "$(type -t "$1")" = function ]; then "$@"; else timeout "$LIMIT" "$@"; fi
  local rc=$?
  echo "$name: exit $rc ($(( $(date +%s) - t0 )) s)" | tee -a "$O/steps.txt"
}
{ nvidia-smi; nvidia-smi -q -d CLOCK | head -40; python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda)'; date -u; } > "$O/env.txt" 2>&1

T="$O/selftest.txt"
: > "$T"
for part in forward backward decode; do
  step "selftest $part" 150 sh -c "'$BIN' selftest --only $part >> '$T' 2>&1"
done
# The Hopper kernels synchronise through mbarriers and named barriers: a wrong phase hangs rather than
# fails. Their steps are short-limited, and the Hopper timings run only if their selftest finished.
step "selftest hopper" 60 sh -c "'$BIN' selftest --only hopper >> '$T' 2>&1"
HOPPER_OK=$(grep -c "^selftest hopper: " "$T")
step sass 120 sh -c "cuobjdump --dump-sass '$BIN' | python3 '$D/sass_summary.py' > '$O/sass.txt' 2>&1"

B="$O/bench.txt"; C="$O/bench.csv"
: > "$B"
run() { echo "\$ tilesim-cuda $*" >> "$B"; timeout "$LIMIT" "$BIN" "$@" >> "$B" 2>&1; }
# Hopper progression: forward TFLOP/s per step (16k tokens in the batch).
for d in 64 128; do
  [ "$HOPPER_OK" -gt 0 ] || break
  for n in 4096 8192; do
    step "hopper d=$d N=$n" 120 run hopper --set seq_len=$n --set batch=$((16384 / n)) --set heads=16 \
      --set head_dim=$d --check-heads 1 --csv "$C"
  done
  step "hopper d=$d N=8192 causal" 120 run hopper --set seq_len=8192 --set batch=2 --set heads=16 \
    --set head_dim=$d --check-heads 1 --causal --csv "$C"
done
[ "$HOPPER_OK" -gt 0 ] && step "hopper d=128 N=8192 bf16" 120 run hopper --set seq_len=8192 --set batch=2 \
  --set heads=16 --set head_dim=128 --set dtype=bf16 --check-heads 1 --csv "$C"
for d in 64 128; do
  [ "$HOPPER_OK" -gt 0 ] || break
  step "hopper d=$d N=16384" 120 run hopper --set seq_len=16384 --set batch=1 --set heads=16 --set head_dim=$d \
    --check-heads 1 --csv "$C"
  step "hopper d=$d N=2048" 120 run hopper --set seq_len=2048 --set batch=8 --set heads=16 --set head_dim=$d \
    --check-heads 1 --csv "$C"
done
# Backward: the paper's Figure 2 workload (standard and flash), and d = 128 at N = 4096 (flash).
step "backward fig2" 180 run backward --set seq_len=1024 --set batch=64 --set heads=16 --set head_dim=64 \
  --check-heads 1 --all-blocks --csv "$C"
step "backward d128" 120 run backward --set seq_len=4096 --set batch=4 --set heads=16 --set head_dim=128 \
  --set algorithms=flash2 --check-heads 1 --all-blocks --csv "$C"
step "backward d128 causal bf16" 120 run backward --set seq_len=4096 --set batch=4 --set heads=16 \
  --set head_dim=128 --set dtype=bf16 --set algorithms=flash2 --check-heads 1 --causal --csv "$C"
step "backward fig2 bf16" 120 run backward --set seq_len=1024 --set batch=64 --set heads=16 --set head_dim=64 \
  --set dtype=bf16 --set algorithms=flash2 --check-heads 1 --csv "$C"
step "sdpa bwd" 180 sh -c "python3 '$D/bwd_bench.py' --shape 64 16 1024 64 --shape 4 16 4096 128 >> '$B' 2>&1"
step "sdpa bwd bf16" 120 sh -c "python3 '$D/bwd_bench.py' --shape 64 16 1024 64 --dtype bf16 >> '$B' 2>&1"
step "sdpa bwd causal bf16" 120 sh -c "python3 '$D/bwd_bench.py' --shape 4 16 4096 128 --dtype bf16 --causal >> '$B' 2>&1"
# Split-KV decode: the target shape, no split vs the heuristic, contiguous and paged.
step "decode" 120 run decode --set batch=1 --set heads=32 --set kv_heads=32 --set seq_len=32768 \
  --set head_dim=128 --set splits=1,0,16,32 --csv "$C"
step "decode paged" 120 run decode --set batch=1 --set heads=32 --set kv_heads=32 --set seq_len=32768 \
  --set head_dim=128 --set page_size=64 --set shuffled=1 --set splits=1,0 --csv "$C"
step "decode gqa" 120 run decode --set batch=1 --set heads=32 --set kv_heads=8 --set seq_len=32768 \
  --set head_dim=128 --set splits=1,0 --csv "$C"
step "decode gqa b8" 120 run decode --set batch=8 --set heads=32 --set kv_heads=8 --set seq_len=32768 \
  --set head_dim=128 --set splits=1,0 --csv "$C"

S="$O/sanitizer.txt"
: > "$S"
if [ "${SKIP_SANITIZER:-0}" = 0 ]; then
san() { local tool=$1; shift; echo "\$ compute-sanitizer --tool $tool tilesim-cuda $*" >> "$S";
        timeout "$LIMIT" compute-sanitizer --tool "$tool" "$BIN" "$@" >> "$S" 2>&1; }
small=(--set seq_len=333 --set batch=1 --set heads=2 --runs 20 --warmup 1 --check-heads 2)
step "memcheck backward" 150 san memcheck backward "${small[@]}" --causal
step "racecheck backward" 150 san racecheck backward "${small[@]}" --set head_dim=128
if [ "$HOPPER_OK" -gt 0 ]; then
  step "memcheck hopper" 100 san memcheck hopper "${small[@]}" --causal
  step "racecheck hopper" 100 san racecheck hopper "${small[@]}" --set head_dim=128
fi
step "memcheck decode" 120 san memcheck decode --set seq_len=1000 --set heads=4 --set kv_heads=2 --set q_len=2 \
  --set page_size=16 --set shuffled=1 --set causal=1 --set splits=1,0 --runs 20 --warmup 1
step "racecheck decode" 120 san racecheck decode --set seq_len=1000 --set heads=4 --set kv_heads=4 \
  --set splits=1,3 --runs 20 --warmup 1
fi

echo "==== summary ===="
cat "$O/steps.txt"
grep -E "^selftest|FAILED|NOT RUN" "$O/selftest.txt" | head -24
grep -E "^  \(|^  flash|^  standard|^  [0-9]+ |sdpa-flash|copy \(" "$B" | cut -c1-150
grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$S"
grep -E "HGMMA|spill|LDL" "$O/sass.txt" | head -12
