#!/usr/bin/env python3
"""The peers y26 is measured against on the GPU, same checkpoint, 640x640 (bench/gpu-check.sh; never CI).

--mode eager     Ultralytics' fused model in PyTorch eager, FP32 and FP16, batch 1 and 64: the forward
                 (end-to-end head, top-k included) timed with CUDA events after warm-up.
--mode compile   the same FP16 model through torch.compile(mode="max-autotune") (Inductor, Triton
                 autotuning, CUDA graphs), batch 1 and 64, timed the same way; the compile time beside it.
--mode predict   one row of the article's memory table: YOLO(model).predict on the scene, FP32 or FP16
                 (--precision), stream=True, nothing saved or shown, on 32 images.
Every mode records the process's device memory (NVML, else nvidia-smi; null where neither lists processes)
and torch.cuda.max_memory_allocated. Each mode runs in its own process so that its memory is its own.
--device cpu rehearses a mode without a GPU (host timers, no device memory): bench/gpu-rehearse.sh does.
    python3 bench/torch_baseline.py --mode eager --model weights/fixtures/yolo26n-rand.pt --json out.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time


def process_device_bytes() -> int | None:
    """This process's device memory, as the driver reports it (what nvidia-smi shows per process)."""
    try:
        import pynvml  # nvidia-ml-py
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        for p in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
            if p.pid == os.getpid() and p.usedGpuMemory:
                return int(p.usedGpuMemory)
    except Exception:
        pass
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


def time_forward(model, x, warmup: int, iters: int) -> list[float]:
    import torch
    cuda = x.is_cuda
    times = []
    with torch.inference_mode():
        for i in range(warmup + iters):
            if cuda:
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                model(x)
                end.record()
                torch.cuda.synchronize()
                ms = start.elapsed_time(end)
            else:
                t0 = time.perf_counter()
                model(x)
                ms = (time.perf_counter() - t0) * 1e3
            if i >= warmup:
                times.append(ms)
    return sorted(times)


def max_allocated() -> int | None:
    import torch
    return torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None


def run_row(name: str, precision: str, batch: int, times: list[float], **extra) -> dict:
    import torch
    median = statistics.median(times)
    row = {"name": name, "precision": precision, "batch": batch, "latency_ms_median": median,
           "latency_ms_p90": times[int(0.9 * (len(times) - 1))], "images_per_s": 1000.0 * batch / median,
           "max_memory_allocated_bytes": max_allocated(), "process_device_bytes": process_device_bytes(), **extra}
    print(f"{name} {precision} batch {batch}: median {median:.3f} ms, {row['images_per_s']:.0f} img/s, "
          f"max_memory_allocated {row['max_memory_allocated_bytes']} B, process {row['process_device_bytes']} B", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=("eager", "compile", "predict"), default="eager")
    ap.add_argument("--model", required=True)
    ap.add_argument("--image", help="predict mode: the image to predict on")
    ap.add_argument("--precision", choices=("fp32", "fp16"), default="fp16")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--json", required=True)
    a = ap.parse_args()

    import torch
    from ultralytics import YOLO

    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    if not cuda and a.precision == "fp16" and a.mode == "predict":
        a.precision = "fp32"  # Ultralytics predicts FP16 on a GPU only
    results = {"mode": a.mode, "model": a.model, "imgsz": a.imgsz, "gpu": torch.cuda.get_device_name(0) if cuda else "cpu",
               "torch": torch.__version__, "runs": []}

    def save() -> None:  # after every row: a run cut short by its time limit keeps what it measured
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)

    if a.mode == "predict":
        model = YOLO(a.model)
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        n = 0
        for _ in model.predict([a.image] * 32, imgsz=a.imgsz, half=a.precision == "fp16", device=0 if cuda else "cpu", stream=True,
                               save=False, show=False, verbose=False):
            n += 1
        wall = time.perf_counter() - t0
        results["runs"].append({"name": "predict", "precision": a.precision, "batch": 1, "images": n, "wall_s": wall,
                                "max_memory_allocated_bytes": max_allocated(),
                                "process_device_bytes": process_device_bytes()})
        print(f"predict {a.precision}: {n} images in {wall:.2f} s, process {results['runs'][-1]['process_device_bytes']} B",
              flush=True)
        save()
        return

    base = YOLO(a.model).model.float().eval().fuse()
    precisions = ("fp32", "fp16") if a.mode == "eager" else ("fp16",)
    if not cuda:
        precisions = ("fp32",)  # a rehearsal: PyTorch's CPU kernels are FP32
    for precision in precisions:
        model = (base.half() if precision == "fp16" else base.float()).to(dev)
        if a.mode == "compile":
            import torch._dynamo
            torch._dynamo.config.cache_size_limit = 16  # one graph per batch size
            model = torch.compile(model, mode="max-autotune")
        for batch in (int(b) for b in a.batches.split(",")):
            if cuda:
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            x = torch.rand(batch, 3, a.imgsz, a.imgsz, device=dev)
            x = x.half() if precision == "fp16" else x
            extra = {}
            if a.mode == "compile":  # the first calls compile and autotune for this shape
                t0 = time.perf_counter()
                with torch.inference_mode():
                    model(x)
                if cuda:
                    torch.cuda.synchronize()
                extra["compile_s"] = time.perf_counter() - t0
            name = "torch.compile max-autotune" if a.mode == "compile" else "torch eager"
            results["runs"].append(run_row(name, precision, batch, time_forward(model, x, a.warmup, a.iters), **extra))
            save()
        if a.mode == "eager":
            base.float()
    save()


if __name__ == "__main__":
    main()
