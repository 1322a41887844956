#!/usr/bin/env bash
# bench/gpu-rehearse.sh [BUILD] — the GPU check, here, without a GPU, in environments stripped like the GPU
# image (docs/gpu-check.md): run it before every GPU visit; CI runs it (tests/CMakeLists.txt: gpu.rehearsal).
#
# The bundle is made first (bench/gpu-bundle.sh; from BUILD when given, a portable Release build for sm_90,
# e.g. scripts/test.sh's build/). Then, each in its own mount namespace (unshare -m) where Debian's
# libjpeg, libyaml, stb, Catch2, nlohmann-json and Boost are hidden, and cuDNN's headers and libraries too:
#   run:   the CUDA toolkit's libraries are hidden as well. Every carried binary starts; y26 env says why
#          there is no GPU; y26 finds cuDNN inside a Python package's nvidia/cudnn/lib and says where it
#          looked when there is none; the CPU detects, the CUDA device refuses in one line; the [cuda] tests
#          skip saying why; and bench/gpu-check.sh runs every step on the carried build, leaving a report
#          with every key (null with a reason wherever nothing could be measured).
#   build: the toolkit is there (the GPU image has nvcc) but nothing else: bench/gpu-check.sh rebuilds from
#          source with the carried dependency folder, the rebuilt binaries need nothing outside the bundle's
#          list, and its report is complete too.
# Exit 0: all held; 1: something did not (each check prints ok/FAIL); 77: no mount namespace here.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK" "$ROOT/build-rehearsal"' EXIT
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
failures=0
ok() { echo "ok:   $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() {  # check WHAT COMMAND...: ok when the command succeeds
  local what=$1; shift
  if "$@" >"$WORK/last.txt" 2>&1; then ok "$what"; else fail "$what: $(tail -3 "$WORK/last.txt" | tr '\n' ' ')"; fi
}

echo "=== the bundle"
CARRY="$WORK/carry"
if ! Y26_BUNDLE_BUILD="${1:-}" Y26_BUNDLE_WHEELS=0 bash bench/gpu-bundle.sh "$CARRY" >"$WORK/bundle.txt" 2>&1; then
  cat "$WORK/bundle.txt"
  echo "FAIL: bench/gpu-bundle.sh"
  exit 1
fi
ok "bundle: $(grep '^size:' "$CARRY/MANIFEST")"

if ! unshare -m true 2>/dev/null; then
  echo "no mount namespace here (unshare -m: $(unshare -m true 2>&1 | head -1)): the stripped runs cannot be rehearsed"
  exit 77
fi

MA=$(gcc -print-multiarch)
# The toolkit's folders as nvcc itself reports them: the nvcc on PATH may be a wrapper script in another
# folder (/usr/local/bin/nvcc on CI's image), so its own ../include is not the toolkit's.
nvcc_says=$(nvcc --dryrun -c -x cu /dev/null -o /dev/null 2>&1)
CUDA_INC=$(sed -n 's/^#\$ INCLUDES="-I\([^"]*\)".*/\1/p' <<<"$nvcc_says" | head -1)
CUDA_LIB=$(grep -o '"-L[^"]*"' <<<"$nvcc_says" | tr -d '"' | sed 's/^-L//' | grep -v '/stubs$' | head -1)
if [ ! -f "$CUDA_INC/cuda_runtime.h" ] || [ ! -f "$CUDA_LIB/libcudart_static.a" ]; then
  echo "FAIL: nvcc --dryrun names no toolkit include and library folder (INCLUDES '$CUDA_INC', -L '$CUDA_LIB')"
  exit 1
fi
CUDA_INC=$(realpath "$CUDA_INC") CUDA_LIB=$(realpath "$CUDA_LIB")
# What the GPU image does not have: the Debian development packages y26 builds with, and cuDNN. Each is
# hidden by covering its folder with a copy made of links to everything else in it (so a hidden file is
# absent, not empty); the toolkit's library folder is covered whole in the run mode.
# cuDNN's headers are hidden wherever CMake's find_path could come upon them, links to the toolkit's
# included (/usr/local/include holds such links on CI's image).
HIDE=("/usr/include:stb nlohmann catch2 boost jpeglib.h jmorecfg.h jerror.h yaml.h cudnn*.h"
      "/usr/include/$MA:jconfig.h cudnn*.h"
      "/usr/local/include:cudnn*.h"
      "/usr/lib/$MA:libjpeg.* libyaml* libboost_*"
      "/usr/lib/$MA/cmake:Boost* boost_*"
      "/usr/lib/cmake:Catch2"
      "/usr/share/cmake:nlohmann_json"
      "$CUDA_INC:cudnn*.h")
# stripped MODE COMMAND: COMMAND in a mount namespace with those hidden (MODE run: also every library of
# the toolkit, MODE build: its cuDNN only). The real toolkit libraries stay under $WORK/ns/cuda-lib.
stripped() {
  local mode=$1; shift
  local hide=("${HIDE[@]}")
  if [ "$mode" = run ]; then hide+=("$CUDA_LIB:*"); else hide+=("$CUDA_LIB:libcudnn*"); fi
  unshare -m bash -c '
    set -e
    work=$1; lib=$2; shift 2
    # the links and the folders they point into live in a tmpfs of this namespace only
    mkdir -p "$work/ns" && mount -t tmpfs -o size=64m tmpfs "$work/ns"
    mkdir -p "$work/ns/cuda-lib" && mount --bind "$lib" "$work/ns/cuda-lib"
    n=0
    hidden() {  # hidden NAME PATTERNS: NAME matches one of the patterns
      local p
      set -f  # the patterns are for case, not for the shell to expand
      for p in $2; do case $1 in $p) set +f; return 0 ;; esac; done
      set +f; return 1
    }
    while [ "$1" != "--" ]; do
      dir=${1%%:*}; patterns=${1#*:}; shift
      [ -d "$dir" ] || continue
      n=$((n + 1))
      # An overlay whose upper layer holds a whiteout per hidden entry: the rest keep their own paths. (A
      # farm of links, the fallback where overlayfs is refused, makes GCC canonicalise the system headers
      # it includes to the links targets, and ccache could then replay none of the main build objects.)
      up=$work/ns/up/$n; wk=$work/ns/wk/$n
      mkdir -p "$up" "$wk"
      whiteouts=1
      for entry in "$dir"/* "$dir"/.[!.]*; do
        [ -e "$entry" ] || [ -L "$entry" ] || continue
        name=${entry##*/}
        if hidden "$name" "$patterns"; then mknod "$up/$name" c 0 0 2>/dev/null || whiteouts=0; fi
      done
      [ $whiteouts = 1 ] && mount -t overlay overlay -o "lowerdir=$dir,upperdir=$up,workdir=$wk" "$dir" 2>/dev/null && continue
      real=$work/ns/real/$n; farm=$work/ns/farm/$n
      mkdir -p "$real" "$farm"
      mount --bind "$dir" "$real"
      for entry in "$real"/* "$real"/.[!.]*; do
        [ -e "$entry" ] || [ -L "$entry" ] || continue
        name=${entry##*/}
        hidden "$name" "$patterns" || ln -s "$entry" "$farm/$name"
      done
      mount --bind "$farm" "$dir"
    done
    shift
    exec bash -c "$1"
  ' stripped "$WORK" "$CUDA_LIB" "${hide[@]}" -- "$*"
}
# every key of gpu_report.KEYS in the report, and a reason beside every null
report_complete() {
  python3 - "$1/gpu-report.json" <<'EOF'
import json, sys
sys.path.insert(0, "bench")
from gpu_report import KEYS
rep = json.load(open(sys.argv[1]))
missing = [k for k in KEYS if k not in rep]
unexplained = [k for k in KEYS if rep.get(k) is None and not rep["why"].get(k)]
if missing or unexplained:
    sys.exit(f"missing keys {missing}, nulls without a reason {unexplained}")
print(f"{len(KEYS)} keys, {sum(rep[k] is None for k in KEYS)} null with a reason")
EOF
}

Y=$CARRY/bin/y26
T=$CARRY/bin/y26_tests
MODEL=$ROOT/weights/fixtures/yolo26n-rand.pt
SCENE=$ROOT/weights/fixtures/scene-640x456.png
echo "=== run: the carried binaries with no Debian packages, no cuDNN and no CUDA toolkit libraries"
check "the stripped environment hides libjpeg, Catch2 and the toolkit's libraries" \
  stripped run "[ ! -e /usr/lib/$MA/libjpeg.so.62 ] && [ ! -e /usr/lib/$MA/libyaml-0.so.2 ] && [ ! -e /usr/include/catch2/catch.hpp ] && [ -z \"\$(ls $CUDA_LIB)\" ] && [ -e /usr/lib/$MA/libc.so.6 ]"
check "y26 --version starts" stripped run "$Y --version"
check "y26_tests starts" stripped run "$T --list-test-names-only '[no-such-tag]'"
check "y26 env: no GPU, and why" stripped run "$Y env | grep -E '^cuda: +unavailable: .*driver'"
check "y26 env: no cuDNN, and where it looked" stripped run "$Y env | grep -E '^cudnn: +unavailable: cuDNN 9 not found: tried .*library path.*site-packages'"
# A Python whose site-packages hold cuDNN in nvidia/FOLDER/lib, as pip's nvidia-cudnn wheels lay it out: y26
# must find it there. cudnn_wheel FOLDER WHAT
cudnn_wheel() {
  local venv=$WORK/venv-$1
  local site=$venv/lib/python3.12/site-packages/nvidia/$1/lib
  mkdir -p "$venv/bin" "$site"
  ln -s "$(command -v python3)" "$venv/bin/python3"
  for f in "$CUDA_LIB"/libcudnn*.so.9; do ln -s "$WORK/ns/cuda-lib/$(basename "$f")" "$site/$(basename "$f")"; done
  check "$2" stripped run "PATH=$venv/bin:\$PATH $Y env | grep -F 'cudnn:    $site/libcudnn.so.9, cuDNN 9.'"
}
cudnn_wheel cudnn "y26 env: cuDNN found in a Python package's nvidia/cudnn/lib"
cudnn_wheel cu13 "y26 env: cuDNN found in nvidia/cu13/lib too (a wheel naming its folder otherwise)"
check "y26 detect on the CPU" stripped run "$Y detect -w $MODEL -i $SCENE --no-draw --device cpu --json - | grep -q '\"cls\"'"
check "y26 detect --device cuda: exit code 2 and one line" \
  stripped run "$Y detect -w $MODEL -i $SCENE --no-draw --device cuda 2>$WORK/cuda.err; [ \$? -eq 2 ] && [ \$(wc -l <$WORK/cuda.err) -eq 1 ] && grep -q driver $WORK/cuda.err"
check "the [cuda] tests skip, saying why" stripped run "Y26_SOURCE_DIR=$ROOT $T '[cuda]' 2>&1 | grep -q 'test skipped: no usable NVIDIA driver'"
check "a CPU test passes in the carried test binary" stripped run "Y26_SOURCE_DIR=$ROOT $T '[roofline]'"
check "bench/gpu-check.sh on the carried build" \
  stripped run "Y26_CARRY=$CARRY Y26_COMMIT=rehearsal bash bench/gpu-check.sh $WORK/check-carried >$WORK/check-carried.log 2>&1"
check "  it used the carried build" grep -q "^carried build" "$WORK/check-carried.log"
check "  its report has every key, a reason beside every null ($(report_complete "$WORK/check-carried" 2>&1))" \
  report_complete "$WORK/check-carried"
check "  every step said why it has no GPU" grep -q "no usable NVIDIA driver" "$WORK/check-carried/gpu-report.md"

echo "=== build: the GPU check's rebuild from source with the carried dependency folder (the toolkit is there)"
check "the stripped environment has no stb, nlohmann-json, libjpeg, libyaml or cuDNN headers" \
  stripped build "[ ! -e /usr/include/nlohmann/json.hpp ] && [ ! -e /usr/include/stb/stb_image.h ] && [ ! -e /usr/include/jpeglib.h ] && [ ! -e /usr/include/yaml.h ] && ! ls $CUDA_INC/cudnn.h /usr/include/cudnn.h /usr/include/$MA/cudnn.h /usr/local/include/cudnn.h 2>/dev/null && [ ! -e $CUDA_LIB/libcudnn.so.9 ] && [ -e $CUDA_LIB/libcudart_static.a ]"
# The rebuild's folder sits beside build/ and its compile lines are the main build's (-Werror, ptxas -v: the
# same compiler, so no stricter), so that ccache, where the main build went through it, replays every object
# whose preprocessed source is the same: all but those that read the carried stb, nlohmann-json, libjpeg,
# libyaml and Catch2 headers, which compile anew (CI: 4.5 minutes of the main ctest's 9 were this rebuild).
REBUILD=$ROOT/build-rehearsal
rm -rf "$REBUILD"
check "bench/gpu-check.sh rebuilds from source and runs the tests" \
  stripped build "Y26_CARRY=$CARRY Y26_CHECK_REBUILD=1 Y26_CHECK_BUILD=$REBUILD Y26_CHECK_CMAKE_ARGS='-DY26_WERROR=ON -DY26_PTXAS_VERBOSE=ON' Y26_CHECK_STEPS=tests Y26_COMMIT=rehearsal bash bench/gpu-check.sh $WORK/check-rebuilt >$WORK/check-rebuilt.log 2>&1"
check "  it rebuilt from source with the carried dependencies" grep -q "^rebuilt from source .*dependencies from .carry/deps" "$WORK/check-rebuilt.log"
check "  the rebuilt y26 needs only glibc, libstdc++ and libgcc" \
  bash -c "readelf -d $REBUILD/y26 | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -vxE 'lib(c|m|dl|pthread|rt)\.so\.[0-9]+|ld-linux-x86-64\.so\.2|libstdc\+\+\.so\.6|libgcc_s\.so\.1' | { ! grep .; }"
check "  it took cuDNN's headers from the carried folder (the baseline is built in)" \
  bash -c "grep -E '^Y26_CUDNN_INCLUDE_DIR:' $REBUILD/CMakeCache.txt; grep -qE '^Y26_CUDNN_INCLUDE_DIR:PATH=$CARRY/deps/include\$' $REBUILD/CMakeCache.txt"
check "  its report has every key, a reason beside every null" report_complete "$WORK/check-rebuilt"

echo "=== peers: the PyTorch scripts on the CPU (where Y26_REHEARSE_PYTHON, default python3, has torch and ultralytics)"
PY=${Y26_REHEARSE_PYTHON:-python3}
if "$PY" -c "import torch, ultralytics" 2>/dev/null; then
  peers=$WORK/peers
  mkdir -p "$peers"
  small=(--model "$MODEL" --device cpu --imgsz 320 --batches 1,2 --iters 2 --warmup 1)
  check "torch_baseline.py --mode eager" "$PY" bench/torch_baseline.py --mode eager "${small[@]}" --json "$peers/torch-eager.json"
  check "torch_baseline.py --mode compile (max-autotune)" "$PY" bench/torch_baseline.py --mode compile "${small[@]}" --json "$peers/torch-compile.json"
  check "torch_baseline.py --mode predict" "$PY" bench/torch_baseline.py --mode predict --precision fp32 --model "$MODEL" \
    --image "$SCENE" --device cpu --imgsz 320 --json "$peers/torch-predict-fp32.json"
  check "  the report reads their figures" bash -c "python3 bench/gpu_report.py $peers >/dev/null && python3 -c '
import json, sys
r = json.load(open(\"$peers/gpu-report.json\"))
assert r[\"torch_eager_fp32_latency_b1_ms\"] is None or r[\"torch_eager_fp32_latency_b1_ms\"] > 0
for t in (\"torch-eager\", \"torch-compile\"):
    runs = json.load(open(\"$peers/\" + t + \".json\"))[\"runs\"]
    assert [x[\"batch\"] for x in runs] == [1, 2], runs
    assert all(x[\"latency_ms_median\"] > 0 for x in runs)
assert r[\"torch_compile_s\"] > 0, r[\"torch_compile_s\"]
assert r[\"memory_table\"][0][\"note\"].startswith(\"Ultralytics predict\"), r[\"memory_table\"][0]
'"
  check "  its report has every key, a reason beside every null" report_complete "$peers"
else
  echo "skipped: $PY has no torch and ultralytics (they are never CI's dependencies; see weights/README.md)"
fi

if [ $failures -gt 0 ]; then
  echo "gpu-rehearse: $failures check(s) failed; the logs: (kept in $WORK)"
  for f in check-carried.log check-rebuilt.log; do [ -f "$WORK/$f" ] && tail -20 "$WORK/$f"; done
  trap - EXIT
  exit 1
fi
echo "gpu-rehearse: every check held"
