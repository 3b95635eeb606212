#!/usr/bin/env bash
# The backward's vector atomics and the Hopper steps' skipped rescale (issue 10), on the H200 machine:
# selftests, the backward at the paper's Figure 2 shape and at d 128, N 4096 beside PyTorch's flash
# backward in the same run, the Hopper steps at d 64 and 128 (and causal at N 16384, unchecked: the fp64
# head alone takes minutes), compute-sanitizer on the backward.
#
#   scripts/cuda/bwd_run.sh        (binaries in .device/pipes, as scripts/cuda/pipes.sh; output in $OUT/bwd)
source "$(dirname "$0")/device_run.sh" bwd
B=$D/tilesim-cuda
export PYTHONUNBUFFERED=1
{ st "selftest backward" 150 $B selftest --only backward; st "selftest hopper" 150 $B selftest --only hopper; } > $O/selftest.txt 2>&1
tail -1 $O/selftest.txt; grep -c "^ok" $O/selftest.txt; grep "FAIL" $O/selftest.txt | head -3
{
st "bwd fig2" 180 $B backward --set seq_len=1024 --set batch=64 --set heads=16 --set head_dim=64 --check-heads 1
st "bwd d128" 120 $B backward --set seq_len=4096 --set batch=4 --set heads=16 --set head_dim=128 --set algorithms=flash2 --check-heads 1
st "bwd d128 causal bf16" 120 $B backward --set seq_len=4096 --set batch=4 --set heads=16 --set head_dim=128 --set dtype=bf16 --set algorithms=flash2 --check-heads 1 --causal
st "sdpa bwd" 180 python3 $D/bwd_bench.py --shape 64 16 1024 64 --shape 4 16 4096 128
st "sdpa bwd causal bf16" 120 python3 $D/bwd_bench.py --shape 4 16 4096 128 --dtype bf16 --causal
} > $O/backward.txt 2>&1
grep -E "flash bwd|standard \(|sdpa|TFLOP|exit" $O/backward.txt | head -30
{
for d in 64 128; do for n in 4096 8192; do
  st "hopper d$d N$n" 120 $B hopper --set seq_len=$n --set batch=$((16384/n)) --set heads=16 --set head_dim=$d --check-heads 1 --runs 30
done; done
for d in 64 128; do
  st "hopper d$d N16384 causal" 120 $B hopper --set seq_len=16384 --set batch=1 --set heads=16 --set head_dim=$d --causal --check-heads 0 --runs 30
done
} > $O/hopper.txt 2>&1
grep -E "^  \([a-f]\).*(ok|FAIL|unchecked)|exit" $O/hopper.txt | head -40
small=(--set seq_len=333 --set batch=1 --set heads=2 --runs 20 --warmup 1 --check-heads 2)
{ st memcheck 150 compute-sanitizer --tool memcheck $B backward "${small[@]}" --causal
  st racecheck 150 compute-sanitizer --tool racecheck $B backward "${small[@]}" --set head_dim=128; } > $O/sanitizer.txt 2>&1
grep -E "ERROR SUMMARY|hazard|exit" $O/sanitizer.txt | head
