#!/usr/bin/env bash
# bench/gpu-bundle.sh [CARRY] — run on a development machine before a GPU visit. Writes CARRY (default
# .carry/, git-ignored), everything bench/gpu-check.sh needs on a GPU image that has no Debian packages and
# no network, at most 60 MiB:
#   CARRY/bin/y26, CARRY/bin/y26_tests  Release, sm_90 machine code + compute_90 PTX (newer GPUs JIT it), the
#                                       CUDA runtime and libjpeg-turbo linked statically: at run time they
#                                       need glibc, libstdc++, libgcc and the driver's libcuda.so.1, no more
#                                       (cuDNN, for the --kernels cudnn baseline only, is dlopen'ed there)
#   CARRY/deps/                         to rebuild from source there if the carried binaries cannot run:
#                                       stb, nlohmann-json, Catch2 (headers, Catch's CMake), libjpeg-turbo's
#                                       and libyaml's headers and static libraries, cuDNN's headers
#                                       (cmake -DY26_DEPS_DIR=)
#   CARRY/wheels/                       the pinned Ultralytics wheels for the PyTorch baseline (when PyPI
#                                       answers; without them that baseline's figures are null)
#   CARRY/MANIFEST                      commit, build settings, sizes, each binary's needed libraries
# It fails, saying why, when a binary needs a shared library outside that list or CARRY exceeds 60 MiB.
#
# Y26_BUNDLE_BUILD=DIR takes the binaries from a build made beforehand with the bundle's settings
# (scripts/test.sh's build/ is one: -DY26_PORTABLE=ON, sm_90); otherwise it configures and builds
# build-bundle/ (nvcc: several minutes on 2 cores). Y26_BUNDLE_WHEELS=0 skips the wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CARRY=${1:-.carry}
LIMIT_BYTES=$((60 * 1024 * 1024))
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi

BUILD=${Y26_BUNDLE_BUILD:-build-bundle}
if [ -z "${Y26_BUNDLE_BUILD:-}" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DY26_CUDA=ON -DY26_CUDA_EMU=OFF -DY26_PORTABLE=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 >/dev/null
  cmake --build "$BUILD" -j "$(nproc)" --target y26_cli y26_tests
fi
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
[ "$(cache Y26_PORTABLE)" = "ON" ] || { echo "gpu-bundle: $BUILD is not a portable build (-DY26_PORTABLE=ON)" >&2; exit 1; }
[ "$(cache CMAKE_BUILD_TYPE)" = "Release" ] || { echo "gpu-bundle: $BUILD is not a Release build" >&2; exit 1; }
archs=$(cache CMAKE_CUDA_ARCHITECTURES)
# "90" is sm_90 machine code and compute_90 PTX both; "90-real" would drop the PTX newer GPUs need
[[ ";$archs;" == *";90;"* ]] || { echo "gpu-bundle: $BUILD is built for CUDA architectures '$archs', not 90 (SASS + PTX)" >&2; exit 1; }

rm -rf "$CARRY"
mkdir -p "$CARRY/bin" "$CARRY/deps/include" "$CARRY/deps/lib" "$CARRY/deps/cmake"
cp "$BUILD/y26" "$CARRY/bin/y26"
cp "$BUILD/tests/y26_tests" "$CARRY/bin/y26_tests"
strip --strip-debug "$CARRY/bin/y26" "$CARRY/bin/y26_tests"

# The dependency folder, from the system packages this machine builds with (scripts/install-deps.sh)
INC=/usr/include
mkdir -p "$CARRY/deps/include/stb"
cp "$INC/stb/stb_image.h" "$INC/stb/stb_image_write.h" "$CARRY/deps/include/stb/"
cp -r "$INC/nlohmann" "$CARRY/deps/include/"
mkdir -p "$CARRY/deps/include/catch2" && cp "$INC/catch2/catch.hpp" "$CARRY/deps/include/catch2/"
for h in jpeglib.h jmorecfg.h jerror.h; do cp "$INC/$h" "$CARRY/deps/include/"; done
cp "$INC/$(gcc -print-multiarch)/jconfig.h" "$CARRY/deps/include/"
cp "/usr/lib/$(gcc -print-multiarch)/libjpeg.a" "$CARRY/deps/lib/"
cp "$INC/yaml.h" "$CARRY/deps/include/" && cp "/usr/lib/$(gcc -print-multiarch)/libyaml.a" "$CARRY/deps/lib/"
cp /usr/lib/cmake/Catch2/Catch.cmake /usr/lib/cmake/Catch2/CatchAddTests.cmake "$CARRY/deps/cmake/"
cudnn_h=$(cache Y26_CUDNN_INCLUDE_DIR)
if [ -n "$cudnn_h" ] && [ -f "$cudnn_h/cudnn.h" ]; then cp "$cudnn_h"/cudnn*.h "$CARRY/deps/include/"; fi

# The Ultralytics wheels the PyTorch baseline imports (the GPU image has torch, numpy, OpenCV and the rest)
if [ "${Y26_BUNDLE_WHEELS:-1}" != "0" ]; then
  pins=$(grep -E '^ultralytics(-thop|-platform)?==' weights/requirements-goldens.txt || true)
  if [ -n "$pins" ] && timeout 120 python3 -m pip download --quiet --no-deps -d "$CARRY/wheels" $pins 2>"$CARRY/wheels.err"; then
    rm -f "$CARRY/wheels.err"
  else
    echo "gpu-bundle: no Ultralytics wheels (pip download failed: $(tail -1 "$CARRY/wheels.err" 2>/dev/null)); the PyTorch baseline will be null"
    rm -rf "$CARRY/wheels"
  fi
fi

# What the carried binaries may need at run time: glibc's libraries, libstdc++ and libgcc. The driver's
# libcuda.so.1 is dlopen'ed by the static CUDA runtime, cuDNN by y26 (kernels/cuda/cudnn_library.cpp).
ALLOWED=" libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 ld-linux-x86-64.so.2 libstdc++.so.6 libgcc_s.so.1 "
status=0
{
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "made: $(date -u +%FT%TZ) on $(. /etc/os-release && echo "$PRETTY_NAME"), $(nvcc --version | tail -1)"
  echo "build: $BUILD (Release, CUDA architectures $archs, Y26_PORTABLE=ON)"
} >"$CARRY/MANIFEST"
for bin in "$CARRY/bin/y26" "$CARRY/bin/y26_tests"; do
  needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  echo "$(basename "$bin"): needs $needed" >>"$CARRY/MANIFEST"
  for lib in $needed; do
    if [[ "$ALLOWED" != *" $lib "* ]]; then
      echo "gpu-bundle: $bin needs $lib, which a bare GPU image does not have" >&2
      status=1
    fi
  done
  if readelf -d "$bin" | grep -qE "\((RPATH|RUNPATH)\)"; then
    echo "gpu-bundle: $bin carries an RPATH/RUNPATH into this machine's folders" >&2
    status=1
  fi
done
bytes=$(du -sb "$CARRY" | cut -f1)
echo "size: $bytes bytes ($((bytes / 1024 / 1024)) MiB of at most 60)" >>"$CARRY/MANIFEST"
if [ "$bytes" -gt "$LIMIT_BYTES" ]; then
  echo "gpu-bundle: $CARRY is $bytes bytes, over the 60 MiB a GPU visit can bring" >&2
  status=1
fi
cat "$CARRY/MANIFEST"
exit $status
