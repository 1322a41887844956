#!/usr/bin/env python3
"""The baseline users have today: Ultralytics/PyTorch on the GPU, same checkpoint, 640x640.

Run by bench/gpu-check.sh on a GPU machine (never by CI). For each precision (fp32, fp16) and batch (1, 64):
median and p90 latency of the fused model's forward (end-to-end head, top-k included) timed with CUDA events
after warm-up, images/s, torch.cuda.max_memory_allocated, and the process's device memory as nvidia-smi
reports it (null where the runtime does not list processes).
    python3 bench/torch_baseline.py --model weights/fixtures/yolo26n-rand.pt --json out.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess


def nvidia_smi_process_bytes() -> int | None:
    try:
        out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=20).stdout
    except Exception:
        return None
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0] == str(os.getpid()) and parts[1].isdigit():
            return int(parts[1]) * 1024 * 1024
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--json")
    a = ap.parse_args()

    import torch
    from ultralytics import YOLO

    dev = torch.device("cuda")
    results = {"model": a.model, "imgsz": a.imgsz, "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
               "runs": []}
    base = YOLO(a.model).model.float().eval().fuse()
    for precision in ("fp32", "fp16"):
        model = (base.half() if precision == "fp16" else base.float()).to(dev)
        for batch in (int(b) for b in a.batches.split(",")):
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            x = torch.rand(batch, 3, a.imgsz, a.imgsz, device=dev)
            x = x.half() if precision == "fp16" else x
            times = []
            with torch.inference_mode():
                for i in range(a.warmup + a.iters):
                    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    start.record()
                    model(x)
                    end.record()
                    torch.cuda.synchronize()
                    if i >= a.warmup:
                        times.append(start.elapsed_time(end))
            times.sort()
            median = statistics.median(times)
            run = {"precision": precision, "batch": batch, "latency_ms_median": median,
                   "latency_ms_p90": times[int(0.9 * (len(times) - 1))], "images_per_s": 1000.0 * batch / median,
                   "max_memory_allocated_bytes": torch.cuda.max_memory_allocated(),
                   "process_device_bytes": nvidia_smi_process_bytes()}
            results["runs"].append(run)
            print(f"torch {precision} batch {batch}: median {median:.3f} ms, {run['images_per_s']:.0f} img/s, "
                  f"max_memory_allocated {run['max_memory_allocated_bytes'] / 2**20:.1f} MiB, "
                  f"process {run['process_device_bytes']} B", flush=True)
        model.float()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
