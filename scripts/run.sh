#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: install what is missing, build, and run the default
# scenario (the paper's Figure 2 workload). Extra arguments go to `tilesim run`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target tilesim
./build/tilesim run "$@"
