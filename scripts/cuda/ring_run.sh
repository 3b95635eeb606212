#!/usr/bin/env bash
# The ping-pong steps with V_j waited for under the running GEMMs (issue 10; docs/timeline.md, "The ring's
# handshakes"), on the H200 machine: the overlap benchmark's "+ring-v" modes, the Hopper selftest of the
# new binary, the Hopper table of the binary before (tilesim-cuda-old) and after (tilesim-cuda) in the
# same run, alternating, at d 64 and 128, N 4096 and 8192 (checked against fp64) and 16384 (unchecked),
# causal at N 8192 (checked); compute-sanitizer memcheck and racecheck on the new Hopper steps.
#
#   scripts/cuda/ring_run.sh     (binaries in .device/pipes, as scripts/cuda/pipes.sh; output in $OUT/ring)
set -u
D=.device/pipes; O=$OUT/ring
mkdir -p "$O"
export LD_LIBRARY_PATH=$D/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
st() { local name=$1 lim=$2; shift 2; local t0=$(date +%s); timeout "$lim" "$@"; echo "$name: exit $? ($(( $(date +%s) - t0 )) s)" >&2; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw --format=csv; date -u; } > "$O/env.txt" 2>&1
st overlap 180 $D/overlap > $O/overlap.txt 2>&1; grep -E "ring|exit" $O/overlap.txt
st "selftest hopper" 150 $D/tilesim-cuda selftest --only hopper > $O/selftest.txt 2>&1
tail -1 $O/selftest.txt; grep -c "^ok" $O/selftest.txt; grep FAIL $O/selftest.txt | head -3
{
for d in 128 64; do
  for n in 4096 8192 16384; do
    ch=1; [ $n = 16384 ] && ch=0
    for b in tilesim-cuda-old tilesim-cuda; do
      st "$b hopper d$d N$n" 120 $D/$b hopper --set seq_len=$n --set batch=$((16384/n)) --set heads=16 --set head_dim=$d --check-heads $ch --runs 30
    done
  done
  for b in tilesim-cuda-old tilesim-cuda; do
    st "$b hopper d$d N8192 causal" 120 $D/$b hopper --set seq_len=8192 --set batch=2 --set heads=16 --set head_dim=$d --causal --check-heads 1 --runs 30
  done
done
} > $O/hopper.txt 2>&1
grep -E "^  \([a-f]\).*(ok|FAIL|unchecked)|exit|stage alone" $O/hopper.txt | grep -v "^  (a)\|(b)\|(c)" | head -80
small=(--set seq_len=333 --set batch=1 --set heads=2 --runs 20 --warmup 1 --check-heads 2)
{ st memcheck 150 compute-sanitizer --tool memcheck $D/tilesim-cuda hopper "${small[@]}" --causal
  st racecheck 150 compute-sanitizer --tool racecheck $D/tilesim-cuda hopper "${small[@]}" --set head_dim=128; } > $O/sanitizer.txt 2>&1
grep -E "ERROR SUMMARY|hazard|exit" $O/sanitizer.txt | head
