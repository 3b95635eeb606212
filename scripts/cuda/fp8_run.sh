#!/usr/bin/env bash
# The Hopper steps' checks and speed at d 128 (issue 10), on the H200 machine: selftest of every Hopper
# step, tilesim-cuda hopper at N 4096, 8192 (checked against fp64) and 16384 (unchecked: the fp64 head
# alone takes minutes), and compute-sanitizer memcheck on a small ragged shape.
#
#   scripts/cuda/fp8_run.sh            (binaries in .device/pipes, as scripts/cuda/pipes.sh; output in $OUT/fp8)
#
# Its runs of 2026-12-01 timed two experiments since reverted (docs/cuda.md): the fp8 step's exponentials
# in fp16 pairs (ex2.approx.f16x2; docs/validation/h200-data/pipes/fp8_halfexp_*.txt) and the skipped
# rescale in the fp8 step (docs/validation/h200-data/run8/).
source "$(dirname "$0")/device_run.sh" fp8
timeout 200 $D/tilesim-cuda selftest --only hopper > $O/selftest_hopper.txt 2>&1; echo "selftest rc $?"; tail -5 $O/selftest_hopper.txt
for n in 4096 8192 16384; do
  ch=1; [ $n = 16384 ] && ch=0
  timeout 150 $D/tilesim-cuda hopper --set seq_len=$n --set batch=$((16384/n)) --set heads=16 --set head_dim=128 --runs 20 --check-heads $ch > $O/hopper_d128_N$n.txt 2>&1
  echo "N $n rc $?"; grep -E "^  \(" $O/hopper_d128_N$n.txt | head -8
done
timeout 100 compute-sanitizer --tool memcheck $D/tilesim-cuda hopper --set seq_len=1000 --set batch=1 --set heads=2 --set head_dim=128 --runs 20 --warmup 1 > $O/memcheck_fp8.txt 2>&1; echo "memcheck rc $?"; tail -3 $O/memcheck_fp8.txt
