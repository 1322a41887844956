#!/usr/bin/env bash
# bench/gpu-check.sh OUTDIR — the one command for a GPU machine without network.
#
# Builds y26 Release for the GPU present (or reuses build-gpu/ made beforehand for sm_90 and carried),
# runs every [cuda] test, compute-sanitizer memcheck and racecheck on a small `y26 detect --device cuda`,
# y26's benchmarks and the PyTorch/Ultralytics baseline, and writes OUTDIR/gpu-report.md and
# OUTDIR/gpu-report.json (GPU, driver, commit and every figure; null for what could not be measured,
# with the reason in the Markdown). Budget: well inside 8 minutes on an H100/H200.
#
# Usage from a development machine (see docs/gpu-check.md):
#   bash bench/gpu-check.sh "$OUT"      with Y26_COMMIT set to the commit under test
# The Ultralytics wheel, which the GPU image lacks, is installed from .carry/wheels/ when present.
set -uo pipefail
FINAL="${1:?usage: bench/gpu-check.sh OUTDIR}"
mkdir -p "$FINAL"
FINAL=$(cd "$FINAL" && pwd)
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# Intermediate files go to a work folder; OUTDIR gets four: the report (md, json), the log and
# raw.tar.gz with everything measured (the device tool brings back at most eight files).
OUT=$(mktemp -d)
LOG="$FINAL/gpu-check.log"
exec > >(tee -a "$LOG") 2>&1
MODEL="$ROOT/weights/fixtures/yolo26n-rand.pt"
SCENE="$ROOT/weights/fixtures/scene-640x456.png"
step() { echo; echo "=== $* ($(date +%T))"; }

step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
nvcc --version | tail -1
echo "${Y26_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}" > "$OUT/commit.txt"

step "build"
BUILD="$ROOT/build-gpu"
if [ -x "$BUILD/y26" ] && [ -x "$BUILD/tests/y26_tests" ]; then
  echo "reusing the carried build in build-gpu/"
else
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DY26_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=native \
    -DY26_WERROR=OFF >/dev/null && cmake --build "$BUILD" -j "$(nproc)" || echo "BUILD FAILED" | tee "$OUT/build-failed.txt"
fi
Y26="$BUILD/y26"

# The report is rebuilt after every step, so a run cut short by a time limit still leaves one.
report() {
  python3 bench/gpu_report.py "$OUT" >/dev/null 2>"$OUT/report.err" || tail -3 "$OUT/report.err"
  cp "$OUT/gpu-report.md" "$OUT/gpu-report.json" "$FINAL/" 2>/dev/null
  tar -czf "$FINAL/raw.tar.gz" -C "$OUT" . 2>/dev/null
}
# Y26_CHECK_STEPS picks steps for a quick rerun after a fix, e.g. "tests" or "tests,bench" (default: all of
# tests, bench, torch, tests-pdl, sanitizer, sanitizer-tests, in that order: the figures the issue asks for
# first, so a run stopped by its time limit has them).
STEPS=",${Y26_CHECK_STEPS:-tests,bench,torch,tests-pdl,sanitizer,sanitizer-tests},"
want() { [[ "$STEPS" == *",$1,"* ]]; }
START=$SECONDS
BUDGET=${Y26_CHECK_BUDGET_S:-420}  # optional steps are skipped past this many seconds
left() { echo $((BUDGET - (SECONDS - START))); }

step "[cuda] tests, each test case in its own process (a crash or a hang cannot hide the others)"
if want tests && [ -x "$BUILD/tests/y26_tests" ]; then
  Y26_SOURCE_DIR="$ROOT" "$BUILD/tests/y26_tests" "[cuda]" --list-test-names-only 2>/dev/null | grep -v '^$' >"$OUT/cuda-test-names.txt"
  i=0
  echo "[" >"$OUT/cuda-tests.json"
  while IFS= read -r name; do
    i=$((i + 1))
    t0=$SECONDS
    spec=${name//\\/\\\\}; spec=${spec//,/\\,}  # Catch2 test specs: a comma separates names
    Y26_SOURCE_DIR="$ROOT" timeout 180 "$BUILD/tests/y26_tests" "$spec" --durations no >"$OUT/cuda-test-$i.txt" 2>&1
    rc=$?
    status=passed
    if grep -q "test skipped" "$OUT/cuda-test-$i.txt"; then status=skipped
    elif grep -q "No test cases matched" "$OUT/cuda-test-$i.txt"; then status=not-found
    elif [ $rc -eq 124 ]; then status=timeout
    elif [ $rc -gt 128 ]; then status=crashed
    elif [ $rc -ne 0 ]; then status=failed
    fi
    echo "  $status ($((SECONDS - t0)) s): $name"
    [ $i -gt 1 ] && echo "," >>"$OUT/cuda-tests.json"
    python3 -c 'import json,sys; print(json.dumps({"name": sys.argv[1], "status": sys.argv[2], "seconds": int(sys.argv[3]), "log": sys.argv[4]}))' \
      "$name" "$status" "$((SECONDS - t0))" "cuda-test-$i.txt" >>"$OUT/cuda-tests.json"
  done <"$OUT/cuda-test-names.txt"
  echo "]" >>"$OUT/cuda-tests.json"
fi
report

step "y26 benchmarks"
want bench && {
"$Y26" plan -w "$MODEL" --batch 1 --json "$OUT/y26-plan-b1.json" >/dev/null
for b in 1 64; do
  "$Y26" bench -w "$MODEL" --device cuda --precision fp16 --batch "$b" --iters 200 --warmup 20 --ops \
    --json "$OUT/y26-bench-b$b.json" 2>"$OUT/y26-bench-b$b.err" || echo "y26 bench batch $b: $(head -1 "$OUT/y26-bench-b$b.err")"
  # the same network with every convolution through cuDNN (the rest identical): our kernels vs the vendor's
  "$Y26" bench -w "$MODEL" --device cuda --kernels cudnn --batch "$b" --iters 200 --warmup 20 --ops \
    --json "$OUT/y26-cudnn-b$b.json" 2>"$OUT/y26-cudnn-b$b.err" || echo "cudnn bench batch $b: $(head -1 "$OUT/y26-cudnn-b$b.err")"
done
# two engines sharing the weights, on two host threads: one's copies and transfers overlap the other's kernels
"$Y26" bench -w "$MODEL" --device cuda --batch 64 --iters 100 --warmup 10 --engines 2 --json "$OUT/y26-bench-b64-e2.json" \
  2>"$OUT/y26-bench-b64-e2.err" || echo "y26 bench batch 64, 2 engines: $(head -1 "$OUT/y26-bench-b64-e2.err")"
"$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cuda --json "$OUT/y26-detect-cuda.json" >/dev/null 2>&1 || true
# The same detection with the kernels launched one by one on the streams (no CUDA graph): the concurrent
# branches then interleave differently, and the results must not change by a bit.
Y26_CUDA_GRAPHS=0 "$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cuda --json "$OUT/y26-detect-cuda-nograph.json" \
  >/dev/null 2>&1 || true
"$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cpu --precision fp32 --json "$OUT/y26-detect-cpu.json" >/dev/null 2>&1 || true
# programmatic dependent launch (opt-in until measured): batch-1 latency with it, and the same detections
Y26_PDL=1 "$Y26" bench -w "$MODEL" --device cuda --batch 1 --iters 200 --warmup 20 --json "$OUT/y26-bench-b1-pdl.json" \
  2>"$OUT/y26-bench-b1-pdl.err" || echo "y26 bench batch 1 with PDL: $(head -1 "$OUT/y26-bench-b1-pdl.err")"
Y26_PDL=1 "$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cuda --json "$OUT/y26-detect-cuda-pdl.json" >/dev/null 2>&1 || true
report
}

step "PyTorch / Ultralytics baseline"
PYDEPS="$ROOT/.carry/pydeps"
want torch && {
if [ -d "$ROOT/.carry/wheels" ] && ! python3 -c "import ultralytics" 2>/dev/null; then
  python3 -m pip install --quiet --no-index --no-deps --target "$PYDEPS" "$ROOT"/.carry/wheels/*.whl
fi
PYTHONPATH="$PYDEPS${PYTHONPATH:+:$PYTHONPATH}" YOLO_OFFLINE=1 timeout "$(( $(left) > 60 ? 240 : 60 ))" python3 bench/torch_baseline.py \
  --model "$MODEL" --json "$OUT/torch-baseline.json" || echo "torch baseline failed"
report
}

step "[cuda] tests again with programmatic dependent launch (Y26_PDL=1)"
if want tests-pdl && [ -x "$BUILD/tests/y26_tests" ]; then
  Y26_PDL=1 Y26_SOURCE_DIR="$ROOT" timeout 240 "$BUILD/tests/y26_tests" "[cuda]" --durations no >"$OUT/cuda-tests-pdl.txt" 2>&1
  echo "exit code $?" >>"$OUT/cuda-tests-pdl.txt"
  tail -3 "$OUT/cuda-tests-pdl.txt"
  report
fi

step "compute-sanitizer on y26 detect (whole pipeline, batch 1: concurrent branches, split-K)"
CUDA_OK=0
"$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cuda --imgsz 320 >/dev/null 2>"$OUT/cuda-probe.txt" && CUDA_OK=1
for tool in memcheck racecheck; do
  want sanitizer || break
  if [ $CUDA_OK -eq 1 ]; then
    limit=$(( $(left) / 2 > 120 ? 120 : ($(left) / 2 > 30 ? $(left) / 2 : 30) ))
    timeout "$limit" compute-sanitizer --tool "$tool" --error-exitcode 0 "$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw \
      --device cuda --imgsz 320 >"$OUT/sanitizer-$tool.txt" 2>&1 || echo "(exit code $? within $limit s)" >>"$OUT/sanitizer-$tool.txt"
    tail -2 "$OUT/sanitizer-$tool.txt"
  else
    echo "skipped: $(head -1 "$OUT/cuda-probe.txt")" | tee "$OUT/sanitizer-$tool.txt"
  fi
done
report

step "compute-sanitizer on the kernel tests (odd shapes, every tile, split-K, both attention kernels, top-k, NMS)"
for tool in memcheck racecheck; do
  want sanitizer-tests || break
  if [ $CUDA_OK -ne 1 ]; then echo "skipped: $(head -1 "$OUT/cuda-probe.txt")" | tee "$OUT/sanitizer-tests-$tool.txt"; continue; fi
  if [ "$(left)" -lt 40 ]; then echo "skipped: out of time" | tee "$OUT/sanitizer-tests-$tool.txt"; continue; fi
  limit=$(( $(left) / 2 > 150 ? 150 : $(left) / 2 ))
  Y26_SOURCE_DIR="$ROOT" timeout "$limit" compute-sanitizer --tool "$tool" --error-exitcode 0 "$BUILD/tests/y26_tests" \
    "[cuda]~[e2e]" >"$OUT/sanitizer-tests-$tool.txt" 2>&1
  rc=$?
  [ $rc -eq 124 ] && echo "(stopped after $limit s)" >>"$OUT/sanitizer-tests-$tool.txt"
  [ $rc -ne 0 ] && [ $rc -ne 124 ] && echo "(exit code $rc)" >>"$OUT/sanitizer-tests-$tool.txt"
  tail -2 "$OUT/sanitizer-tests-$tool.txt"
done

step "report"
report
cat "$FINAL/gpu-report.md"
