#!/usr/bin/env python3
"""Trains YOLO26n from its YAML (no pretrained weights) on weights/make_shapes.py's dataset, on the CPU, with
the pinned Ultralytics (weights/requirements-goldens.txt), and records its metrics.

    python3 weights/make_shapes.py --out ../shapes
    python3 weights/train_shapes.py --data ../shapes/data.yaml --project ../train [--epochs 30] [--imgsz 320]
    python3 weights/train_shapes.py --data ../shapes/data.yaml --project ../train --resume   # after a stop

The best checkpoint is Ultralytics' own file (runs/.../weights/best.pt, every field a trained checkpoint
carries); --install copies it to weights/fixtures/yolo26n-shapes.pt and writes yolo26n-shapes.metrics.json
beside it: `yolo val` on the val and test splits, with the NMS-free head and with NMS.
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path


def validate(weights: Path, data: str, imgsz: int) -> dict:
    from ultralytics import YOLO
    out = {}
    for split in ("val", "test"):
        for head, nms in (("end2end", False), ("nms", True)):
            m = YOLO(str(weights)).val(data=data, split=split, imgsz=imgsz, batch=16, device="cpu", nms=nms, plots=False,
                                       verbose=False)
            out[f"{split}.{head}"] = {"precision": float(m.box.mp), "recall": float(m.box.mr), "map50": float(m.box.map50),
                                      "map50_95": float(m.box.map), "per_class_map50_95": [float(v) for v in m.box.maps]}
            print(f"{split} {head}: mAP50 {m.box.map50:.4f}, mAP50-95 {m.box.map:.4f}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--project", required=True, type=Path)
    ap.add_argument("--name", default="yolo26n-shapes")
    ap.add_argument("--epochs", type=int, default=30)  # the committed fixture: 30 epochs, about 70 min on 2 cores
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--install", action="store_true", help="copy best.pt into weights/fixtures with its metrics")
    a = ap.parse_args()
    from ultralytics import YOLO

    run = a.project / a.name
    t0 = time.time()
    if not a.install:
        if a.resume:
            YOLO(str(run / "weights" / "last.pt")).train(resume=True)
        else:
            YOLO("yolo26n.yaml").train(data=a.data, epochs=a.epochs, imgsz=a.imgsz, batch=a.batch, device="cpu", workers=2,
                                       seed=0, deterministic=True, pretrained=False, amp=False, plots=False, cache="ram",
                                       project=str(a.project), name=a.name, exist_ok=True, patience=30)
        print(f"training took {(time.time() - t0) / 3600:.2f} h", flush=True)
    best = run / "weights" / "best.pt"
    fixtures = Path(__file__).resolve().parent / "fixtures"
    metrics = {"imgsz": a.imgsz, "data": a.data, "metrics": validate(best, a.data, a.imgsz)}
    if a.install:
        shutil.copyfile(best, fixtures / "yolo26n-shapes.pt")
        (fixtures / "yolo26n-shapes.metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
        print(f"installed {fixtures / 'yolo26n-shapes.pt'} ({best.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
