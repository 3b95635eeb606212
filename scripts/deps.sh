#!/usr/bin/env bash
# Installs the Debian packages tilesim builds with, when any is missing (Debian 12).
# Sourced by run.sh and test.sh; safe to run twice (it installs nothing when all are present).
set -euo pipefail
TILESIM_PACKAGES=(build-essential cmake pkg-config libeigen3-dev catch2 libfmt-dev libimgui-dev libglfw3-dev
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libstb-dev xvfb xauth fonts-dejavu-core pybind11-dev
  python3-dev)
# The fuzz build only (scripts/fuzz.sh sets TILESIM_FUZZ_DEPS=1): clang and its libFuzzer runtime.
if [ -n "${TILESIM_FUZZ_DEPS:-}" ]; then
  TILESIM_PACKAGES+=(clang libclang-rt-14-dev)
fi
missing=()
for p in "${TILESIM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "tilesim: installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# nvcc is optional (the CUDA backend is built when it is found); the toolkit puts it outside PATH.
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
