#!/usr/bin/env bash
# The fidelity benchmark of issue 9 on the H200 machine: Nsight Compute's DRAM, L2 and SM-side load
# bytes and kernel durations for tilesim's CUDA kernels and PyTorch's attention (eager standard, SDPA
# flash, SDPA cuDNN), plus CUDA-event speed runs. The model's side and the table come afterwards, on any
# machine: scripts/cuda/fidelity_table.py (docs/validation/h200.md).
#
#   scripts/cuda/fidelity.sh OUTDIR [BINDIR]
#
# BINDIR (default .device/fid) holds tilesim-cuda and lib/ (libtomlplusplus.so.3). Everything lands in
# OUTDIR/data/ and is packed into OUTDIR/fidelity.tar.gz; OUTDIR/steps.txt has each step's status and
# seconds. Steps run in priority order under one deadline (DEADLINE seconds from the start, default
# 540): a step that would not fit is skipped and says so. DRY_RUN=1 prints the commands instead.
#
# Shapes: 16 heads, fp16, B N = 16384, N in $NS (default 512 2048 8192 16384: a subsample of
# 512 ... 16384), d in 64 128, causal and not; decode: 1 query, 32768 keys, 32 heads, d 128, batch 1 and 8.
#
# What to run (environment; the defaults are the first run's):
#   NS             the N of the ncu steps (ours, torch) and of the causal torch speed runs
#   STEPS          which steps: any of ours torch decode hopper speed (default: all)
#   TORCH_EXTRA    more PyTorch ncu shapes, each B,H,N,d,c@IMPL:OP (only that operation; e.g.
#                  32,16,512,128,1@sdpa-cudnn:bwd), run in the torch step of their d
#   TORCH_LIMIT    the time limit of each torch ncu process (default 150 s)
#   SPEED_NS       the N of the non-causal torch speed runs (default 512 ... 16384; empty: none); SPEED_CAUSAL_NS the
#                  causal ones (default $NS)
#   HOPPER_NS      the N of the tilesim-cuda hopper speed runs (default 512 1024); HOPPER_CAUSAL: 0, 1
#                  or "0 1" (default 0)
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: fidelity.sh OUTDIR [BINDIR]" >&2; exit 2; }
O=$1
D=$(cd "${2:-.device/fid}" && pwd)
BIN=$D/tilesim-cuda
HERE=$(cd "$(dirname "$0")" && pwd)
NS=${NS:-8192 2048 16384 512}  # the calibration shape (N 8192, d 128) first
SPEED_NS=${SPEED_NS-512 1024 2048 4096 8192 16384}
SPEED_CAUSAL_NS=${SPEED_CAUSAL_NS-$NS}
HOPPER_NS=${HOPPER_NS-512 1024}
HOPPER_CAUSAL=${HOPPER_CAUSAL:-0}
STEPS=" ${STEPS:-ours torch decode hopper speed} "
TORCH_EXTRA=${TORCH_EXTRA:-}
TORCH_LIMIT=${TORCH_LIMIT:-150}
DEADLINE=${DEADLINE:-540}
DRY=${DRY_RUN:-0}
T0=$(date +%s)
mkdir -p "$O/data"
A=$O/data
: > "$O/steps.txt"
CUBLAS_DIR=$(dirname "$(find /usr/local/cuda* /usr/lib/x86_64-linux-gnu /opt -name 'libcublas.so.13' 2>/dev/null | head -1)" 2>/dev/null)
export LD_LIBRARY_PATH=$D/lib:${CUBLAS_DIR:-/usr/local/cuda/lib64}:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export PYTHONUNBUFFERED=1
NCU=${NCU:-ncu}

# step NAME LIMIT CMD...: runs CMD under timeout LIMIT (cut to what is left before the deadline; skipped
# when less than MIN_STEP seconds are left).
step() {
  local name=$1 limit=$2; shift 2
  local left=$(( DEADLINE - ($(date +%s) - T0) ))
  if [ "$left" -lt "${MIN_STEP:-15}" ]; then echo "$name: SKIPPED (deadline: ${left} s left)" | tee -a "$O/steps.txt"; return; fi
  [ "$limit" -gt "$left" ] && limit=$left
  local t0; t0=$(date +%s)
  if [ "$DRY" = 1 ]; then echo "DRY: timeout $limit $*"; rc=0; else timeout "$limit" "$@"; rc=$?; fi
  echo "$name: exit $rc ($(( $(date +%s) - t0 )) s)" | tee -a "$O/steps.txt"
}

{ nvidia-smi; nvidia-smi -q -d CLOCK | head -40; "$NCU" --version; nvcc --version 2>/dev/null | tail -2
  python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version())'
  echo "libcublas: $CUBLAS_DIR"; ldd "$BIN"; date -u; } > "$A/env.txt" 2>&1

# The metrics, where this ncu has them (a missing one would stop every ncu run).
WANT="dram__bytes_read.sum dram__bytes_write.sum lts__t_bytes.sum lts__t_sectors_srcunit_tex_op_read.sum
lts__t_sectors_srcunit_tex_op_write.sum l1tex__m_xbar2l1tex_read_bytes.sum l1tex__t_bytes_pipe_lsu_mem_global_op_ld.sum
smsp__sass_data_bytes_mem_shared_op_ldgsts.sum gpu__time_duration.sum"
if [ "$DRY" = 1 ]; then : > "$A/query_metrics.txt"; else "$NCU" --query-metrics > "$A/query_metrics.txt" 2>&1; fi
METRICS=""
for m in $WANT; do
  if grep -qE "^[[:space:]]*${m%.sum}([[:space:]]|$)" "$A/query_metrics.txt"; then METRICS="$METRICS${METRICS:+,}$m"; fi
done
if ! echo "$METRICS" | grep -q dram__bytes_read; then  # the query failed: the ones seen working on Hopper
  METRICS=dram__bytes_read.sum,dram__bytes_write.sum,lts__t_bytes.sum,lts__t_sectors_srcunit_tex_op_read.sum,gpu__time_duration.sum
fi
echo "metrics: $METRICS" | tee -a "$O/steps.txt"
NCU_ARGS=(--clock-control none --print-units base --csv --page raw --metrics "$METRICS")

# 1. tilesim's kernels: every forward step, the flash backward, standard forward and backward, one
#    launch each, caches flushed before each kernel (ncu's default --cache-control all).
want() { case "$STEPS" in *" $1 "*) return 0;; *) return 1;; esac; }
want ours && for d in 128 64; do
  for c in 0 1; do
    for n in $NS; do
      b=$((16384 / n)); tag="d${d}_N${n}_c${c}"
      cz=(); [ "$c" = 1 ] && cz=(--causal)
      step "ncu ours $tag" 60 sh -c "'$NCU' ${NCU_ARGS[*]} --profile-from-start off --log-file '$A/ours_$tag.csv' \
        '$BIN' profile --set seq_len=$n --set batch=$b --set heads=16 --set head_dim=$d ${cz[*]} \
        --kernels standard,flash,b,c,d,e,f,flash-bwd,standard-bwd > '$A/ours_$tag.log' 2>&1"
    done
  done
done

# 2. PyTorch, one process per head dimension (a marker kernel opens every operation's range).
want torch && for d in 128 64; do
  shapes=()  # the extra operations first: a time limit cuts the last
  for x in $TORCH_EXTRA; do case "$x" in *,$d,[01]@*) shapes+=("$x");; esac; done
  for c in 0 1; do for n in $NS; do shapes+=("$((16384 / n)),16,$n,$d,$c"); done; done
  [ ${#shapes[@]} -gt 0 ] || continue
  step "ncu torch d$d" "$TORCH_LIMIT" sh -c "'$NCU' ${NCU_ARGS[*]} --profile-from-start off --log-file '$A/torch_d$d.csv' \
    python3 '$HERE/fidelity_torch.py' ncu '$A/torch_d$d.manifest' ${shapes[*]} > '$A/torch_d$d.log' 2>&1"
done

# 3. Decode: tilesim's split-KV kernel (no split, and the heuristic's split) and PyTorch's SDPA.
want decode && for b in 1 8; do
  for sp in 1 0; do
    tag="B${b}_s${sp}"
    step "ncu decode $tag" 45 sh -c "'$NCU' ${NCU_ARGS[*]} -k regex:decode_ -c 4 --log-file '$A/decode_$tag.csv' \
      '$BIN' decode --set batch=$b --set heads=32 --set kv_heads=32 --set seq_len=32768 --set head_dim=128 \
      --set splits=$sp --set check_heads=0 --runs 20 --warmup 1 > '$A/decode_$tag.log' 2>&1"
  done
done
want decode && step "ncu torch decode" 90 sh -c "'$NCU' ${NCU_ARGS[*]} --profile-from-start off --log-file '$A/torch_decode.csv' \
  python3 '$HERE/fidelity_torch.py' ncu '$A/torch_decode.manifest' --decode 1,32,32768,128,0 8,32,32768,128,0 \
  > '$A/torch_decode.log' 2>&1"

# 4. Speed (no profiler): tilesim's progression at the short N the issue 10 table lacked (512, 1024),
#    then PyTorch eager / SDPA flash / SDPA cuDNN, forward and backward, every N.
want hopper && for d in 64 128; do
  for c in $HOPPER_CAUSAL; do
    for n in $HOPPER_NS; do
      cz=""; [ "$c" = 1 ] && cz=--causal
      step "hopper d=$d N=$n c=$c" 60 sh -c "'$BIN' hopper --set seq_len=$n --set batch=$((16384 / n)) --set heads=16 \
        --set head_dim=$d $cz --check-heads 1 --csv '$A/hopper_speed.csv' >> '$A/hopper_speed.txt' 2>&1"
    done
  done
done
want speed && for d in 64 128; do
  shapes=()
  for n in $SPEED_NS; do shapes+=("$((16384 / n)),16,$n,$d,0"); done
  for n in $SPEED_CAUSAL_NS; do shapes+=("$((16384 / n)),16,$n,$d,1"); done
  [ ${#shapes[@]} -gt 0 ] || continue
  step "speed torch d$d" 150 sh -c "python3 '$HERE/fidelity_torch.py' time '$A/torch_speed.csv' ${shapes[*]} \
    >> '$A/torch_speed.txt' 2>&1"
done

tar -C "$O" -czf "$O/fidelity.tar.gz" data
echo "==== summary ($(( $(date +%s) - T0 )) s) ===="
cat "$O/steps.txt"
grep -h "error\|Error\|ERROR" "$A"/*.log 2>/dev/null | sort | uniq -c | head -20
for f in "$A"/ours_d128_N8192_c0 "$A"/torch_d128 "$A"/decode_B1_s0; do
  echo "-- $f: $(grep -c '^"' "$f.csv" 2>/dev/null) csv lines"; tail -4 "$f.log" 2>/dev/null; done
grep -E "^  \(|within" "$A/hopper_speed.txt" 2>/dev/null | head -30
