#!/usr/bin/env bash
# Measures the DRAM and L2 traffic of tilesim's CUDA kernels with Nsight Compute and prints it next to
# the model's predicted HBM bytes, per kernel and in total, for each sequence length.
#
#   scripts/cuda/ncu_validate.sh [N ...]          (default: 512 1024 2048 4096 8192 16384)
#
# Problem: 16 heads, d = 64, fp16, batch = 16384 / N (B N = 16384), model hardware H100-SXM.
# Environment: TILESIM_CUDA_BIN (default build-cuda/tilesim-cuda), NCU_OUT (folder for the
# raw ncu CSVs and the model's CSVs, default ncu-out), EXTRA_PASSES (standard attention's eager passes,
# default 0), NCU (default ncu).
#
# `tilesim-cuda profile` warms both kernels up, then runs standard attention once and FlashAttention
# once, each between cudaProfilerStart/Stop; with --profile-from-start off, ncu measures exactly those
# launches. ncu's default cache control flushes the caches before each profiled kernel, so every
# kernel starts from DRAM, as the model assumes.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${TILESIM_CUDA_BIN:-build-cuda/tilesim-cuda}
OUTDIR=${NCU_OUT:-ncu-out}
EXTRA=${EXTRA_PASSES:-0}
NCU=${NCU:-ncu}
METRICS=dram__bytes_read.sum,dram__bytes_write.sum,lts__t_bytes.sum,gpu__time_duration.sum
NS=("$@")
[ ${#NS[@]} -gt 0 ] || NS=(512 1024 2048 4096 8192 16384)
[ -x "$BIN" ] || { echo "ncu_validate.sh: no tilesim-cuda at $BIN (build it or set TILESIM_CUDA_BIN)" >&2; exit 2; }
command -v "$NCU" >/dev/null || { echo "ncu_validate.sh: Nsight Compute ($NCU) not found" >&2; exit 2; }
mkdir -p "$OUTDIR"
for N in "${NS[@]}"; do
  B=$((16384 / N))
  [ "$B" -ge 1 ] || B=1
  tag="N${N}_p${EXTRA}"
  echo "== N=$N batch=$B heads=16 d=64 extra_passes=$EXTRA" >&2
  "$NCU" --clock-control none --print-units base --csv --page raw --metrics "$METRICS" \
    --profile-from-start off --log-file "$OUTDIR/ncu_$tag.csv" \
    "$BIN" profile --set seq_len="$N" --set batch="$B" --set heads=16 --set head_dim=64 --set dtype=fp16 \
    --set hardware=H100-SXM --set extra_passes="$EXTRA" --model-csv "$OUTDIR/model_$tag.csv" >&2
done
python3 scripts/cuda/ncu_table.py "$OUTDIR" "$EXTRA" "${NS[@]}"
