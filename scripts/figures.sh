#!/usr/bin/env bash
# Regenerates the figures in docs/images/ made by `tilesim plot` (used by docs/exports.md), so the
# pictures in the documentation always show what the current code draws. Builds tilesim when it is
# missing or out of date. With chromium installed (not a dependency), also screenshots each SVG into
# $CHECK (default: not written) for a look at how a browser renders it.
#
#   ./scripts/figures.sh                 # build dir: build/
#   BUILD=build-rel CHECK=/tmp/shots ./scripts/figures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=docs/images
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" --target tilesim >/dev/null
mkdir -p "$OUT"

# name | arguments
figures=(
  "plot-io-vs-n|io-vs-n"
  "plot-io-vs-sram|io-vs-sram"
  "plot-roofline|roofline gpt2-medium-train"
  "plot-timeline|timeline classroom"
)
for f in "${figures[@]}"; do
  name=${f%%|*}
  args=${f#*|}
  # shellcheck disable=SC2086  # the arguments are meant to split
  "$BUILD/tilesim" plot $args -o "$OUT/$name.svg"
  printf '%-22s %7s bytes  tilesim plot %s\n' "$name.svg" "$(stat -c %s "$OUT/$name.svg")" "$args"
  if [ -n "${CHECK:-}" ] && command -v chromium >/dev/null; then
    mkdir -p "$CHECK"
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,720 \
      --screenshot="$CHECK/$name.png" "file://$PWD/$OUT/$name.svg" >/dev/null 2>&1
  fi
done
