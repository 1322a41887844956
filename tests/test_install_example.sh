#!/usr/bin/env bash
# Installs y26 into a temporary prefix, builds apps/example against it with
# find_package(y26), and checks the example detects on a fixture exactly what
# `y26 detect` reports.
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
