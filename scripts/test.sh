#!/usr/bin/env bash
# One command from a fresh Debian machine to a tested y26: installs dependencies,
# builds (with the CUDA backend when nvcc is found) and runs the whole test suite.
#   bash scripts/test.sh            build in build/, run ctest
#   Y26_CUDA=OFF bash scripts/test.sh   CPU-only build in build-cpu/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
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
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"

# The CUDA emulator's tests once more under each sanitizer, in CPU-only builds of the emulated backend:
# AddressSanitizer (bounds of every device allocation), ThreadSanitizer (races between emulated threads,
# blocks and streams). Where the main build has no emulator (no CUDA Toolkit headers), there is nothing
# to run. Y26_EMU_SANITIZERS=0 skips this (quicker local runs).
# (Catch2's listing exits with the number of tests it lists; no pipe: grep -q would cut it short)
"$build/tests/y26_tests" --list-test-names-only "[emu]" >"$build/emu-tests.txt" || true
if [ "${Y26_EMU_SANITIZERS:-1}" != "0" ] && grep -q "emu" "$build/emu-tests.txt"; then
  bash scripts/test-emu-sanitizers.sh
fi
