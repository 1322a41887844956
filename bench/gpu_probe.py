#!/usr/bin/env python3
"""Measures the GPU's own limits for the roofline (bench/gpu-check.sh, never CI), through PyTorch:

  copy_gbs        a 2 GiB device-to-device copy, bytes read plus bytes written per second (1e9 B/s)
  gemm_tflops     an 8192^3 FP16 matrix product with FP32 accumulation on random data (1e12 FLOP/s)
  launch_us       one kernel in a replayed CUDA graph of 1000 dependent one-element kernels (us)

Each is the median of ten timed runs after three warm-ups, CUDA events around them.
    python3 bench/gpu_probe.py --json probe.json
"""
from __future__ import annotations

import argparse
import json
import statistics


def timed(fn, reps: int = 10, warmup: int = 3) -> float:
    import torch
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ms = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        ms.append(a.elapsed_time(b))
    return statistics.median(ms)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", required=True)
    a = ap.parse_args()
    import torch

    out = {"gpu": torch.cuda.get_device_name(0)}
    n = 2 << 30
    src, dst = torch.empty(n, dtype=torch.uint8, device="cuda"), torch.empty(n, dtype=torch.uint8, device="cuda")
    src.fill_(7)
    ms = timed(lambda: dst.copy_(src))
    out["copy_gbs"] = 2 * n / (ms * 1e-3) / 1e9
    del src, dst

    m = 8192
    x = torch.randn(m, m, device="cuda", dtype=torch.float16)
    y = torch.randn(m, m, device="cuda", dtype=torch.float16)
    ms = timed(lambda: torch.matmul(x, y))
    out["gemm_tflops"] = 2 * m ** 3 / (ms * 1e-3) / 1e12
    del x, y

    kernels = 1000
    t = torch.zeros(1, device="cuda")
    g = torch.cuda.CUDAGraph()
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            t.add_(1)
    torch.cuda.current_stream().wait_stream(s)
    with torch.cuda.graph(g):
        for _ in range(kernels):
            t.add_(1)
    ms = timed(g.replay)
    out["launch_us"] = ms * 1e3 / kernels
    print(f"probe on {out['gpu']}: copy {out['copy_gbs']:.0f} GB/s, FP16 GEMM {out['gemm_tflops']:.0f} TFLOP/s, "
          f"{out['launch_us']:.2f} us a kernel in a graph", flush=True)
    with open(a.json, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
