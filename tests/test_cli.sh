#!/usr/bin/env bash
# The y26 program's contract: results on stdout, errors as ONE line on stderr with
# exit code 2, and no output file (not even a temporary one) after a failure.
set -u
Y26="$1"
FIX="$2"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# expect_error NAME EXPECTED_SUBSTRING -- command...
expect_error() {
  local name="$1" want="$2"; shift 3
  "$@" >"$TMP/stdout" 2>"$TMP/err"; local rc=$?
  local lines; lines=$(wc -l <"$TMP/err")
  if [ "$rc" -ne 2 ]; then bad "$name: exit $rc, expected 2"; return; fi
  if [ "$lines" -ne 1 ]; then bad "$name: $lines lines on stderr"; cat "$TMP/err"; return; fi
  if ! grep -qF -- "$want" "$TMP/err"; then bad "$name: stderr lacks '$want': $(cat "$TMP/err")"; return; fi
  ok
}

"$Y26" info -w "$FIX/yolo26n-rand.pt" >"$TMP/info" 2>&1 && grep -q "parameters:  2,572,280" "$TMP/info" && ok || bad "info on the fixture"
"$Y26" --help >/dev/null && ok || bad "--help"
for cmd in detect val bench plan info convert; do  # each command's own usage, exit 0, nothing else
  "$Y26" "$cmd" --help >"$TMP/usage" 2>&1 && grep -q "^  y26 $cmd " "$TMP/usage" && [ "$(grep -c '^  y26 ' "$TMP/usage")" -eq 1 ] \
    && ok || bad "$cmd --help: $(cat "$TMP/usage")"
done

expect_error "missing file" "$TMP/nope.pt: cannot open" -- "$Y26" info -w "$TMP/nope.pt"
expect_error "no weights" "--weights: required option is missing" -- "$Y26" info
expect_error "unknown option" "--bogus: unknown option" -- "$Y26" info --bogus
expect_error "unknown command" "'frobnicate' is not a y26 command" -- "$Y26" frobnicate
expect_error "non-model file" "not a model file" -- "$Y26" info -w "$FIX/scenes.json"

head -c 2000000 "$FIX/yolo26n-rand.pt" >"$TMP/trunc.pt"
mkdir "$TMP/out"
expect_error "convert truncated" "$TMP/trunc.pt:" -- "$Y26" convert "$TMP/trunc.pt" "$TMP/out/m.safetensors"
[ -z "$(ls -A "$TMP/out")" ] && ok || bad "convert left files behind: $(ls "$TMP/out")"
expect_error "convert into a missing dir" "cannot create" -- "$Y26" convert "$FIX/yolo26n-rand.pt" "$TMP/no/such/dir/m.safetensors"
expect_error "convert bad suffix" "must end in .safetensors" -- "$Y26" convert "$FIX/yolo26n-rand.pt" "$TMP/out/m.bin"

"$Y26" convert "$FIX/yolo26l-thin-nc5-rand.pt" "$TMP/out/m.safetensors" >/dev/null && ok || bad "convert"
"$Y26" info -w "$TMP/out/m.safetensors" | grep -q "classes:     5 (apple" && ok || bad "info on converted file"
[ "$(ls -A "$TMP/out")" = "m.safetensors" ] && ok || bad "convert left extra files: $(ls "$TMP/out")"

# detect: annotated image + JSON, nothing else in the output directory
M="$FIX/yolo26n-rand.pt"
"$Y26" detect -w "$M" -i "$FIX/scene-640x456.png" -o "$TMP/det" --json "$TMP/det.json" --device cpu >"$TMP/stdout" 2>&1 \
  && [ -f "$TMP/det/scene-640x456.png" ] && [ "$(ls -A "$TMP/det")" = "scene-640x456.png" ] \
  && grep -q '"detections"' "$TMP/det.json" && grep -q '"name": "' "$TMP/det.json" && ok || bad "detect with -o and --json: $(cat "$TMP/stdout")"
# --json - keeps stdout pure JSON
"$Y26" detect -w "$M" -i "$FIX/scene-640x456.png" --no-draw --json - --device cpu 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d) == 1 and len(d[0]["detections"]) > 0' \
  && ok || bad "detect --json - is not pure JSON"
# an oriented-box model: rotated boxes in the JSON (xywhr and four corners, "box" their bounds), yolo
# predict's 29 detections on the scene (weights/fixtures/yolo26n-obb-rand.detections.json), drawn
OBB_M="$FIX/yolo26n-obb-rand.pt"
"$Y26" detect -w "$OBB_M" -i "$FIX/scene-640x456.png" -o "$TMP/obb" --json "$TMP/obb.json" --device cpu >/dev/null 2>&1 &&
  [ -f "$TMP/obb/scene-640x456.png" ] && ! cmp -s "$TMP/obb/scene-640x456.png" "$FIX/scene-640x456.png" &&
  python3 - "$TMP/obb.json" "$FIX/yolo26n-obb-rand.detections.json" <<'PY' && ok || bad "detect with an OBB model"
import json, sys
got = json.load(open(sys.argv[1]))[0]["detections"]
want = json.load(open(sys.argv[2]))["scene-640x456.png"]["end2end"]["detections"]
assert len(got) == len(want) == 29, (len(got), len(want))
for d in got:
    o = d["obb"]
    xs, ys = [c[0] for c in o["corners"]], [c[1] for c in o["corners"]]
    assert len(o["corners"]) == 4 and abs(d["box"][0] - min(xs)) < 1e-3 and abs(d["box"][3] - max(ys)) < 1e-3, d
assert sorted(round(d["obb"]["angle"], 3) for d in got) == sorted(round(w["xywhr"][4], 3) for w in want)
PY
"$Y26" info -w "$OBB_M" >"$TMP/info-obb" 2>&1 && grep -q "^task: *obb (head model.23: OBB26)" "$TMP/info-obb" && grep -q "^graph: .* ops" "$TMP/info-obb" \
  && ok || bad "info on the OBB fixture: $(cat "$TMP/info-obb")"
expect_error "val on an OBB model" "y26 val scores detection models only" -- "$Y26" val -w "$OBB_M" --data "$FIX/shapes-val/data.yaml" --device cpu
# A pose model: yolo predict's detections and keypoints on the scene (yolo26n-pose-rand.detections.json), drawn
POSE_M="$FIX/yolo26n-pose-rand.pt"
"$Y26" detect -w "$POSE_M" -i "$FIX/scene-500x375.png" -o "$TMP/pose" --json "$TMP/pose.json" --device cpu >/dev/null 2>&1 &&
  [ -f "$TMP/pose/scene-500x375.png" ] && ! cmp -s "$TMP/pose/scene-500x375.png" "$FIX/scene-500x375.png" &&
  python3 - "$TMP/pose.json" "$FIX/yolo26n-pose-rand.detections.json" <<'PY' && ok || bad "detect with a pose model"
import json, sys
got = json.load(open(sys.argv[1]))[0]["detections"]
want = json.load(open(sys.argv[2]))["scene-500x375.png"]["end2end"]["detections"]
assert len(got) == len(want) > 0, (len(got), len(want))
for g in got:  # the reference of the same box
    w = min(want, key=lambda w: max(abs(a - b) for a, b in zip(g["box"], w["box"])))
    assert len(g["keypoints"]) == 17 and all(len(k) == 3 for k in g["keypoints"])
    assert max(abs(a - b) for p, q in zip(g["keypoints"], w["keypoints"]) for a, b in zip(p, q)) < 1e-3
PY
"$Y26" info -w "$POSE_M" >"$TMP/info-pose" 2>&1 && grep -q "^task: *pose (head model.23: Pose26)" "$TMP/info-pose" &&
  grep -q "^graph: .* ops" "$TMP/info-pose" && ok || bad "info on the pose fixture: $(cat "$TMP/info-pose")"
expect_error "val on a pose model" "task is pose: y26 val scores detection models only" -- "$Y26" val -w "$POSE_M" --data "$FIX/shapes-val/data.yaml" --device cpu
# A segmentation model: yolo predict's retina masks (NMS head) on the scene as COCO RLE, and its default masks
# (the one-to-one head) mapped to the image's pixels; drawn; info builds it; val refuses it
SEG_M="$FIX/yolo26n-seg-rand.pt"
"$Y26" detect -w "$SEG_M" -i "$FIX/scene-500x375.png" --nms --retina-masks --no-draw --json "$TMP/seg.json" --device cpu >/dev/null 2>&1 &&
  "$Y26" detect -w "$SEG_M" -i "$FIX/scene-500x375.png" -o "$TMP/seg" --json "$TMP/seg-default.json" --device cpu >/dev/null 2>&1 &&
  [ -f "$TMP/seg/scene-500x375.png" ] && ! cmp -s "$TMP/seg/scene-500x375.png" "$FIX/scene-500x375.png" &&
  python3 - "$TMP/seg.json" "$TMP/seg-default.json" "$FIX/yolo26n-seg-rand.detections.json" <<'PY' && ok || bad "detect with a segmentation model"
import json, sys
def rle(s, h, w):  # pycocotools' rleFrString, then column-major runs from zeros: the set pixels (row, column)
    counts, p = [], 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            c = ord(s[p]) - 48; x |= (c & 0x1F) << (5 * k); more = bool(c & 0x20); p += 1; k += 1
            if not more and c & 0x10: x |= -1 << (5 * k)
        if len(counts) > 2: x += counts[-2]
        counts.append(x)
    on, pos = set(), 0
    for i, n in enumerate(counts):
        if i % 2: on.update(((q % h), (q // h)) for q in range(pos, pos + n))
        pos += n
    assert pos == h * w
    return on
def runs(r, w):
    on, pos = set(), 0
    for i, n in enumerate(r):
        if i % 2: on.update((q // w, q % w) for q in range(pos, pos + n))
        pos += n
    return on
want_all = json.load(open(sys.argv[3]))["scene-500x375.png"]
got = json.load(open(sys.argv[1]))[0]["detections"]
want = want_all["nms_retina"]["detections"]
assert len(got) == len(want) == 36, (len(got), len(want))
for g in got:  # the reference of the same box: the same pixels
    w = min(want, key=lambda w: max(abs(a - b) for a, b in zip(g["box"], w["box"])))
    assert g["mask"]["size"] == [375, 500], g["mask"]
    a, b = rle(g["mask"]["counts"], 375, 500), runs(w["mask_runs"], 500)
    assert len(a & b) >= 0.99 * len(a | b), (len(a & b), len(a | b))
default = json.load(open(sys.argv[2]))[0]["detections"]
assert len(default) == len(want_all["end2end"]["detections"]) == 13
assert all(d["mask"]["size"] == [375, 500] and len(rle(d["mask"]["counts"], 375, 500)) > 0 for d in default)
PY
"$Y26" info -w "$SEG_M" >"$TMP/info-seg" 2>&1 && grep -q "^task: *segment (head model.23: Segment26)" "$TMP/info-seg" &&
  grep -q "^graph: .* ops" "$TMP/info-seg" && grep -q "^ *23  Segment " "$TMP/info-seg" && ok || bad "info on the segmentation fixture: $(cat "$TMP/info-seg")"
expect_error "val on a segmentation model" "task is segment: y26 val scores detection models only" -- "$Y26" val -w "$SEG_M" --data "$FIX/shapes-val/data.yaml" --device cpu
# A classifier through y26 detect: yolo predict's top 5 on three scenes (yolo26n-cls-rand.predictions.json),
# the top 5 drawn; info builds it; bench times it; val refuses it
CLS_M="$FIX/yolo26n-cls-rand.pt"
"$Y26" detect -w "$CLS_M" -i "$FIX/scene-640x456.png" "$FIX/scene-500x375.png" "$FIX/scene-375x522.png" --batch 2 -o "$TMP/cls" \
    --json "$TMP/cls.json" --device cpu >/dev/null 2>&1 &&
  [ -f "$TMP/cls/scene-375x522.png" ] && ! cmp -s "$TMP/cls/scene-375x522.png" "$FIX/scene-375x522.png" &&
  python3 - "$TMP/cls.json" "$FIX/yolo26n-cls-rand.predictions.json" <<'PY' && ok || bad "detect with a classification model"
import json, os, sys
got, want = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert len(got) == 3
for g in got:
    w = want[os.path.basename(g["file"])]
    assert [c["cls"] for c in g["top5"]] == w["top5"], (g["top5"], w["top5"])
    assert all(abs(c["prob"] - p) < 1e-4 for c, p in zip(g["top5"], w["top5conf"]))
    assert [g["height"], g["width"]] == w["shape"]
PY
"$Y26" info -w "$CLS_M" >"$TMP/info-cls" 2>&1 && grep -q "^task: *classify (head model.10: Classify)" "$TMP/info-cls" &&
  grep -q "^ *10  Classify " "$TMP/info-cls" && ok || bad "info on the classification fixture: $(cat "$TMP/info-cls")"
"$Y26" bench -w "$CLS_M" --device cpu --iters 2 --warmup 1 >"$TMP/bench-cls" 2>&1 && ok || bad "bench on a classifier: $(tail -3 "$TMP/bench-cls")"
expect_error "val on a classification model" "task is classify: y26 val scores detection models only" -- "$Y26" val -w "$CLS_M" --data "$FIX/shapes-val/data.yaml" --device cpu
# a directory with a corrupt image: one error naming it, no JSON written
mkdir "$TMP/imgs" && cp "$FIX/scene-500x375.png" "$TMP/imgs/a.png" && head -c 300 "$FIX/scene-640x456.png" >"$TMP/imgs/b.png"
expect_error "corrupt image in a directory" "$TMP/imgs/b.png:" -- "$Y26" detect -w "$M" -i "$TMP/imgs" --no-draw --json "$TMP/bad.json" --device cpu
[ ! -e "$TMP/bad.json" ] && ok || bad "a failed detect left its JSON file"
expect_error "bad --conf" "--conf: 'abc' is not a number" -- "$Y26" detect -w "$M" -i "$FIX/scene-640x456.png" --conf abc
expect_error "bad --imgsz" "--imgsz: 0 is out of range" -- "$Y26" detect -w "$M" -i "$FIX/scene-640x456.png" --imgsz 0
expect_error "missing input" "$TMP/none.jpg: no such file" -- "$Y26" detect -w "$M" -i "$TMP/none.jpg"
expect_error "no such CUDA device" "--device cuda:99" -- "$Y26" detect -w "$M" -i "$FIX/scene-640x456.png" --device cuda:99
# plan and bench produce their JSON keys
"$Y26" plan -w "$M" --batch 8 --budget 1GiB --json - | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in ("arena_bytes", "lower_bound_bytes", "naive_bytes", "weights_bytes", "workspace_bytes", "max_batch_for_budget", "dtype", "imgsz", "batch", "execution"):
    assert k in d, k
assert d["batch"] == 8 and d["arena_bytes"] <= 1.05 * d["lower_bound_bytes"] and d["max_batch_for_budget"] > 8' && ok || bad "plan --json"
expect_error "bad budget" "--budget: 'lots' is not a size" -- "$Y26" plan -w "$M" --budget lots
"$Y26" bench -w "$M" --imgsz 128 --iters 2 --warmup 0 --device cpu --json - 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["latency_ms_median"] > 0 and d["images_per_s"] > 0 and d["arena_bytes"] > 0' && ok || bad "bench --json"
"$Y26" bench -w "$M" --imgsz 64 --iters 3 --warmup 1 --device cpu --engines 3 --threads 1 --json - 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["engines"] == 3 and d["images_per_s"] > 0 and d["latency_ms_median"] > 0' && ok || bad "bench --engines 3"
expect_error "bad engines" "--engines" -- "$Y26" bench -w "$M" --engines 0
# --kernels auto on the CPU: fast where there is AVX2 or AVX-512, the reference on an SSE-only CPU (Y26_CPU_ISA caps it)
native=reference
grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && native=fast
for isa_want in "baseline reference" "native $native"; do
  set -- $isa_want
  Y26_CPU_ISA=$1 "$Y26" bench -w "$M" --imgsz 64 --iters 1 --warmup 0 --device cpu --json - 2>/dev/null |
    python3 -c "import json, sys; assert json.load(sys.stdin)['kernels'] == '$2'" && ok || bad "--kernels auto with Y26_CPU_ISA=$1"
done

# --device emu: the CUDA engine on the emulator gives the CPU FP16 oracle's detections within the bounds of
# val: the table and a JSON matching yolo val's goldens; COCO results; bad datasets are one line, no partial file
S="$FIX/yolo26n-shapes.pt"
D="$FIX/shapes-val/data.yaml"
# (no --imgsz: the checkpoint's training size, 320, as yolo val defaults to it)
# Y26_CLI_SANITIZED=1 (scripts/test-sanitizers.sh): the split's first 20 images, the same code's bounds checked
# without the 150 images' 1.5 minutes under ASan; the metrics against yolo val's are the main build's check.
if [ "${Y26_CLI_SANITIZED:-0}" = 1 ]; then
  mkdir -p "$TMP/v20/images" "$TMP/v20/labels"
  for f in $(ls "$FIX/shapes-val/images" | head -20); do
    cp "$FIX/shapes-val/images/$f" "$TMP/v20/images/" && cp "$FIX/shapes-val/labels/${f%.jpg}.txt" "$TMP/v20/labels/"
  done
  cp "$D" "$TMP/v20/data.yaml"
  VD="$TMP/v20/data.yaml" VN=20
else
  VD="$D" VN=150
fi
"$Y26" val -w "$S" --data "$VD" --device cpu --json "$TMP/val.json" --save-json "$TMP/pred.json" >"$TMP/stdout" 2>&1 \
  && grep -qE "^ +all +$VN +[0-9]+ " "$TMP/stdout" && { [ $VN != 150 ] || grep -qE "^ +hexagon " "$TMP/stdout"; } && python3 - "$TMP/val.json" "$FIX/yolo26n-shapes.val.json" "$TMP/pred.json" "$VN" <<'PY' && ok || bad "val: $(cat "$TMP/stdout")"
import json, sys
got, gold, pred = (json.load(open(f)) for f in sys.argv[1:4])
n = int(sys.argv[4])
if n == 150:  # the whole split: yolo val's metrics
    for k in ("precision", "recall", "map50", "map50_95"):
        assert abs(got[k] - gold["end2end"][k]) <= 1e-5, (k, got[k], gold["end2end"][k])
assert got["imgsz"] == 320
assert got["images"] == n and len(got["files"]) == n and got["labels"]["found"] == n
assert len(pred) > n and {"image_id", "category_id", "bbox", "score", "file_name"} <= set(pred[0])
PY
expect_error "val without --data" "--data: required option is missing" -- "$Y26" val -w "$S"
expect_error "val on another model's classes" "data.yaml: 8 classes, the model has 80" -- "$Y26" val -w "$M" --data "$D" --device cpu
printf 'train: a\nval: [b\n' >"$TMP/broken.yaml"
expect_error "val on a broken data.yaml" "$TMP/broken.yaml: line " -- "$Y26" val -w "$S" --data "$TMP/broken.yaml"
expect_error "val --split missing" "no 'test:' split" -- "$Y26" val -w "$S" --data "$D" --split test --device cpu
mkdir "$TMP/valout"
expect_error "val --save-json into a missing dir" "$TMP/valout/no/p.json" -- "$Y26" val -w "$S" --data "$D" --imgsz 64 --device cpu --save-json "$TMP/valout/no/p.json"
[ -z "$(ls -A "$TMP/valout")" ] && ok || bad "a failed val left files: $(ls -R "$TMP/valout")"

# tests/test_cuda_engine.cpp (2 px / 0.02, one detection may cross the 0.25 threshold); builds without the
# emulator say so in one line.
if "$Y26" detect -w "$M" -i "$FIX/scene-640x456.png" --no-draw --json "$TMP/emu.json" --device emu >/dev/null 2>"$TMP/emu.err"; then
  "$Y26" detect -w "$M" -i "$FIX/scene-640x456.png" --no-draw --json "$TMP/cpu16.json" --device cpu --precision fp16 >/dev/null 2>&1
  python3 - "$TMP/emu.json" "$TMP/cpu16.json" <<'PY' && ok || bad "--device emu vs the CPU FP16 oracle"
import json, sys
got = json.load(open(sys.argv[1]))[0]["detections"]
ref = json.load(open(sys.argv[2]))[0]["detections"]
used, matched = [False] * len(got), 0
for r in ref:
    for i, g in enumerate(got):
        if not used[i] and g["cls"] == r["cls"] and abs(g["score"] - r["score"]) <= 0.02 and \
                max(abs(a - b) for a, b in zip(g["box"], r["box"])) <= 2.0:
            used[i], matched = True, matched + 1
            break
print(f"emu: {len(got)} detections, CPU FP16 {len(ref)}, {matched} matched")
assert len(ref) > 0 and abs(len(got) - len(ref)) <= 1 and matched + 1 >= len(ref)
PY
  mkdir -p "$TMP/v2/images" "$TMP/v2/labels"
  for f in $(ls "$FIX/shapes-val/images" | head -2); do
    cp "$FIX/shapes-val/images/$f" "$TMP/v2/images/" && cp "$FIX/shapes-val/labels/${f%.jpg}.txt" "$TMP/v2/labels/"
  done
  cp "$D" "$TMP/v2/data.yaml"
  "$Y26" val -w "$S" --data "$TMP/v2/data.yaml" --imgsz 128 --device emu --json "$TMP/v2-emu.json" >/dev/null 2>&1 &&
    "$Y26" val -w "$S" --data "$TMP/v2/data.yaml" --imgsz 128 --device cpu --precision fp16 --json "$TMP/v2-cpu.json" >/dev/null 2>&1 &&
    python3 - "$TMP/v2-emu.json" "$TMP/v2-cpu.json" <<'PY' && ok || bad "val --device emu vs the CPU FP16 oracle"
import json, sys
emu, cpu = (json.load(open(f)) for f in sys.argv[1:])
print(f"val on the emulator: mAP50-95 {emu['map50_95']:.4f}, CPU FP16 {cpu['map50_95']:.4f}")
assert cpu["map50"] > 0 and all(abs(emu[k] - cpu[k]) <= 0.005 for k in ("map50", "map50_95"))
PY
  expect_error "cuDNN on the emulator" "cuDNN is not emulated" -- "$Y26" bench -w "$M" --imgsz 64 --device emu --kernels cudnn
  expect_error "no such emulated device" "--device emu:1" -- "$Y26" detect -w "$M" -i "$FIX/scene-640x456.png" --device emu:1
else
  [ "$(wc -l <"$TMP/emu.err")" -eq 1 ] && grep -q "no CUDA emulator" "$TMP/emu.err" && ok || bad "--device emu without the emulator: $(cat "$TMP/emu.err")"
fi

# Video: raw frames on stdin -> JSON Lines and an annotated mp4, that mp4 read back (frame count, size, rate,
# --vid-stride, --max-frames), every frame's detections those of the frame as an image, folders of both,
# and broken sources (one line, exit 2 where nothing was processed, 1 with a finished video where some was).
if "$Y26" env 2>/dev/null | grep -q "^video: *FFmpeg"; then
  V="$TMP/video"
  mkdir -p "$V/frames"
  python3 - "$V" <<'PY'
import struct, sys
out = sys.argv[1]
w, h, n = 160, 120, 24
raw = bytearray()
for i in range(n):
    # moving stripes and a square: every frame differs
    px = bytearray()
    for y in range(h):
        for x in range(w):
            inside = 40 + 3 * i <= x < 90 + 3 * i and 30 <= y < 80
            px += bytes(((x * 3 + i * 7) % 256, (y * 2) % 256, 250 if inside else (x + y) % 256))
    raw += px
    # the same frame as a 24-bit BMP (bottom-up rows of BGR, each padded to 4 bytes)
    row = (w * 3 + 3) // 4 * 4
    body = bytearray()
    for y in reversed(range(h)):
        line = bytearray()
        for x in range(w):
            r, g, b = px[(y * w + x) * 3:(y * w + x) * 3 + 3]
            line += bytes((b, g, r))
        body += line + bytes(row - len(line))
    head = b"BM" + struct.pack("<IHHI", 54 + len(body), 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(body), 2835, 2835, 0, 0)
    open(f"{out}/frames/f{i:02d}.bmp", "wb").write(head + body)
open(f"{out}/frames.rgb", "wb").write(raw)
open(f"{out}/cut.rgb", "wb").write(raw[: w * h * 3 * 7 + 1000])  # seven frames and a partial one
PY
  "$Y26" detect -w "$M" -i - --raw 160x120@10 -o "$V/out" --json "$V/raw.jsonl" --imgsz 160 --conf 0.05 --batch 4 --device cpu \
    <"$V/frames.rgb" >"$V/raw.log" 2>&1 && ok || bad "detect on raw frames: $(tail -2 "$V/raw.log")"
  "$Y26" detect -w "$M" -i "$V/frames" --json "$V/images.json" --imgsz 160 --conf 0.05 --no-draw --device cpu >/dev/null 2>&1
  python3 - "$V/raw.jsonl" "$V/images.json" <<'PY' && ok || bad "raw frames' JSON Lines vs the frames as images"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
images = json.load(open(sys.argv[2]))
assert [l["frame"] for l in lines] == list(range(24)), [l["frame"] for l in lines]
assert all(abs(l["timestamp"] - i / 10) < 1e-9 and l["source"] == "-" and (l["width"], l["height"]) == (160, 120)
           for i, l in enumerate(lines))
assert len(images) == 24 and sum(len(l["detections"]) for l in lines) > 0
for l, im in zip(lines, images):
    assert l["detections"] == im["detections"], (l["frame"], im["file"])
PY
  [ -s "$V/out/stdin.mp4" ] && [ "$(ls -A "$V/out" | wc -l)" -eq 1 ] && ok || bad "the annotated video, alone: $(ls -A "$V/out")"
  # the annotated video read back: 24 frames of 160x120 at 10 fps
  "$Y26" detect -w "$M" -i "$V/out/stdin.mp4" --no-draw -o "$V/none" --json - --imgsz 160 --device cpu 2>/dev/null >"$V/back.jsonl"
  python3 - "$V/back.jsonl" <<'PY' && ok || bad "the annotated video read back"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["frame"] for l in lines] == list(range(24)) and all((l["width"], l["height"]) == (160, 120) for l in lines)
assert all(abs(l["timestamp"] - i / 10) < 1e-6 for i, l in enumerate(lines)), [l["timestamp"] for l in lines]
PY
  [ ! -e "$V/none" ] && ok || bad "--no-draw made an output folder"
  "$Y26" detect -w "$M" -i "$V/out/stdin.mp4" --vid-stride 3 --max-frames 5 -o "$V/strided" --json "$V/strided.jsonl" \
    --imgsz 160 --device cpu >/dev/null 2>&1
  "$Y26" detect -w "$M" -i "$V/strided/stdin.mp4" --no-draw --json - --imgsz 160 --device cpu 2>/dev/null >"$V/strided-back.jsonl"
  python3 - "$V/strided.jsonl" "$V/strided-back.jsonl" <<'PY' && ok || bad "--vid-stride 3 --max-frames 5"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["frame"] for l in lines] == [0, 3, 6, 9, 12], [l["frame"] for l in lines]
assert all(abs(l["timestamp"] - l["frame"] / 10) < 1e-6 for l in lines)
back = [json.loads(l) for l in open(sys.argv[2])]  # its output: 5 frames at 10/3 fps, the duration kept
assert len(back) == 5 and abs(back[1]["timestamp"] - 0.3) < 1e-3, [l["timestamp"] for l in back]
PY
  # an http:// stream: the annotated video served by a local HTTP server, read as FFmpeg streams it
  python3 - "$V/out" >"$V/http.port" 2>/dev/null <<'PY' &
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
  http_pid=$!
  for _ in $(seq 100); do [ -s "$V/http.port" ] && break; sleep 0.1; done
  url="http://127.0.0.1:$(cat "$V/http.port")"
  "$Y26" detect -w "$M" -i "$url/stdin.mp4" --no-draw --json - --imgsz 160 --device cpu 2>"$V/http.err" | wc -l | grep -qx 24 &&
    ok || bad "an http:// stream: $(cat "$V/http.err")"
  expect_error "http 404" "$url/nope.mp4: cannot open video" -- "$Y26" detect -w "$M" -i "$url/nope.mp4" --no-draw --device cpu
  kill $http_pid 2>/dev/null
  # a folder of images and videos takes both: images first (the BMP frames), then its videos
  mkdir -p "$V/mixed" && cp "$V/frames/f00.bmp" "$V/frames/f01.bmp" "$V/strided/stdin.mp4" "$V/mixed/"
  "$Y26" detect -w "$M" -i "$V/mixed" --no-draw --json "$V/mixed.jsonl" --imgsz 160 --device cpu >/dev/null 2>&1
  python3 - "$V/mixed.jsonl" <<'PY' && ok || bad "a folder of images and a video"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l.get("file", "").endswith(".bmp") for l in lines] == [True, True] + [False] * 5
assert [l.get("frame") for l in lines[2:]] == list(range(5)) and lines[2]["source"].endswith("stdin.mp4")
PY
  # broken sources
  head -c 30000 /dev/urandom >"$V/junk.mp4"
  expect_error "corrupt video" "$V/junk.mp4: cannot" -- "$Y26" detect -w "$M" -i "$V/junk.mp4" -o "$V/junk-out" --json "$V/junk.jsonl" --device cpu
  [ -z "$(ls -A "$V/junk-out" 2>/dev/null)" ] && [ ! -e "$V/junk.jsonl" ] && ok ||
    bad "a corrupt video left files: $(ls -A "$V/junk-out") $(ls "$V/junk.jsonl" 2>/dev/null)"
  expect_error "missing camera" "/dev/video99: cannot open video" -- "$Y26" detect -w "$M" -i /dev/video99 -o "$V/cam" --device cpu
  expect_error "stdin without --raw" "-: raw frames on standard input need --raw" -- "$Y26" detect -w "$M" -i - --device cpu
  expect_error "bad --raw" "--raw: '160by120' is not WIDTHxHEIGHT" -- "$Y26" detect -w "$M" -i - --raw 160by120 --device cpu
  expect_error "bad --vid-stride" "--vid-stride: 0 is out of range" -- "$Y26" detect -w "$M" -i "$V/junk.mp4" --vid-stride 0
  expect_error "nothing before the break" "-: stopped at frame 0" -- sh -c "head -c 100 '$V/frames.rgb' | '$Y26' detect -w '$M' -i - --raw 160x120 -o '$V/none2' --device cpu"
  [ -z "$(ls -A "$V/none2" 2>/dev/null)" ] && ok || bad "a source broken at its first frame left files"
  # a source that breaks off midway: exit 1, said on stderr, the 7 frames before it written and finished
  "$Y26" detect -w "$M" -i - --raw 160x120@10 -o "$V/cut" --json "$V/cut.jsonl" --imgsz 160 --device cpu <"$V/cut.rgb" >/dev/null 2>"$V/cut.err"
  rc=$?
  [ $rc -eq 1 ] && grep -q "stopped at frame 7: a partial raw frame" "$V/cut.err" && [ "$(wc -l <"$V/cut.jsonl")" -eq 7 ] && ok ||
    bad "a raw stream cut midway: exit $rc, $(cat "$V/cut.err")"
  "$Y26" detect -w "$M" -i "$V/cut/stdin.mp4" --no-draw --json - --imgsz 160 --device cpu 2>/dev/null | wc -l | grep -qx 7 && ok ||
    bad "the cut stream's video does not hold its 7 frames"
  [ "$(ls -A "$V/cut")" = "stdin.mp4" ] && ok || bad "temporary files beside the cut stream's video: $(ls -A "$V/cut")"
else
  : >"$TMP/clip.mp4"
  expect_error "video without FFmpeg" "y26 was built without video" -- "$Y26" detect -w "$M" -i "$TMP/clip.mp4" --device cpu
fi

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
