#!/usr/bin/env bash
# The Hopper progression's speed table after the skipped rescale of (b), (c) at d 64 (issue 10), on the
# H200 machine: selftest of the Hopper steps, then tilesim-cuda hopper at d 64 and 128, N 4096, 8192
# (checked against fp64) and 16384 (unchecked), causal at N 8192 (checked) and 16384 (unchecked).
#
#   scripts/cuda/hopper_run.sh     (binaries in .device/pipes, as scripts/cuda/pipes.sh; output in $OUT/hopper)
source "$(dirname "$0")/device_run.sh" hopper
B=$D/tilesim-cuda
st "selftest hopper" 150 $B selftest --only hopper > $O/selftest.txt 2>&1
tail -1 $O/selftest.txt
{
for d in 64 128; do
  for n in 4096 8192 16384; do
    ch=1; [ $n = 16384 ] && ch=0
    st "hopper d$d N$n" 120 $B hopper --set seq_len=$n --set batch=$((16384/n)) --set heads=16 --set head_dim=$d --check-heads $ch --runs 30
  done
  st "hopper d$d N8192 causal" 120 $B hopper --set seq_len=8192 --set batch=2 --set heads=16 --set head_dim=$d --causal --check-heads 1 --runs 30
  st "hopper d$d N16384 causal" 120 $B hopper --set seq_len=16384 --set batch=1 --set heads=16 --set head_dim=$d --causal --check-heads 0 --runs 30
done
} > $O/hopper.txt 2>&1
grep -E "^  \([a-f]\).*(ok|FAIL|unchecked)|exit|this stage" $O/hopper.txt
