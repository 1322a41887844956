#!/usr/bin/env bash
# The CUDA emulator's [emu] tests under AddressSanitizer and ThreadSanitizer (scripts/test.sh runs this).
#   bash scripts/test-emu-sanitizers.sh [address|thread ...]   (default: both)
# Builds build-emu-address/ and build-emu-thread/ (Y26_CUDA=OFF, Y26_CUDA_EMU=ON, Y26_SANITIZE=...).
# What runs: every [emu] kernel test, the planted-bug tests ([emu-checks]: the races and the bad store
# exist only in these builds), and the whole engine at 640 through graph replay and kernel-by-kernel
# launches (concurrent branches on several streams). The other engine tests repeat that path at more
# batch sizes and models; the plain build runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
sanitizers=("$@")
[ "${#sanitizers[@]}" -eq 0 ] && sanitizers=(address thread)
for san in "${sanitizers[@]}"; do
  dir="build-emu-$san"
  echo "== [emu] tests under the ${san} sanitizer ($dir)"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DY26_CUDA=OFF -DY26_CUDA_EMU=ON \
    -DY26_SANITIZE="$san" >/dev/null
  cmake --build "$dir" -j "$(nproc)" --target y26_tests
  tests="$dir/tests/y26_tests"
  # Everything but the planted bugs must run clean: any sanitizer report fails the run (TSan exits 66).
  "$tests" "[emu]~[e2e]~[emu-checks],CUDA engine: graph replay*" 
  # The planted bugs: each test asserts its own report; TSan's exit status would count them as failures.
  TSAN_OPTIONS="exitcode=0 ${TSAN_OPTIONS:-}" "$tests" "[emu-checks]"
done
