#!/usr/bin/env bash
# Speed of tilesim's CUDA kernels, and PyTorch's SDPA flash backend on the same shapes, in one run.
#
#   scripts/cuda/bench.sh [N ...]        (default: 512 1024 2048 4096 8192 16384)
#
# For each N: 16 heads, d = 64, fp16, batch = 16384 / N. `tilesim-cuda validate` checks both kernels
# against the fp64 reference on one head, then times them (median of 30 runs after 5 warm-ups, L2
# flushed before each run, CUDA events) next to the model's prediction (H100-SXM). Standard attention
# runs twice: as Algorithm 0 with the scale fused into the GEMM (extra_passes = 0) and as an eager
# framework runs it, with separate scale and mask passes (extra_passes = 2). Then sdpa_bench.py times
# torch.nn.functional.scaled_dot_product_attention with the flash backend forced, same method.
# Environment: TILESIM_CUDA_BIN (default build-cuda/tilesim-cuda), BENCH_OUT (default
# bench-out): validate.log, speed.csv, sdpa.csv and the Markdown table speed.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${TILESIM_CUDA_BIN:-build-cuda/tilesim-cuda}
OUTDIR=${BENCH_OUT:-bench-out}
NS=("$@")
[ ${#NS[@]} -gt 0 ] || NS=(512 1024 2048 4096 8192 16384)
[ -x "$BIN" ] || { echo "bench.sh: no tilesim-cuda at $BIN (build it or set TILESIM_CUDA_BIN)" >&2; exit 2; }
mkdir -p "$OUTDIR"
rm -f "$OUTDIR/speed.csv" "$OUTDIR/sdpa.csv"
for N in "${NS[@]}"; do
  B=$((16384 / N))
  [ "$B" -ge 1 ] || B=1
  common=(--set seq_len="$N" --set batch="$B" --set heads=16 --set head_dim=64 --set dtype=fp16
          --set hardware=H100-SXM --csv "$OUTDIR/speed.csv")
  "$BIN" validate "${common[@]}" --set extra_passes=0 --check-heads 1 | tee -a "$OUTDIR/validate.log"
  "$BIN" validate "${common[@]}" --set extra_passes=2 --set algorithms=standard --check-heads 1 \
    | tee -a "$OUTDIR/validate.log"
done
PYTHONUNBUFFERED=1 python3 scripts/cuda/sdpa_bench.py --heads 16 --head-dim 64 --seq-len "${NS[@]}" \
  --csv "$OUTDIR/sdpa.csv" 2>&1 | grep -v -i "warn" | tee -a "$OUTDIR/validate.log"
python3 scripts/cuda/speed_table.py "$OUTDIR" | tee "$OUTDIR/speed.md"
