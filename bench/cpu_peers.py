#!/usr/bin/env python3
"""CPU comparison: y26 vs PyTorch (Ultralytics) vs ONNX Runtime on the same model, input size and threads.

A developer tool (needs the throwaway venv of weights/README.md plus onnxruntime); never run by CI.
    python bench/cpu_peers.py --model weights/fixtures/yolo26n-rand.pt --y26 build/y26 --threads 2
Prints a Markdown table and writes --json. All runs happen in this one process tree, one after another,
so the ratios compare like with like; absolute numbers depend on the machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def timed(fn, iters: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def summary(ms: list[float]) -> dict:
    s = sorted(ms)
    return {"median_ms": statistics.median(s), "p90_ms": s[min(len(s) - 1, int(0.9 * (len(s) - 1) + 0.5))]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--y26", default="build/y26")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()

    import numpy as np
    import torch
    from ultralytics import YOLO

    torch.set_num_threads(a.threads)
    results = {"model": a.model, "imgsz": a.imgsz, "threads": a.threads, "iters": a.iters}

    # y26 first: its own benchmark program (detect() = letterbox + inference + top-k).
    y = json.loads(subprocess.run([a.y26, "bench", "-w", a.model, "--imgsz", str(a.imgsz), "--iters", str(a.iters),
                                   "--warmup", str(a.warmup), "--device", "cpu", "--threads", str(a.threads), "--json", "-"],
                                  check=True, capture_output=True, text=True).stdout)
    results["y26"] = {"median_ms": y["latency_ms_median"], "p90_ms": y["latency_ms_p90"], "inference_median_ms": y["inference_ms_median"]}

    # PyTorch: the fused Ultralytics model's forward (end-to-end head, top-k inside), FP32.
    model = YOLO(a.model).model.float().eval().fuse()
    x = torch.rand(1, 3, a.imgsz, a.imgsz)
    with torch.inference_mode():
        results["pytorch"] = summary(timed(lambda: model(x), a.iters, a.warmup))
    results["versions"] = {"torch": torch.__version__}

    # ONNX Runtime: the Ultralytics ONNX export of the same checkpoint.
    try:
        import onnxruntime as ort
        with tempfile.TemporaryDirectory() as d:
            pt = Path(d) / Path(a.model).name
            pt.write_bytes(Path(a.model).read_bytes())
            onnx_path = YOLO(str(pt)).export(format="onnx", imgsz=a.imgsz, simplify=False, verbose=False)
            so = ort.SessionOptions()
            so.intra_op_num_threads = a.threads
            so.inter_op_num_threads = 1
            sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
            feed = {sess.get_inputs()[0].name: x.numpy()}
            results["onnxruntime"] = summary(timed(lambda: sess.run(None, feed), a.iters, a.warmup))
            results["versions"]["onnxruntime"] = ort.__version__
    except Exception as e:  # report, do not hide: the table says why the column is missing
        results["onnxruntime"] = {"error": str(e).splitlines()[0]}

    y26_inf = results["y26"]["inference_median_ms"]
    print(f"| runtime | median ms | p90 ms | y26 inference / this |")
    print(f"|---|---|---|---|")
    print(f"| y26 (detect: letterbox + inference + top-k) | {results['y26']['median_ms']:.1f} | {results['y26']['p90_ms']:.1f} | |")
    print(f"| y26 inference only | {y26_inf:.1f} | | 1.00 |")
    for k in ("pytorch", "onnxruntime"):
        r = results[k]
        if "error" in r:
            print(f"| {k} | n/a ({r['error']}) | | |")
        else:
            r["y26_inference_ratio"] = y26_inf / r["median_ms"]
            print(f"| {k} (forward) | {r['median_ms']:.1f} | {r['p90_ms']:.1f} | {r['y26_inference_ratio']:.2f} |")
    if a.json:
        a.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
