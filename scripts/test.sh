#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: install what is missing, build everything (the GUI, and
# the CUDA backend when nvcc is present), and run the whole test suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure -j"$(nproc)"
