#!/usr/bin/env bash
# Every GPU measurement that docs/validation/h100.md and docs/cuda.md report, in one run:
#
#   scripts/cuda/run_all.sh OUTDIR
#
# OUTDIR/misc: env.txt (nvidia-smi, nvcc, ncu, torch versions), selftest.txt, blocks4096.txt (every
#   compiled FlashAttention block size), causal4096.txt, memcheck.txt, racecheck.txt
# OUTDIR/ncu:  ncu_validate.sh output (ncu_p0.md: all N, standard without eager passes; ncu_p2.md:
#   N = 1024, 4096 with scale and mask passes), raw ncu and model CSVs, l2_N4096.csv (L2 breakdown)
# OUTDIR/bench: bench.sh output (speed.md, speed.csv, sdpa.csv, validate.log)
# Environment: TILESIM_CUDA_BIN (default build-cuda/tilesim-cuda). Each step's exit
# status is printed; a failing step does not stop the others.
set -uo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 1 ] || { echo "usage: scripts/cuda/run_all.sh OUTDIR" >&2; exit 2; }
OUTDIR=$1
BIN=${TILESIM_CUDA_BIN:-build-cuda/tilesim-cuda}
export TILESIM_CUDA_BIN=$BIN
mkdir -p "$OUTDIR/misc" "$OUTDIR/ncu" "$OUTDIR/bench"
step() { local name=$1; shift; "$@"; echo "$name: exit $?"; }
{ nvidia-smi; nvcc --version; ncu --version
  python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda)'; } > "$OUTDIR/misc/env.txt" 2>&1
step selftest sh -c "'$BIN' selftest > '$OUTDIR/misc/selftest.txt' 2>&1"
step ncu_p0 sh -c "NCU_OUT='$OUTDIR/ncu' scripts/cuda/ncu_validate.sh > '$OUTDIR/ncu/ncu_p0.md' 2> '$OUTDIR/ncu/ncu_p0.err'"
step ncu_p2 sh -c "EXTRA_PASSES=2 NCU_OUT='$OUTDIR/ncu' scripts/cuda/ncu_validate.sh 1024 4096 \
  > '$OUTDIR/ncu/ncu_p2.md' 2> '$OUTDIR/ncu/ncu_p2.err'"
# Where the L2 bytes come from (N = 4096): requests from the SMs (srcunit_tex) against all of them.
step ncu_l2 ncu --clock-control none --print-units base --csv --page raw --profile-from-start off \
  --metrics lts__t_bytes.sum,lts__t_sectors.sum,lts__t_sectors_srcunit_tex.sum,lts__t_sectors_srcunit_tex_op_read.sum,lts__t_sectors_srcunit_tex_op_write.sum,lts__t_sectors_srcunit_tex_lookup_hit.sum,dram__bytes_read.sum,dram__bytes_write.sum \
  --log-file "$OUTDIR/ncu/l2_N4096.csv" "$BIN" profile --set seq_len=4096 --set batch=4 --set heads=16 \
  --set head_dim=64 --set hardware=H100-SXM > /dev/null
step bench sh -c "BENCH_OUT='$OUTDIR/bench' scripts/cuda/bench.sh > '$OUTDIR/bench/bench_stdout.txt' 2>&1"
step blocks sh -c "'$BIN' validate --set seq_len=4096 --set batch=4 --all-blocks > '$OUTDIR/misc/blocks4096.txt' 2>&1"
step causal sh -c "'$BIN' validate --set seq_len=4096 --set batch=4 --causal > '$OUTDIR/misc/causal4096.txt' 2>&1"
small=(--set seq_len=1000 --set batch=1 --set heads=2 --runs 20 --warmup 1 --check-heads 2)
step memcheck sh -c "compute-sanitizer --tool memcheck '$BIN' validate ${small[*]} --causal > '$OUTDIR/misc/memcheck.txt' 2>&1"
step racecheck sh -c "compute-sanitizer --tool racecheck '$BIN' validate ${small[*]} > '$OUTDIR/misc/racecheck.txt' 2>&1"
