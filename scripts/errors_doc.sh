#!/usr/bin/env bash
# Rewrites the catalogue part of docs/errors.md from tests/errors/catalogue.toml and what the programs
# print for each case (the "errors: ID" tests fail when the two differ).
#     scripts/errors_doc.sh [build-folder]        # default: build
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cmake --build "$build" --target tilesim tilesim_catalogue >/dev/null
gui=()
if [ -x "$build/tilesim-gui" ] && command -v xvfb-run >/dev/null; then
  gui=(--gui "$PWD/$build/tilesim-gui" --xvfb "$(command -v xvfb-run)")
fi
"$build/tests/tilesim_catalogue" tests/errors/catalogue.toml --write-doc docs/errors.md \
  --tilesim "$PWD/$build/tilesim" --source "$PWD" "${gui[@]}"
