#!/usr/bin/env bash
# Bounded fuzzing of every parser (scripts/test.sh runs this; CI fails on any finding):
#   bash scripts/test-fuzz.sh [SECONDS per target, default 30] [target ...]
# Builds build-fuzz/ with clang, libFuzzer, AddressSanitizer and UBSan (-DY26_FUZZ=ON), then runs each target
# (tests/fuzz/fuzz_<target>.cpp: zip pickle checkpoint safetensors jpeg image dataset_yaml) for SECONDS from a scratch copy
# of tests/fuzz/corpus/<target>/ plus tests/fuzz/regressions/<target>/ (the inputs that once found a bug:
# each is a regression test). A crash, a sanitizer report, a leak, an input slower than 10 s or one needing
# more than 2 GiB fails it; the input is kept in build-fuzz/findings/<target>/ (add it to regressions/ with
# the fix). Where no clang with libFuzzer is found, it says so and exits 77.
set -euo pipefail
# (no ASLR: clang 14's AddressSanitizer dies at start-up under recent kernels' randomisation; see the file)
source "$(dirname "$0")/no-aslr.sh"
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ "${#targets[@]}" -eq 0 ] && targets=(zip pickle checkpoint safetensors jpeg image dataset_yaml)
if ! command -v clang++ >/dev/null || ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
     clang++ -x c++ -fsanitize=fuzzer - -o /tmp/y26-libfuzzer-probe 2>/dev/null; then
  echo "no clang++ with libFuzzer here: the fuzz stage cannot run"
  exit 77
fi
rm -f /tmp/y26-libfuzzer-probe
dir=build-fuzz
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DY26_FUZZ=ON -DY26_CUDA=OFF -DY26_CUDA_EMU=OFF \
  -DY26_BUILD_TESTS=ON -DY26_WERROR=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"
# Each target is one process on one core: nproc of them fuzz at a time.
fuzz_one() {  # fuzz_one TARGET: its verdict line in $dir/verdict-TARGET (ok: or FAILED)
  local t=$1 work="$dir/corpus/$1" inputs
  rm -rf "$work" "$dir/findings/$t"
  mkdir -p "$work" "$dir/findings/$t"
  cp tests/fuzz/corpus/"$t"/* "$work/"
  inputs=("$work")
  [ -d "tests/fuzz/regressions/$t" ] && inputs+=("tests/fuzz/regressions/$t")
  if "$dir/tests/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
       -artifact_prefix="$dir/findings/$t/" "${inputs[@]}" >"$dir/fuzz-$t.log" 2>&1; then
    echo "ok: fuzz_$t: $(grep -m1 -oE 'stat::number_of_executed_units: *[0-9]+' "$dir/fuzz-$t.log" | grep -oE '[0-9]+$') runs in ${seconds} s, no finding"
  else
    echo "FAILED: fuzz_$t — $(grep -m1 -E 'ERROR|SUMMARY|crash|leak|timeout|out-of-memory' "$dir/fuzz-$t.log"); input in $dir/findings/$t/"
  fi >"$dir/verdict-$t"
}
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$(nproc)" ]; then wait -n || true; running=$((running - 1)); fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait
failed=()
for t in "${targets[@]}"; do
  if [ -f "$dir/verdict-$t" ]; then sed 's/^ok: //' "$dir/verdict-$t"; else echo "FAILED: fuzz_$t gave no verdict"; fi
  grep -q "^ok: " "$dir/verdict-$t" 2>/dev/null || failed+=("$t")
done
rm -f "$dir"/verdict-*
[ "${#failed[@]}" -eq 0 ] || { echo "fuzzing found bugs in: ${failed[*]} (logs: $dir/fuzz-<target>.log)"; exit 1; }
