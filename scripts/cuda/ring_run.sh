#!/usr/bin/env bash
# The ping-pong steps with V_j waited for under the running GEMMs (issue 10; docs/timeline.md, "The ring's
# handshakes"), on the H200 machine: the overlap benchmark's "+ring-v" modes, the Hopper selftest of the
# new binary, the Hopper table of the binary before (tilesim-cuda-old) and after (tilesim-cuda) in the
# same run, alternating, at d 64 and 128, N 4096 and 8192 (checked against fp64) and 16384 (unchecked),
# causal at N 8192 (checked); compute-sanitizer memcheck and racecheck on the new Hopper steps.
#
#   scripts/cuda/ring_run.sh [NAME]   (binaries in .device/pipes, as scripts/cuda/pipes.sh; output in
#                                      $OUT/NAME, default ring)
# BINS: the binaries compared, in order (default "tilesim-cuda-old tilesim-cuda"); the selftest and the
# sanitizers run the last. CAUSAL_CHECK=0 leaves the causal shapes unchecked (one fp64 causal head at
# N 8192 takes a minute per binary).
source "$(dirname "$0")/device_run.sh" "${1:-ring}"
BINS=${BINS:-tilesim-cuda-old tilesim-cuda}
NEW=${BINS##* }
st overlap 180 $D/overlap > $O/overlap.txt 2>&1; grep -E "ring|exit" $O/overlap.txt
st "selftest hopper" 150 $D/$NEW selftest --only hopper > $O/selftest.txt 2>&1
tail -1 $O/selftest.txt; grep -c "^ok" $O/selftest.txt; grep FAIL $O/selftest.txt | head -3
{
for d in 128 64; do
  for n in 4096 8192 16384; do
    ch=1; [ $n = 16384 ] && ch=0
    for b in $BINS; do
      st "$b hopper d$d N$n" 120 $D/$b hopper --set seq_len=$n --set batch=$((16384/n)) --set heads=16 --set head_dim=$d --check-heads $ch --runs 30
    done
  done
  for b in $BINS; do
    st "$b hopper d$d N8192 causal" 120 $D/$b hopper --set seq_len=8192 --set batch=2 --set heads=16 --set head_dim=$d --causal --check-heads ${CAUSAL_CHECK:-1} --runs 30
  done
done
} > $O/hopper.txt 2>&1
grep -E "^  \([a-f]\).*(ok|FAIL|unchecked)|exit|stage alone" $O/hopper.txt | grep -v "^  (a)\|(b)\|(c)" | head -80
small=(--set seq_len=333 --set batch=1 --set heads=2 --runs 20 --warmup 1 --check-heads 2)
{ st memcheck 150 compute-sanitizer --tool memcheck $D/$NEW hopper "${small[@]}" --causal
  st racecheck 150 compute-sanitizer --tool racecheck $D/$NEW hopper "${small[@]}" --set head_dim=128; } > $O/sanitizer.txt 2>&1
grep -E "ERROR SUMMARY|hazard|exit" $O/sanitizer.txt | head
