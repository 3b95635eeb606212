#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: install what is missing, build everything (the GUI, and
# the CUDA backend when nvcc is present), run the whole test suite through ctest; then the whole suite
# again built with ASan and UBSan (preset asan, stopping at the first report), and the fuzz target for
# a bounded time (scripts/fuzz.sh). TILESIM_QUICK=1 skips the last two.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
stage() { echo "== $1 ($(( SECONDS / 60 )) min $(( SECONDS % 60 )) s so far)"; }
stage "build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
stage "tests"
(cd build && ctest --output-on-failure -j"$(nproc)")
if [ -n "${TILESIM_QUICK:-}" ]; then exit 0; fi
stage "ASan + UBSan build"
cmake --preset asan >/dev/null
cmake --build build-asan -j"$(nproc)"
stage "ASan + UBSan tests"
ctest --preset asan -j"$(nproc)"
stage "fuzz"
scripts/fuzz.sh "${TILESIM_FUZZ_SECONDS:-60}"
stage "done"
