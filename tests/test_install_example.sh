#!/usr/bin/env bash
# Installs y26 into a temporary prefix, builds apps/example against it with
# find_package(y26), and checks the example detects on a fixture exactly what
# `y26 detect` reports; and, where this y26 has video, that the streaming example detects on a video what
# `y26 detect` reports frame by frame.
set -euo pipefail
BUILD="$1"; SRC="$2"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cmake --install "$BUILD" --prefix "$TMP/prefix" >/dev/null
cmake -S "$SRC/apps/example" -B "$TMP/example" -G Ninja -DCMAKE_PREFIX_PATH="$TMP/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$TMP/example" >/dev/null
MODEL="$SRC/weights/fixtures/yolo26n-rand.pt"; IMAGE="$SRC/weights/fixtures/scene-640x456.png"
"$TMP/example/embed" "$MODEL" "$IMAGE" cpu >"$TMP/embed.txt"
n_embed=$(wc -l <"$TMP/embed.txt")
n_cli=$("$TMP/prefix/bin/y26" detect -w "$MODEL" -i "$IMAGE" --no-draw --device cpu --json - 2>/dev/null | grep -c '"cls"')
echo "example: $n_embed detections, y26 detect: $n_cli"
[ "$n_embed" -gt 0 ] && [ "$n_embed" -eq "$n_cli" ]
if "$TMP/prefix/bin/y26" env | awk '/^video:/ && /FFmpeg/ { found = 1 } END { exit !found }'; then
  # a 6-frame video panning across the scene, through y26 detect's writer (conf 1: nothing drawn on it)
  python3 "$SRC/tests/support/png_frames.py" "$IMAGE" 6 |
    "$TMP/prefix/bin/y26" detect -w "$MODEL" -i - --raw 640x456@5 --conf 1 -o "$TMP/clip" --device cpu >/dev/null
  "$TMP/example/stream" "$MODEL" "$TMP/clip/stdin.mp4" "$TMP/annotated.mp4" >"$TMP/stream.txt"
  frames=$(wc -l <"$TMP/stream.txt")
  n_stream=$(awk '{ n += $5 } END { print n + 0 }' "$TMP/stream.txt")
  n_cli=$("$TMP/prefix/bin/y26" detect -w "$MODEL" -i "$TMP/clip/stdin.mp4" --no-draw --device cpu --json - 2>/dev/null | { grep -o '"cls"' || true; } | wc -l)
  n_out=$("$TMP/prefix/bin/y26" detect -w "$MODEL" -i "$TMP/annotated.mp4" --no-draw --device cpu --json - 2>/dev/null | wc -l)
  echo "stream example: $frames frames, $n_stream detections; y26 detect: $n_cli; its video: $n_out frames"
  [ "$frames" -eq 6 ] && [ "$n_stream" -eq "$n_cli" ] && [ "$n_out" -eq 6 ]
fi
