#!/usr/bin/env bash
# The test suite under the sanitizers (scripts/test.sh runs this), each build on its own:
#   bash scripts/test-sanitizers.sh [address|thread ...]   (default: both)
#
# address: AddressSanitizer + UndefinedBehaviorSanitizer (-fno-sanitize-recover: the first report fails the
#   run) over the CPU engine and every CPU test, and the CUDA emulator's [emu] tests where it is built
#   (bounds of every emulated device allocation). build-san-address/.
# thread: ThreadSanitizer over what runs concurrently: the [concurrency] tests (the thread pool's kernels,
#   engines sharing one copy of the weights on several threads, detect's decode and write workers) and the
#   emulator's [emu] tests (races between emulated threads, blocks and streams). build-san-thread/.
# Both run the emulator's planted bugs ([emu-checks]), which assert their own reports.
# Builds are RelWithDebInfo with Y26_CUDA=OFF (nvcc cannot build sanitized host code); the emulator is in
# them when the CUDA Toolkit headers are there.
set -euo pipefail
# (no ASLR: the sanitizer runtimes of GCC 12 die at start-up under recent kernels' randomisation; see the file)
source "$(dirname "$0")/no-aslr.sh"
cd "$(dirname "$0")/.."
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
sanitizers=("$@")
[ "${#sanitizers[@]}" -eq 0 ] && sanitizers=(address thread)
for san in "${sanitizers[@]}"; do
  dir="build-san-$san"
  flags=$san
  [ "$san" = address ] && flags="address,undefined"
  echo "== the tests under -fsanitize=$flags ($dir)"
  # -O1 (with Y26_SANITIZE's -g1, CMakeLists.txt), not RelWithDebInfo's -O2 -g: UBSan's checks at -O2
  # made the build 3x slower (loader/safetensors.cpp: 103 s -> 33 s under address,undefined), and this
  # build was the longest stage of CI. -O1 is what the sanitizers' own documentation suggests.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DY26_CUDA=OFF -DY26_CUDA_EMU=AUTO \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" \
    -DY26_SANITIZE="$flags" >/dev/null
  cmake --build "$dir" -j "$(nproc)" --target y26_tests y26_cli
  tests="$dir/tests/y26_tests"
  export Y26_SOURCE_DIR="$PWD"
  # (Catch2's listing exits with the number of tests it lists)
  "$tests" --list-test-names-only "[emu]" >"$dir/emu-tests.txt" || true
  has_emu=0
  grep -q "emu" "$dir/emu-tests.txt" && has_emu=1
  # Everything but the planted bugs must run clean: any sanitizer report fails its case (TSan exits 66).
  # The cases run a process each, nproc at a time (scripts/catch-parallel.sh: Catch2 2.13 runs one case
  # after another on one core), beside the CLI's own run.
  emu_spec="[emu]~[e2e]~[emu-checks],CUDA engine: graph replay*"
  side=$(mktemp)
  if [ "$san" = address ]; then
    # [heavy]: more of what a lighter case already ran through the same code (another head, FP16, the
    # trained model's 48 detections), left to the main build's ctest to keep CI within its 30 minutes
    spec="~[emu]~[cuda]~[heavy]"
    Y26_CLI_SANITIZED=1 bash tests/test_cli.sh "$dir/y26" weights/fixtures >"$side" 2>&1 &
  else
    spec="[concurrency]"
    # detect's decode and write workers (apps/cmd_detect.cpp): the fixtures' images, two a batch, annotated
    (out=$(mktemp -d)
     "$dir/y26" detect -w weights/fixtures/yolo26n-rand.pt -i weights/fixtures -o "$out" --batch 2 --imgsz 160 \
       --device cpu --json "$out/detections.json" >/dev/null &&
     echo "y26 detect's workers: $(ls "$out" | wc -l) files written, no report"; rc=$?
     rm -rf "$out"; exit $rc) >"$side" 2>&1 &
  fi
  side_pid=$!
  [ $has_emu = 1 ] && spec="$spec,$emu_spec"
  cases_ok=1
  bash scripts/catch-parallel.sh "$tests" "$spec" || cases_ok=0
  side_ok=1
  wait $side_pid || side_ok=0
  if [ $side_ok = 1 ]; then tail -1 "$side"; else cat "$side"; echo "FAILED under $flags: the run beside the test cases (above)"; fi
  rm -f "$side"
  [ $cases_ok = 1 ] && [ $side_ok = 1 ] || exit 1
  if [ $has_emu = 1 ]; then
    # The planted bugs: each test asserts its own report; TSan's exit status would count them as failures.
    # A process each, nproc at a time, as the cases above (one after another they took 2 of TSan's 7 minutes).
    TSAN_OPTIONS="exitcode=0 ${TSAN_OPTIONS:-}" bash scripts/catch-parallel.sh "$tests" "[emu-checks]"
  fi
done
