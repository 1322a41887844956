#!/usr/bin/env python3
"""CPU comparison: y26 (fast and reference kernels) vs ONNX Runtime, OpenVINO and PyTorch, same model, size,
batch and threads, same run.

A developer tool (needs the throwaway venv of weights/README.md plus onnx, onnxruntime and openvino from PyPI);
never run by CI:
    python bench/cpu_peers.py --model weights/fixtures/yolo26n-rand.pt --y26 build/y26 --threads 2 \\
        --batches 1 8 --reps 7 --json docs/benchmarks/cpu-peers.json

Interleaved: each repetition times every runtime once (y26 in its own `y26 bench` process, the peers in this
one, all their sessions made before the first repetition), so drift of a shared machine reaches every runtime
alike. Per repetition a runtime's median over --iters calls; reported is the median over repetitions and the
spread (min..max of the repetition medians).

What is timed: for the peers, one forward call of the Ultralytics ONNX export (network and box decoding; its
output is (batch, 4 + nc, anchors): the export does no top-k), the input already a float tensor. For y26,
`inference + postprocess` of `y26 bench` (network and the one-to-one head's top-k selection: more work than
the peers do) is the compared figure; its network alone is reported beside it (`y26-fast network`). Its
`latency` adds letterboxing from 8-bit pixels, which the peers are not asked to do. Besides the median of each
runtime's repetition medians, the table gives the median over repetitions of y26's time / the peer's time in
the same repetition, which a shared machine's drift disturbs less.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(fn, iters: int, warmup: int) -> float:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def y26_bench(a, batch: int, kernels: str) -> tuple[float, float]:
    """(inference + postprocess, inference) medians in ms."""
    cmd = [a.y26, "bench", "-w", a.model, "--imgsz", str(a.imgsz), "--batch", str(batch), "--iters", str(a.iters),
           "--warmup", str(a.warmup), "--device", "cpu", "--threads", str(a.threads), "--kernels", kernels,
           "--json", "-"]
    y = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return y["inference_ms_median"] + y.get("postprocess_ms_median", 0.0), y["inference_ms_median"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--y26", default="build/y26")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--skip", nargs="*", default=[], help="runtimes to leave out (pytorch, openvino, ...)")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds of idle before each runtime's turn")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    a.reps = max(a.reps, 1)

    import numpy as np
    import torch
    from ultralytics import YOLO

    torch.set_num_threads(a.threads)
    tmp = Path(tempfile.mkdtemp(prefix="y26-peers-"))
    pt = tmp / Path(a.model).name
    pt.write_bytes(Path(a.model).read_bytes())

    # Every runtime's callable per batch, made once before timing starts.
    runners: dict[str, dict[int, object]] = {}
    versions = {"torch": torch.__version__}
    errors: dict[str, str] = {}
    model = YOLO(str(pt)).model.float().eval().fuse()
    inputs = {b: torch.rand(b, 3, a.imgsz, a.imgsz) for b in a.batches}
    if "pytorch" not in a.skip:
        def torch_runner(x):
            def run():
                with torch.inference_mode():
                    model(x)
            return run
        runners["pytorch"] = {b: torch_runner(inputs[b]) for b in a.batches}
    onnx_paths = {}
    for b in a.batches:
        out = YOLO(str(pt)).export(format="onnx", imgsz=a.imgsz, batch=b, simplify=False, verbose=False)
        onnx_paths[b] = tmp / f"b{b}.onnx"
        Path(out).rename(onnx_paths[b])
    if "onnxruntime" not in a.skip:
        try:
            import onnxruntime as ort
            so = ort.SessionOptions()
            so.intra_op_num_threads = a.threads
            so.inter_op_num_threads = 1
            runners["onnxruntime"] = {}
            for b in a.batches:
                sess = ort.InferenceSession(str(onnx_paths[b]), so, providers=["CPUExecutionProvider"])
                feed = {sess.get_inputs()[0].name: inputs[b].numpy()}
                runners["onnxruntime"][b] = (lambda s, f: lambda: s.run(None, f))(sess, feed)
            versions["onnxruntime"] = ort.__version__
        except Exception as e:  # report, do not hide: the table says why the column is missing
            errors["onnxruntime"] = str(e).splitlines()[0]
            runners.pop("onnxruntime", None)
    if "openvino" not in a.skip:
        try:
            import openvino as ov
            core = ov.Core()
            runners["openvino"] = {}
            for b in a.batches:
                compiled = core.compile_model(str(onnx_paths[b]), "CPU",
                                              {"INFERENCE_NUM_THREADS": a.threads, "PERFORMANCE_HINT": "LATENCY",
                                               "INFERENCE_PRECISION_HINT": "f32"})
                req = compiled.create_infer_request()
                x = inputs[b].numpy()
                runners["openvino"][b] = (lambda r, x: lambda: r.infer({0: x}))(req, x)
            versions["openvino"] = ov.__version__ if hasattr(ov, "__version__") else ov.get_version()
        except Exception as e:
            errors["openvino"] = str(e).splitlines()[0]
            runners.pop("openvino", None)

    names = ["y26-fast", "y26-reference"] + list(runners)
    samples = {n: {b: [] for b in a.batches} for n in names + ["y26-fast network"]}
    for rep in range(a.reps):
        for b in a.batches:
            for n in names:
                # Let the last runtime's threads go idle first (ONNX Runtime's and OpenMP's spin a while
                # after a call): measured, they took ~15% from the next runtime's first calls.
                time.sleep(a.settle)
                if n.startswith("y26-"):
                    total, network = y26_bench(a, b, n[4:])
                    samples[n][b].append(total)
                    if n == "y26-fast":
                        samples["y26-fast network"][b].append(network)
                else:
                    samples[n][b].append(timed(runners[n][b], a.iters, a.warmup))
        print(f"repetition {rep + 1}/{a.reps} done", flush=True)

    results = {"model": a.model, "imgsz": a.imgsz, "threads": a.threads, "reps": a.reps, "iters": a.iters,
               "cpu": cpu_model(), "cores": os.cpu_count(), "versions": versions, "errors": errors, "runs": {}}
    names.insert(1, "y26-fast network")
    for n in names:
        results["runs"][n] = {}
        for b in a.batches:
            s = samples[n][b]
            results["runs"][n][str(b)] = {"median_ms": statistics.median(s), "min_ms": min(s), "max_ms": max(s),
                                          "images_per_s": 1000.0 * b / statistics.median(s), "rep_medians_ms": s}
    print(f"\n{results['cpu']}, {a.threads} threads, {a.imgsz}x{a.imgsz}, {a.reps} interleaved repetitions of "
          f"{a.iters} calls (median of medians, spread min..max)\n")
    print("| runtime | batch | ms per call | spread | images/s | y26 fast / this | same repetition |")
    print("|---|---|---|---|---|---|---|")
    for b in a.batches:
        fast = results["runs"]["y26-fast"][str(b)]
        for n in names:
            r = results["runs"][n][str(b)]
            r["y26_fast_ratio"] = fast["median_ms"] / r["median_ms"]
            r["y26_fast_ratio_per_rep"] = statistics.median(
                y / t for y, t in zip(fast["rep_medians_ms"], r["rep_medians_ms"]))
            print(f"| {n} | {b} | {r['median_ms']:.1f} | {r['min_ms']:.1f}..{r['max_ms']:.1f} | "
                  f"{r['images_per_s']:.1f} | {r['y26_fast_ratio']:.2f} | {r['y26_fast_ratio_per_rep']:.2f} |")
    for n, e in errors.items():
        print(f"| {n} | | n/a ({e}) | | | | |")
    if a.json:
        a.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
