#!/usr/bin/env bash
# One command from a fresh Debian machine to a tested y26: installs dependencies,
# builds (with the CUDA backend when nvcc is found) and runs the whole test suite.
#   bash scripts/test.sh            build in build/, run ctest
#   Y26_CUDA=OFF bash scripts/test.sh   CPU-only build in build-cpu/
set -euo pipefail
cd "$(dirname "$0")/.."
# Each stage's end and the seconds since the start, so a CI log shows where its 30 minutes went.
stage() { echo "== [test.sh ${Y26_CUDA:-AUTO}] $1 done at $SECONDS s"; }
bash scripts/install-deps.sh
stage "dependencies"
# The CUDA toolkit lives outside PATH on some machines.
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi

cuda="${Y26_CUDA:-AUTO}"
build="build"
[ "$cuda" = "OFF" ] && build="build-cpu"
# The CPU-only configuration has no CUDA of any kind: no GPU backend and no emulator.
emu="${Y26_CUDA_EMU:-AUTO}"
[ "$cuda" = "OFF" ] && emu="${Y26_CUDA_EMU:-OFF}"
# CI builds one GPU architecture (sm_90, the H100/H200 the GPU checks run on) to stay fast;
# release builds default to 75;80;86;89;90 (see cmake/y26_cuda.cmake).
archs="${Y26_CUDA_ARCHS:-90}"  # 90: sm_90 machine code and compute_90 PTX
# Portable (static libjpeg-turbo and Boost.Context; the CUDA runtime is static always): the build is one
# bench/gpu-bundle.sh can carry to a GPU image, and the gpu.bundle and gpu.rehearsal tests check that it is.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DY26_CUDA="$cuda" -DY26_CUDA_EMU="$emu" -DCMAKE_CUDA_ARCHITECTURES="$archs" \
  -DY26_PTXAS_VERBOSE=ON -DY26_PORTABLE=ON
set -o pipefail
cmake --build "$build" -j "$(nproc)" 2>&1 | tee "$build/build.log"
# No kernel may spill registers to local memory (ptxas reports every kernel it compiles).
if grep -E "[1-9][0-9]* bytes spill (stores|loads)" "$build/build.log"; then
  echo "error: a CUDA kernel spills registers (see above)"
  exit 1
fi
stage "build ($build)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
stage "ctest ($build)"

# The tests once more under the sanitizers (scripts/test-sanitizers.sh): AddressSanitizer with UBSan over
# the CPU suite and the emulator's tests, ThreadSanitizer over the concurrent ones. Once per CI run: the
# CPU-only configuration skips it. Y26_SANITIZERS=0 skips it (quicker local runs).
if [ "${Y26_SANITIZERS:-1}" != "0" ] && [ "$cuda" != "OFF" ]; then
  bash scripts/test-sanitizers.sh
  stage "sanitizers"
fi
# Bounded fuzzing of every parser from its corpus (scripts/test-fuzz.sh; Y26_FUZZ_SECONDS per target, 20 s,
# Y26_FUZZ=0 skips), once per CI run like the sanitizers.
if [ "${Y26_FUZZ:-1}" != "0" ] && [ "$cuda" != "OFF" ]; then
  bash scripts/test-fuzz.sh "${Y26_FUZZ_SECONDS:-20}"
  stage "fuzzing"
fi
