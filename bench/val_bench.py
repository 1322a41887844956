#!/usr/bin/env python3
"""`y26 val` against `yolo val` (the pinned Ultralytics, weights/requirements-goldens.txt) in the same run: the same
model, dataset, split, imgsz, batch and device, each timed from start to metrics (model loading included) and by
its own per-image speed line, and their metrics side by side.

    python3 bench/val_bench.py --y26 build/y26 --model weights/fixtures/yolo26n-shapes.pt \
        --data weights/fixtures/shapes-val/data.yaml --device cpu --json out.json

PyTorch and Ultralytics are tools for this comparison only, never y26's dependencies. Without them the
Ultralytics side is null with the reason. --device cuda runs y26 in FP16 and Ultralytics with half=True.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_y26(a) -> dict:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "val.json"
        cmd = [a.y26, "val", "-w", a.model, "--data", a.data, "--split", a.split, "--imgsz", str(a.imgsz),
               "--batch", str(a.batch), "--device", a.device, "--json", str(out)] + (["--nms"] if a.nms else [])
        best = None
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True)
            secs = time.perf_counter() - t0
            if p.returncode != 0:
                return {"error": (p.stderr.strip().splitlines() or ["exit code %d" % p.returncode])[-1]}
            best = secs if best is None else min(best, secs)
        j = json.loads(out.read_text())
    return {"seconds": best, "speed_ms": j["speed_ms"], "device": j["device"], "images": j["images"],
            **{k: j[k] for k in ("precision", "recall", "map50", "map50_95")}}


def run_ultralytics(a) -> dict:
    try:
        from ultralytics import YOLO
    except Exception as e:  # noqa: BLE001 - any import failure is the reason
        return {"error": f"{type(e).__name__}: {e}"}
    best, m = None, None
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        m = YOLO(a.model).val(data=a.data, split=a.split, imgsz=a.imgsz, batch=a.batch, device=a.device,
                              half=a.device != "cpu", nms=a.nms, plots=False, verbose=False)
        secs = time.perf_counter() - t0
        best = secs if best is None else min(best, secs)
    import ultralytics
    return {"seconds": best, "speed_ms": {k: float(v) for k, v in m.speed.items()}, "version": ultralytics.__version__,
            "precision": float(m.box.mp), "recall": float(m.box.mr), "map50": float(m.box.map50),
            "map50_95": float(m.box.map)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--y26", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="val")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--device", default="cpu")
    # yolo val with nms unset runs the one-to-many head with NMS (as predict does); both get it explicitly
    ap.add_argument("--nms", action="store_true", help="the NMS head in both (default: the NMS-free head)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest counts")
    ap.add_argument("--json")
    a = ap.parse_args()
    y, u = run_y26(a), run_ultralytics(a)
    res = {"model": a.model, "data": a.data, "split": a.split, "imgsz": a.imgsz, "batch": a.batch, "device": a.device,
           "head": "nms" if a.nms else "end2end",
           "y26": y, "ultralytics": u,
           "wall_speedup": u["seconds"] / y["seconds"] if "seconds" in u and "seconds" in y else None,
           "inference_speedup": (u["speed_ms"]["inference"] / y["speed_ms"]["inference"]
                                 if "speed_ms" in u and "speed_ms" in y and y["speed_ms"]["inference"] else None),
           "map50_95_delta": y["map50_95"] - u["map50_95"] if "map50_95" in u and "map50_95" in y else None}
    text = json.dumps(res, indent=1)
    print(text)
    if a.json:
        Path(a.json).write_text(text + "\n")
    sys.exit(0 if "error" not in y else 1)


if __name__ == "__main__":
    main()
