# Sourced by the H200 scripts (bwd_run.sh, fp8_run.sh, hopper_run.sh, sync_run.sh, ring_run.sh) with
# the name of their output folder: binaries in .device/pipes (as scripts/cuda/pipes.sh), output in
# $OUT/NAME, the GPU's name, driver and clocks in env.txt, and `st NAME LIMIT CMD...`, which runs CMD
# under a time limit and says its exit status and seconds on stderr.
set -u
D=.device/pipes; O=$OUT/$1
mkdir -p "$O"
export LD_LIBRARY_PATH=$D/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
st() { local name=$1 lim=$2; shift 2; local t0=$(date +%s); timeout "$lim" "$@"; echo "$name: exit $? ($(( $(date +%s) - t0 )) s)" >&2; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw --format=csv; date -u; } > "$O/env.txt" 2>&1
