#!/usr/bin/env bash
# One command from a fresh Debian machine to detections: installs dependencies,
# builds the y26 program and runs it on the bundled fixture model and scene.
#   bash scripts/demo.sh [extra y26 detect flags, e.g. --nms or --precision fp16]
# The fixture model has seeded random weights: its boxes show that everything
# runs, not real objects. For a trained model:
#   build/y26 detect -w yolo26n.pt -i your_image.jpg
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="${Y26_CUDA_ARCHS:-90}" >/dev/null
cmake --build build --target y26_cli -j "$(nproc)"
build/y26 detect -w weights/fixtures/yolo26n-rand.pt -i weights/fixtures/scene-640x456.png -o runs/demo \
  --json runs/demo/detections.json "$@"
echo "annotated image: runs/demo/scene-640x456.png; detections: runs/demo/detections.json"
