#!/usr/bin/env bash
# Installs y26's build and test dependencies from Debian packages (idempotent).
# The CUDA Toolkit is not installed here: when nvcc is present the CUDA backend
# is built too, and with its headers the CUDA emulator; otherwise y26 builds its
# CPU engine alone.
set -euo pipefail
pkgs=(cmake ninja-build g++ pkg-config libstb-dev libjpeg62-turbo-dev catch2 nlohmann-json3-dev python3-numpy
      libboost-context-dev  # Boost.Context: the CUDA emulator's fibers
      libyaml-dev  # a dataset's data.yaml (y26 val)
      # video files, streams and cameras (video/: headers at build time, the libraries loaded at run time)
      libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libavdevice-dev
      ccache  # CI's second build (CPU-only) and rebuilds hit the first one's objects (cmake/y26_ccache.cmake)
      clang libclang-rt-dev)  # libFuzzer and its runtime (scripts/test-fuzz.sh)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v python3 >/dev/null || missing+=(python3)  # the CLI contract test reads JSON with it
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
