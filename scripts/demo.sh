#!/usr/bin/env bash
# One command from a fresh Debian machine to detections: installs dependencies, builds the y26 program and
# runs it with the bundled trained model (YOLO26n trained on weights/make_shapes.py's synthetic shapes) on
# three held-out images, then validates it on the 150 bundled test images as `yolo val` would.
#   bash scripts/demo.sh [extra y26 detect flags, e.g. --nms or --precision fp16]
# For a model trained on COCO:  build/y26 detect -w yolo26n.pt -i your_image.jpg
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="${Y26_CUDA_ARCHS:-90}" >/dev/null
cmake --build build --target y26_cli -j "$(nproc)"
V=weights/fixtures/shapes-val
build/y26 detect -w weights/fixtures/yolo26n-shapes.pt -i $V/images/00000.jpg $V/images/00001.jpg \
  $V/images/00002.jpg -o runs/demo --json runs/demo/detections.json "$@"
build/y26 val -w weights/fixtures/yolo26n-shapes.pt --data $V/data.yaml  # imgsz 320: the model's training size
echo "annotated images: runs/demo/0000{0,1,2}.jpg; detections: runs/demo/detections.json"
