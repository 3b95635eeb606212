#!/usr/bin/env bash
# What the ring's handshakes and the backward's dQ atomics cost (issue 9, docs/timeline.md), on the H200
# machine: the compute-only overlap benchmark with its "+ring" modes (the steps' mbarrier ring without
# copies), the atomics benchmark with the kernel's 16-byte vector pattern, and the flash backward and
# the Hopper steps beside the same kernels built with -DTILESIM_ABLATE_DQ_ATOMICS
# -DTILESIM_ABLATE_KV_LOADS (tilesim-cuda-ablate: no dQ atomics, no K/V copies after the ring's first
# s blocks; timing only, wrong results).
#
#   scripts/cuda/sync_run.sh      (binaries in .device/pipes, as scripts/cuda/pipes.sh; output in $OUT/sync)
source "$(dirname "$0")/device_run.sh" sync
st overlap 180 $D/overlap > $O/overlap.txt 2>&1; grep -E "sync|ping|pipe|exit" $O/overlap.txt
st atomics 60 $D/atomics > $O/atomics.txt 2>&1; cat $O/atomics.txt
for b in tilesim-cuda tilesim-cuda-ablate; do
  {
  st "$b bwd fig2" 120 $D/$b backward --set seq_len=1024 --set batch=64 --set heads=16 --set head_dim=64 --set algorithms=flash2 --check-heads 0 --runs 20 --warmup 2
  st "$b bwd d128" 120 $D/$b backward --set seq_len=4096 --set batch=4 --set heads=16 --set head_dim=128 --set algorithms=flash2 --check-heads 0 --runs 20 --warmup 2
  st "$b bwd d128 causal" 120 $D/$b backward --set seq_len=4096 --set batch=4 --set heads=16 --set head_dim=128 --set algorithms=flash2 --check-heads 0 --runs 20 --warmup 2 --causal
  st "$b bwd d64 N8192" 120 $D/$b backward --set seq_len=8192 --set batch=2 --set heads=16 --set head_dim=64 --set algorithms=flash2 --check-heads 0 --runs 20 --warmup 2
  } > $O/${b}_bwd.txt 2>&1
  grep -iE "flash|exit" $O/${b}_bwd.txt | head -20
  for d in 128 64; do
    st "$b hopper d$d" 120 $D/$b hopper --set seq_len=8192 --set batch=2 --set heads=16 --set head_dim=$d \
      --check-heads 0 --runs 20 --warmup 3 > "$O/${b}_hopper_d${d}.txt" 2>&1
    grep -E "^  \(" "$O/${b}_hopper_d${d}.txt" | head -6
  done
done
ls -la "$O"
