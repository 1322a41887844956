#!/usr/bin/env bash
# bench/gpu-check.sh OUTDIR — the one command for a GPU machine without network (docs/gpu-check.md).
#
# Uses the build carried in .carry/ (bench/gpu-bundle.sh) when its binaries run here, else rebuilds from
# source with the carried dependency folder (-DY26_DEPS_DIR=.carry/deps), and says which. Then: every [cuda]
# test, y26's benchmarks (batch 1 and 64, per op), the cuDNN baselines (best fused layer; convolution
# alone), the GPU's own limits (bench/gpu_probe.py) and the roofline over them, the peers (PyTorch eager
# FP32/FP16, torch.compile max-autotune FP16 with CUDA graphs), the article's memory table measured here,
# the [cuda] tests with PDL, and compute-sanitizer as far as the time allows. Writes OUTDIR/gpu-report.md and
# OUTDIR/gpu-report.json (every key always there: null with the reason where nothing could be measured),
# OUTDIR/gpu-check.log and OUTDIR/raw.tar.gz. Budget (Y26_CHECK_BUDGET_S): 330 s of steps after the build;
# Y26_CHECK_QUICK=1: the [cuda] tests, y26 at batch 1 and 64 and the peers, within 2 minutes.
#
#   Y26_COMMIT=<sha> bash bench/gpu-check.sh "$OUT"
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
MODEL="$ROOT/weights/fixtures/yolo26n-rand.pt"  # yolo26n: the model the peers and the article measured
SCENE="$ROOT/weights/fixtures/scene-640x456.png"
step() { echo; echo "=== $* ($(date +%T))"; }

step "machine"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
else
  echo "no nvidia-smi on this machine" | tee "$OUT/no-gpu.txt"
fi
command -v nvcc >/dev/null && nvcc --version | tail -1
echo "${Y26_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}" > "$OUT/commit.txt"

step "build"
# The carried build when its binaries start here; else a rebuild from source, from the carried
# dependency folder when there is one (a GPU image has no Debian packages), for this GPU.
CARRY="${Y26_CARRY:-$ROOT/.carry}"  # bench/gpu-bundle.sh's output
BUILD="${Y26_CHECK_BUILD:-$ROOT/build-gpu}"
if [ -z "${Y26_CHECK_REBUILD:-}" ] && [ -x "$CARRY/bin/y26" ] && "$CARRY/bin/y26" --version >"$OUT/carried.txt" 2>&1 &&
   "$CARRY/bin/y26_tests" --list-test-names-only "[no-such-tag]" >/dev/null 2>>"$OUT/carried.txt"; then
  Y26="$CARRY/bin/y26"; TESTS="$CARRY/bin/y26_tests"
  echo "carried build: .carry/bin ($(grep -E '^(commit|build):' "$CARRY/MANIFEST" 2>/dev/null | tr '\n' ' '))" | tee "$OUT/build.txt"
else
  if [ -n "${Y26_CHECK_REBUILD:-}" ]; then echo "a rebuild from source was asked for (Y26_CHECK_REBUILD)"
  elif [ -x "$CARRY/bin/y26" ]; then echo "the carried build does not run here: $(head -2 "$OUT/carried.txt" | tr '\n' ' ')"
  else echo "no carried build (bench/gpu-bundle.sh makes one)"; fi
  archs=90
  nvidia-smi >/dev/null 2>&1 && archs=native
  deps=()
  [ -d "$CARRY/deps" ] && deps=(-DY26_DEPS_DIR="$CARRY/deps")
  t0=$SECONDS
  # Y26_CHECK_CMAKE_ARGS: more configure options, after these (the rehearsal's, so that its compile lines are
  # the main build's and ccache replays the objects that do not read the carried dependencies)
  # shellcheck disable=SC2206
  extra=(${Y26_CHECK_CMAKE_ARGS:-})
  if cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DY26_CUDA=ON -DY26_CUDA_EMU=OFF -DY26_PORTABLE=ON \
       -DCMAKE_CUDA_ARCHITECTURES="$archs" -DY26_WERROR=OFF "${deps[@]}" "${extra[@]}" >"$OUT/build-configure.txt" 2>&1 &&
     cmake --build "$BUILD" -j "$(nproc)" --target y26_cli y26_tests >"$OUT/build-compile.txt" 2>&1; then
    echo "rebuilt from source in $(basename "$BUILD")/ in $((SECONDS - t0)) s (CUDA architectures $archs${deps:+, dependencies from .carry/deps})" | tee "$OUT/build.txt"
  else
    echo "BUILD FAILED: $(grep -m1 -E 'error|Error' "$OUT/build-configure.txt" "$OUT/build-compile.txt" | head -1)" | tee "$OUT/build.txt" "$OUT/build-failed.txt"
  fi
  Y26="$BUILD/y26"; TESTS="$BUILD/tests/y26_tests"
fi
"$Y26" env --json "$OUT/y26-env.json" 2>&1 | tee "$OUT/y26-env.txt" || true

# The report is rebuilt after every step, so a run cut short by a time limit still leaves one.
report() {
  python3 bench/gpu_report.py "$OUT" >/dev/null 2>"$OUT/report.err" || tail -3 "$OUT/report.err"
  cp "$OUT/gpu-report.md" "$OUT/gpu-report.json" "$FINAL/" 2>/dev/null
  tar -czf "$FINAL/raw.tar.gz" -C "$OUT" . 2>/dev/null
}
# Y26_CHECK_STEPS picks steps for a quick rerun after a fix, e.g. "tests" or "tests,bench" (default: all of
# tests, bench, torch, tests-pdl, sanitizer, sanitizer-tests, in that order: the figures the issue asks for
# first, so a run stopped by its time limit has them).
if [ -n "${Y26_CHECK_QUICK:-}" ]; then
  STEPS=",${Y26_CHECK_STEPS:-tests,bench-quick,peers-quick},"
else
  STEPS=",${Y26_CHECK_STEPS:-tests,bench,val,probe,peers,memory,tests-pdl,sanitizer,sanitizer-tests},"
fi
want() { [[ "$STEPS" == *",$1,"* ]]; }
START=$SECONDS
BUDGET=${Y26_CHECK_BUDGET_S:-330}  # optional steps are skipped past this many seconds
left() { echo $((BUDGET - (SECONDS - START))); }

step "[cuda] tests, each test case in its own process (a crash or a hang cannot hide the others)"
if want tests && [ -x "$TESTS" ]; then
  Y26_SOURCE_DIR="$ROOT" "$TESTS" "[cuda]" --list-test-names-only 2>/dev/null | grep -v '^$' >"$OUT/cuda-test-names.txt"
  i=0
  echo "[" >"$OUT/cuda-tests.json"
  while IFS= read -r name; do
    i=$((i + 1))
    t0=$SECONDS
    spec=${name//\\/\\\\}; spec=${spec//,/\\,}  # Catch2 test specs: a comma separates names
    Y26_SOURCE_DIR="$ROOT" timeout 180 "$TESTS" "$spec" --durations no >"$OUT/cuda-test-$i.txt" 2>&1
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
"$Y26" plan -w "$MODEL" --batch 1 --json "$OUT/y26-plan-b1.json" >/dev/null 2>&1
"$Y26" plan -w "$MODEL" --batch 64 --json "$OUT/y26-plan-b64.json" >/dev/null 2>&1
# the bounds on the datasheet's figures (the probe below adds the measured ones)
"$Y26" bench -w "$MODEL" --roofline --gpu h200 --json "$OUT/y26-roofline-datasheet.json" >/dev/null 2>"$OUT/y26-roofline.err"
bench() {  # bench NAME ARGS...: y26 bench into y26-NAME.json, its first error line in the log
  local name=$1; shift
  "$Y26" bench -w "$MODEL" --device cuda "$@" --json "$OUT/y26-$name.json" 2>"$OUT/y26-$name.err" ||
    echo "y26 bench $name: $(grep -m1 'y26 bench' "$OUT/y26-$name.err" || head -1 "$OUT/y26-$name.err")"
}
if want bench-quick; then
  for b in 1 64; do bench "bench-b$b" --batch "$b" --iters 100 --warmup 10; done
  report
fi
want bench && {
for b in 1 64; do
  bench "bench-b$b" --precision fp16 --batch "$b" --iters 200 --warmup 20 --ops
  # the same network with every convolution layer through cuDNN, in cuDNN's best fused form (the rest identical)
  bench "cudnn-b$b" --kernels cudnn --batch "$b" --iters 100 --warmup 10 --ops
  # cuDNN's convolutions alone (no bias, activation or residual): the convolution's own cost
  bench "cudnn-conv-b$b" --kernels cudnn-conv --batch "$b" --iters 20 --warmup 5 --ops
done
# two engines sharing the weights, on two host threads: one's copies and transfers overlap the other's kernels
bench bench-b64-e2 --batch 64 --iters 100 --warmup 10 --engines 2
"$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cuda --json "$OUT/y26-detect-cuda.json" >/dev/null 2>&1 || true
# The same detection with the kernels launched one by one on the streams (no CUDA graph): the concurrent
# branches then interleave differently, and the results must not change by a bit.
Y26_CUDA_GRAPHS=0 "$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cuda --json "$OUT/y26-detect-cuda-nograph.json" \
  >/dev/null 2>&1 || true
"$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cpu --precision fp32 --json "$OUT/y26-detect-cpu.json" >/dev/null 2>&1 || true
# programmatic dependent launch (opt-in until measured): batch-1 latency with it, and the same detections
Y26_PDL=1 bench bench-b1-pdl --batch 1 --iters 200 --warmup 20
Y26_PDL=1 "$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cuda --json "$OUT/y26-detect-cuda-pdl.json" >/dev/null 2>&1 || true
report
}

# PyTorch and the Ultralytics wheels it lacks (carried; installed into a folder of this checkout, no network)
PYDEPS="$CARRY/pydeps"
if [ -d "$CARRY/wheels" ] && ! python3 -c "import ultralytics" 2>/dev/null && [ ! -d "$PYDEPS/ultralytics" ]; then
  python3 -m pip install --quiet --no-index --no-deps --target "$PYDEPS" "$CARRY"/wheels/*.whl 2>"$OUT/wheels.err" ||
    echo "installing the carried wheels failed: $(tail -1 "$OUT/wheels.err")"
fi
py() {  # py SECONDS NAME SCRIPT ARGS...: a Python step with a time limit, its output in NAME.txt
  local limit=$1 name=$2; shift 2
  PYTHONPATH="$PYDEPS${PYTHONPATH:+:$PYTHONPATH}" YOLO_OFFLINE=1 timeout "$limit" python3 "$@" >"$OUT/$name.txt" 2>&1
  local rc=$?
  [ $rc -eq 124 ] && echo "(stopped after $limit s)" >>"$OUT/$name.txt"
  [ $rc -ne 0 ] && echo "$name: exit code $rc: $(grep -v '^\s*$' "$OUT/$name.txt" | tail -1)"
  return 0
}

step "y26 val on the GPU: the trained fixture's mAP in FP16 against yolo val's FP32 goldens, and yolo val on the GPU"
want val && {
VALDATA=weights/fixtures/shapes-val/data.yaml
VALMODEL=weights/fixtures/yolo26n-shapes.pt
"$Y26" val -w "$VALMODEL" --data "$VALDATA" --imgsz 320 --device cuda --json "$OUT/y26-val-cuda.json" >"$OUT/y26-val-cuda.txt" 2>&1 ||
  echo "y26 val: $(tail -1 "$OUT/y26-val-cuda.txt")"
# both sides timed in one run, the NMS-free head in both (bench/val_bench.py)
py 120 val-bench bench/val_bench.py --y26 "$Y26" --model "$VALMODEL" --data "$VALDATA" --imgsz 320 --device cuda \
  --json "$OUT/val-bench.json"
report
}

step "the GPU's own limits (copy, FP16 GEMM, launch) and the roofline on them"
want probe && {
py 90 probe bench/gpu_probe.py --json "$OUT/probe.json"
if [ -f "$OUT/probe.json" ]; then
  read -r gemm copy launch < <(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print(p["gemm_tflops"], p["copy_gbs"], p["launch_us"])' "$OUT/probe.json")
  "$Y26" bench -w "$MODEL" --roofline --gpu h200 --peak-tflops "$gemm" --bandwidth-gbs "$copy" --launch-us "$launch" \
    --json "$OUT/y26-roofline-measured.json" >/dev/null 2>>"$OUT/y26-roofline.err"
fi
report
}

step "peers: PyTorch eager FP32/FP16, torch.compile max-autotune FP16 (CUDA graphs)"
if want peers || want peers-quick; then
  py "$( [ "$(left)" -gt 120 ] && echo 120 || echo 60 )" torch-eager bench/torch_baseline.py --mode eager --model "$MODEL" --json "$OUT/torch-eager.json"
  report
  # max-autotune compiles and autotunes for minutes: what the budget leaves, at most 180 s, at least 45
  limit=$(( $(left) - 60 )); [ "$limit" -gt 180 ] && limit=180; [ "$limit" -lt 45 ] && limit=45
  want peers-quick && limit=45
  py "$limit" torch-compile bench/torch_baseline.py --mode compile --model "$MODEL" --iters 100 --json "$OUT/torch-compile.json"
  report
fi

step "the article's memory table, measured here (process device memory)"
want memory && {
for p in fp32 fp16; do
  py 90 "torch-predict-$p" bench/torch_baseline.py --mode predict --precision "$p" --model "$MODEL" --image "$SCENE" \
    --json "$OUT/torch-predict-$p.json"
done
# y26's own process as the driver lists it, while a batch-1 benchmark runs (stopped once it is seen; the
# engine's bytes come from y26-bench-b1.json)
"$Y26" bench -w "$MODEL" --device cuda --batch 1 --iters 1000000 --warmup 10 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 30); do
  sleep 0.5
  nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits 2>/dev/null | tr -d ' ' |
    awk -F, -v pid="$pid" '$1 == pid { print $2 * 1048576 }' >"$OUT/y26-process-bytes.txt"
  [ -s "$OUT/y26-process-bytes.txt" ] && break
  kill -0 "$pid" 2>/dev/null || break
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
# a short soak: 4,000 calls of mixed sizes and batches on one engine, then on two sharing the weights; device
# and resident memory every 1,000 calls must stay flat and every result equal the first
"$Y26" bench -w "$MODEL" --device cuda --soak 4000 --json "$OUT/y26-soak.json" >/dev/null 2>"$OUT/y26-soak.err" ||
  echo "soak: $(tail -1 "$OUT/y26-soak.err")"
report
}

step "[cuda] tests again with programmatic dependent launch (Y26_PDL=1)"
if want tests-pdl && [ -x "$TESTS" ]; then
  Y26_PDL=1 Y26_SOURCE_DIR="$ROOT" timeout 240 "$TESTS" "[cuda]" --durations no >"$OUT/cuda-tests-pdl.txt" 2>&1
  echo "exit code $?" >>"$OUT/cuda-tests-pdl.txt"
  tail -3 "$OUT/cuda-tests-pdl.txt"
  report
fi

step "compute-sanitizer on y26 detect (whole pipeline, batch 1: concurrent branches, split-K)"
CUDA_OK=0
command -v compute-sanitizer >/dev/null || echo "no compute-sanitizer on this machine" >"$OUT/cuda-probe.txt"
command -v compute-sanitizer >/dev/null && "$Y26" detect -w "$MODEL" -i "$SCENE" --no-draw --device cuda --imgsz 320 >/dev/null 2>"$OUT/cuda-probe.txt" && CUDA_OK=1
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
  Y26_SOURCE_DIR="$ROOT" timeout "$limit" compute-sanitizer --tool "$tool" --error-exitcode 0 "$TESTS" \
    "[cuda]~[e2e]" >"$OUT/sanitizer-tests-$tool.txt" 2>&1
  rc=$?
  [ $rc -eq 124 ] && echo "(stopped after $limit s)" >>"$OUT/sanitizer-tests-$tool.txt"
  [ $rc -ne 0 ] && [ $rc -ne 124 ] && echo "(exit code $rc)" >>"$OUT/sanitizer-tests-$tool.txt"
  tail -2 "$OUT/sanitizer-tests-$tool.txt"
done

step "report"
report
cat "$FINAL/gpu-report.md"
