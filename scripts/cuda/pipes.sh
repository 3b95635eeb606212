#!/usr/bin/env bash
# Why the ping-pong steps are slower than the model's ping-pong (issue 9, docs/timeline.md): on the H200
# machine, the compute-only overlap benchmark (bench/gpu/overlap.cu), the atomics benchmark
# (bench/gpu/atomics.cu), and Nsight Compute's pipe utilisation, issue activity and warp stall reasons
# for the Hopper steps (c)-(f) and the flash backward at d 128, N 8192 and d 64, N 8192.
#
#   scripts/cuda/pipes.sh OUTDIR [BINDIR]
#
# BINDIR (default .device/pipes) holds overlap, atomics, tilesim-cuda and lib/ (its shared libraries),
# and optionally tilesim-cuda-ablate (below). NCU_STEPS=0 skips the Nsight Compute sections.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: pipes.sh OUTDIR [BINDIR]" >&2; exit 2; }
O=$1
D=$(cd "${2:-.device/pipes}" && pwd)
mkdir -p "$O"
CUBLAS_DIR=$(dirname "$(find /usr/local/cuda* /usr/lib/x86_64-linux-gnu /opt -name 'libcublas.so.13' 2>/dev/null | head -1)" 2>/dev/null)
export LD_LIBRARY_PATH=$D/lib:${CUBLAS_DIR:-/usr/local/cuda/lib64}:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw --format=csv; ncu --version | tail -1; date -u; } \
  > "$O/env.txt" 2>&1
echo "== overlap" && timeout 120 "$D/overlap" | tee "$O/overlap.txt"
# The wgmma instructions each overlap mode kept after ptxas (a GEMM whose result is dead is dropped).
if command -v cuobjdump > /dev/null; then
  cuobjdump -sass "$D/overlap" | awk '/Function :/{f=$3} /HGMMA/{n[f]++} END{for (k in n) print n[k], k}' | sort -k2 \
    > "$O/overlap_hgmma.txt"
fi
echo "== atomics" && timeout 60 "$D/atomics" | tee "$O/atomics.txt"
# ncu: the sections with pipe utilisation (ComputeWorkloadAnalysis), issue slots (SchedulerStats),
# stall reasons (WarpStateStats) and instruction mix (InstructionStats), one launch per kernel.
if [ "${NCU_STEPS:-1}" = 1 ]; then
SECTIONS=(--section ComputeWorkloadAnalysis --section SchedulerStats --section WarpStateStats
          --section InstructionStats --section SpeedOfLight)
for d in 128 64; do
  ks=c,d,e,flash-bwd; [ "$d" = 128 ] && ks=c,d,e,f,flash-bwd
  echo "== ncu d $d"
  timeout 150 ncu --clock-control none --csv --page details "${SECTIONS[@]}" --profile-from-start off \
    --log-file "$O/ncu_d${d}.csv" "$D/tilesim-cuda" profile --set seq_len=8192 --set batch=2 --set heads=16 \
    --set head_dim=$d --kernels $ks > "$O/ncu_d${d}.log" 2>&1
  echo "rc $?" && tail -3 "$O/ncu_d${d}.log"
done
fi
# The loads' share of the Hopper steps' time: the same steps built with -DTILESIM_ABLATE_KV_LOADS
# (tilesim-cuda-ablate: after the ring's first s blocks no K/V copy is made; timing only, no check).
if [ -x "$D/tilesim-cuda-ablate" ]; then
  for d in 128 64; do
    for b in tilesim-cuda tilesim-cuda-ablate; do
      echo "== $b hopper d $d N 8192"
      timeout 120 "$D/$b" hopper --set seq_len=8192 --set batch=2 --set heads=16 --set head_dim=$d \
        --check-heads 0 --runs 20 --warmup 3 > "$O/${b}_d${d}.txt" 2>&1
      grep -E "^  \(" "$O/${b}_d${d}.txt" | head -8
    done
  done
fi
ls -la "$O"
