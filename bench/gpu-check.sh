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

step "[cuda] tests"
if [ -x "$BUILD/tests/y26_tests" ]; then
  Y26_SOURCE_DIR="$ROOT" "$BUILD/tests/y26_tests" "[cuda]" --durations no 2>&1 | tee "$OUT/cuda-tests.txt" | tail -5
fi

step "compute-sanitizer"
for tool in memcheck racecheck; do
  if "$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cuda --imgsz 320 >/dev/null 2>"$OUT/cuda-probe.txt"; then
    compute-sanitizer --tool "$tool" --error-exitcode 0 "$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cuda \
      --imgsz 320 >"$OUT/sanitizer-$tool.txt" 2>&1
    tail -2 "$OUT/sanitizer-$tool.txt"
  else
    echo "skipped: $(head -1 "$OUT/cuda-probe.txt")" | tee "$OUT/sanitizer-$tool.txt"
  fi
done

step "y26 benchmarks"
"$Y26" plan -w "$MODEL" --batch 1 --json "$OUT/y26-plan-b1.json" >/dev/null
for b in 1 64; do
  "$Y26" bench -w "$MODEL" --device cuda --precision fp16 --batch "$b" --iters 200 --warmup 20 --ops \
    --json "$OUT/y26-bench-b$b.json" 2>"$OUT/y26-bench-b$b.err" || echo "y26 bench batch $b: $(head -1 "$OUT/y26-bench-b$b.err")"
  # the same network with every convolution through cuDNN (the rest identical): our kernels vs the vendor's
  "$Y26" bench -w "$MODEL" --device cuda --kernels cudnn --batch "$b" --iters 200 --warmup 20 --ops \
    --json "$OUT/y26-cudnn-b$b.json" 2>"$OUT/y26-cudnn-b$b.err" || echo "cudnn bench batch $b: $(head -1 "$OUT/y26-cudnn-b$b.err")"
done
"$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cuda --json "$OUT/y26-detect-cuda.json" >/dev/null 2>&1 || true
# The same detection with the kernels launched one by one on the streams (no CUDA graph): the concurrent
# branches then interleave differently, and the results must not change by a bit.
Y26_CUDA_GRAPHS=0 "$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cuda --json "$OUT/y26-detect-cuda-nograph.json" \
  >/dev/null 2>&1 || true
"$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cpu --precision fp32 --json "$OUT/y26-detect-cpu.json" >/dev/null 2>&1 || true

step "PyTorch / Ultralytics baseline"
PYDEPS="$ROOT/.carry/pydeps"
if [ -d "$ROOT/.carry/wheels" ] && ! python3 -c "import ultralytics" 2>/dev/null; then
  python3 -m pip install --quiet --no-index --no-deps --target "$PYDEPS" "$ROOT"/.carry/wheels/*.whl
fi
PYTHONPATH="$PYDEPS${PYTHONPATH:+:$PYTHONPATH}" YOLO_OFFLINE=1 timeout 300 python3 bench/torch_baseline.py \
  --model "$MODEL" --json "$OUT/torch-baseline.json" || echo "torch baseline failed"

step "report"
python3 bench/gpu_report.py "$OUT"
cp "$OUT/gpu-report.md" "$OUT/gpu-report.json" "$FINAL/"
tar -czf "$FINAL/raw.tar.gz" -C "$OUT" .
