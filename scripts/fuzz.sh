#!/usr/bin/env bash
# Builds the fuzz target (clang's libFuzzer with ASan + UBSan, preset "fuzz") and runs it for a bounded
# time from the seed corpus (fuzz/corpus). The inputs the fuzzer once crashed on (fuzz/regressions)
# must run clean first. A crash, a sanitizer report, a timeout or an out-of-memory stops it with the
# input saved in build-fuzz/artifacts/ and a non-zero exit: add that input to fuzz/regressions/ with
# the fix.
#     scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]      # default 60 s
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
TILESIM_FUZZ_DEPS=1 source scripts/deps.sh
cmake --preset fuzz >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target tilesim_fuzz
mkdir -p build-fuzz/corpus build-fuzz/artifacts
fuzz=build-fuzz/tilesim_fuzz
flags=(-max_len=4096 -timeout=10 -rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/)
"$fuzz" "${flags[@]}" -runs=0 fuzz/regressions 2>&1 | tail -1
# The seed files refer to each other by paths from the source folder (mask = "file:fuzz/corpus/...").
"$fuzz" "${flags[@]}" -max_total_time="$secs" -print_final_stats=1 "$@" build-fuzz/corpus fuzz/corpus \
  2> >(grep -v -E -e '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)' -e '^[[:space:]]+NEW_FUNC' >&2)
echo "fuzz: ${secs} s clean; corpus $(ls build-fuzz/corpus | wc -l) inputs in build-fuzz/corpus"
