#!/usr/bin/env python3
"""Assembles OUTDIR/gpu-report.json and gpu-report.md from what bench/gpu-check.sh left in OUTDIR.

Every figure the issue names is a key; a figure that could not be measured is null, never made up, and the
Markdown says why.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def read(p: Path) -> str:
    return p.read_text(errors="replace") if p.exists() else ""


def load(p: Path):
    try:
        return json.loads(p.read_text())
    except Exception:
        return None


def main() -> None:
    out = Path(sys.argv[1])
    why: dict[str, str] = {}
    gpu = read(out / "gpu.txt").strip() or None
    rep = {"gpu": gpu.split(",")[0].strip() if gpu else None,
           "driver": gpu.split(",")[1].strip() if gpu and "," in gpu else None,
           "commit": read(out / "commit.txt").strip() or None}

    runs = load(out / "cuda-tests.json")  # one process per [cuda] test case (bench/gpu-check.sh)
    if runs:
        statuses = [r["status"] for r in runs]
        if all(st == "skipped" for st in statuses):  # no GPU answered: a skipped test is not a passed one
            rep["cuda_tests_passed"] = rep["cuda_tests_failed"] = None
            first = read(out / runs[0]["log"])
            why["cuda_tests_passed"] = "the [cuda] tests skipped: " + re.sub(r"\s+", " ", first.split("test skipped:")[-1])[:120]
        else:
            rep["cuda_tests_passed"] = statuses.count("passed")
            rep["cuda_tests_failed"] = len(statuses) - statuses.count("passed") - statuses.count("skipped")
            why["cuda_tests_passed"] = f"{len(runs)} [cuda] test cases, each in its own process"
            bad = [f"{r['name']} ({r['status']}, {r['log']})" for r in runs if r["status"] not in ("passed", "skipped")]
            if bad:
                why["cuda_tests_failed"] = "; ".join(bad)
    else:
        rep["cuda_tests_passed"] = rep["cuda_tests_failed"] = None
        why["cuda_tests_passed"] = "no [cuda] test ran (no test binary: see gpu-check.log)"

    errors, notes = [], []
    for name in ("sanitizer-memcheck", "sanitizer-racecheck", "sanitizer-tests-memcheck", "sanitizer-tests-racecheck"):
        t = read(out / f"{name}.txt")
        m = re.search(r"ERROR SUMMARY: (\d+) error", t) or re.search(r"RACECHECK SUMMARY: (\d+) hazard", t)
        if m:
            errors.append(int(m.group(1)))
            notes.append(f"{name}: {m.group(1)}")
        else:
            notes.append(f"{name}: " + ((t.strip().splitlines() or ["did not run"])[-1])[:80])
    # the figure counts the runs that finished; the note says which did not
    rep["sanitizer_errors"] = sum(errors) if errors else None
    why["sanitizer_errors"] = "; ".join(notes)

    parity = load(out / "y26-parity.json") or {}
    rep["parity_max_box_px"] = parity.get("max_box_px")
    rep["parity_max_score_abs"] = parity.get("max_score_abs")
    if not parity:
        why["parity_max_box_px"] = "no GPU detections to compare (see gpu-check.log)"

    b1, b64 = load(out / "y26-bench-b1.json"), load(out / "y26-bench-b64.json")
    # Latency as the issue defines it: pre-processing to detections on the device (CUDA events from the pixels'
    # upload to the detections' download, graph replay); the whole detect() call's wall clock beside it.
    # Throughput: what a caller gets, wall clock per detect() of 64 images (host copies included).
    rep["latency_b1_ms_median"] = b1.get("device_ms_median") if b1 else None
    rep["wall_latency_b1_ms_median"] = b1.get("latency_ms_median") if b1 else None
    rep["throughput_b64_img_s"] = b64.get("images_per_s") if b64 else None
    rep["device_throughput_b64_img_s"] = (64000.0 / b64["device_ms_median"]) if b64 and b64.get("device_ms_median") else None
    b64e2 = load(out / "y26-bench-b64-e2.json")
    rep["throughput_b64_2engines_img_s"] = b64e2.get("images_per_s") if b64e2 else None
    if b64e2:
        why["throughput_b64_2engines_img_s"] = "two engines sharing the weights (Engine::share) on two host threads, wall clock"
    if b1:
        why["latency_b1_ms_median"] = "device time, upload to download (CUDA events)"
        why["wall_latency_b1_ms_median"] = "whole detect() call: host copy into pinned memory, upload, run, download, box mapping"
    if b64:
        why["throughput_b64_img_s"] = "wall clock per detect() of 64 images"
        why["device_throughput_b64_img_s"] = "64 / device time of one batch-64 run"
    if not b1:
        why["latency_b1_ms_median"] = "y26 bench --device cuda: " + (read(out / "y26-bench-b1.err").strip().splitlines() or ["failed"])[-1]
    rep["engine_device_bytes_b1"] = b1.get("engine_device_bytes") if b1 else None
    rep["process_device_bytes_b1"] = b1.get("process_device_bytes") if b1 else None

    plan = load(out / "y26-plan-b1.json")
    rep["planned_bytes_b1"] = plan.get("total_bytes") if plan else None

    c1, c64 = load(out / "y26-cudnn-b1.json"), load(out / "y26-cudnn-b64.json")
    if b64 and c64 and b64.get("conv_total_ms") and c64.get("conv_total_ms"):
        # the same convolution ops timed one by one with CUDA events: ours / cuDNN's (+ y26's epilogue)
        rep["conv_time_ratio_vs_cudnn"] = b64["conv_total_ms"] / c64["conv_total_ms"]
        why["conv_time_ratio_vs_cudnn"] = (f"batch 64, all convolutions timed op by op: {b64['conv_total_ms']:.3f} ms ours vs "
                                           f"{c64['conv_total_ms']:.3f} ms cuDNN"
                                           + (f"; batch 1: {b1['conv_total_ms']:.3f} vs {c1['conv_total_ms']:.3f} ms" if b1 and c1 and b1.get('conv_total_ms') and c1.get('conv_total_ms') else ""))
    elif b64 and c64:
        # whole-network inference time, ours / cuDNN convolutions (everything but the convolutions identical)
        rep["conv_time_ratio_vs_cudnn"] = b64["inference_ms_median"] / c64["inference_ms_median"]
        why["conv_time_ratio_vs_cudnn"] = (f"batch 64 network inference {b64['inference_ms_median']:.3f} ms vs "
                                           f"{c64['inference_ms_median']:.3f} ms with cuDNN convolutions"
                                           + (f"; batch 1: {b1['inference_ms_median']:.3f} vs {c1['inference_ms_median']:.3f} ms" if b1 and c1 else ""))
    else:
        rep["conv_time_ratio_vs_cudnn"] = None
        why["conv_time_ratio_vs_cudnn"] = "the cuDNN baseline did not run: " + (read(out / "y26-cudnn-b64.err").strip().splitlines() or ["see log"])[-1]

    # GPU vs CPU FP32 detections on the scene (the [cuda] e2e test holds the GPU to the CPU FP16 oracle; this is the report's figure)
    dg, dc = load(out / "y26-detect-cuda.json"), load(out / "y26-detect-cpu.json")
    if dg and dc and not parity:
        box = score = 0.0
        matched = 0
        ref = dc[0]["detections"]
        used = set()
        for e in ref:
            for i, g in enumerate(dg[0]["detections"]):
                if i in used or g["cls"] != e["cls"]:
                    continue
                db = max(abs(a - b) for a, b in zip(g["box"], e["box"]))
                ds = abs(g["score"] - e["score"])
                if db <= 1.0 and ds <= 0.01:
                    used.add(i)
                    matched += 1
                    box, score = max(box, db), max(score, ds)
                    break
        rep["parity_max_box_px"], rep["parity_max_score_abs"] = box, score
        why["parity_max_box_px"] = f"GPU FP16 vs CPU FP32 on the scene: {matched}/{len(ref)} detections matched within 1 px and 0.01"


    # graph replay vs kernels launched one by one on the streams: bit-identical detections
    dn = load(out / "y26-detect-cuda-nograph.json")
    rep["launch_modes_identical"] = (dg == dn) if dg is not None and dn is not None else None
    if dg is None or dn is None:
        why["launch_modes_identical"] = "a y26 detect --device cuda run failed (see gpu-check.log)"
    else:
        why["launch_modes_identical"] = "detections with CUDA graph replay == with Y26_CUDA_GRAPHS=0 (streams, no graph)"

    # programmatic dependent launch (Y26_PDL=1, opt-in until measured here)
    bp, dp = load(out / "y26-bench-b1-pdl.json"), load(out / "y26-detect-cuda-pdl.json")
    rep["latency_b1_ms_median_pdl"] = bp.get("device_ms_median") if bp else None
    rep["pdl_detections_identical"] = (dg == dp) if dg is not None and dp is not None else None
    why["latency_b1_ms_median_pdl"] = ("Y26_PDL=1: device time, upload to download" if bp else
                                       "y26 bench with Y26_PDL=1 failed: " + (read(out / "y26-bench-b1-pdl.err").strip().splitlines() or ["see log"])[-1])

    t = read(out / "cuda-tests-pdl.txt")
    if "test skipped" in t or not t:
        rep["cuda_tests_pdl_passed"] = None
        why["cuda_tests_pdl_passed"] = "did not run on a GPU" if t else "not run"
    else:
        rep["cuda_tests_pdl_passed"] = "exit code 0" in t
        why["cuda_tests_pdl_passed"] = "every [cuda] test with Y26_PDL=1: " + " ".join(t.strip().splitlines()[-3:])[:160]

    torch = load(out / "torch-baseline.json")
    rep["torch_latency_b1_ms_median"] = rep["torch_max_allocated_bytes_b1"] = None
    rep["torch_runs"] = torch.get("runs") if torch else None
    if torch:
        for r in torch["runs"]:
            if r["precision"] == "fp16" and r["batch"] == 1:
                rep["torch_latency_b1_ms_median"] = r["latency_ms_median"]
                rep["torch_max_allocated_bytes_b1"] = r["max_memory_allocated_bytes"]
    else:
        why["torch_latency_b1_ms_median"] = "the PyTorch baseline did not run (see gpu-check.log)"

    (out / "gpu-report.json").write_text(json.dumps(rep, indent=1) + "\n")
    lines = [f"# y26 GPU check — {rep['gpu']} (driver {rep['driver']}), commit {rep['commit']}", "",
             "| figure | value | note |", "|---|---|---|"]
    for k, v in rep.items():
        if k in ("gpu", "driver", "commit", "torch_runs"):
            continue
        lines.append(f"| {k} | {'null' if v is None else v} | {why.get(k, '')} |")
    if torch:
        lines += ["", f"PyTorch {torch.get('torch')} / Ultralytics on {torch.get('gpu')}, {torch.get('imgsz')}x{torch.get('imgsz')}, fused model forward:", "",
                  "| precision | batch | median ms | p90 ms | images/s | max_memory_allocated MiB | process MiB (nvidia-smi) |",
                  "|---|---|---|---|---|---|---|"]
        for r in torch["runs"]:
            proc = "n/a" if r["process_device_bytes"] is None else f"{r['process_device_bytes'] / 2**20:.0f}"
            lines.append(f"| {r['precision']} | {r['batch']} | {r['latency_ms_median']:.3f} | {r['latency_ms_p90']:.3f} | "
                         f"{r['images_per_s']:.0f} | {r['max_memory_allocated_bytes'] / 2**20:.1f} | {proc} |")
    for name, run in (("y26 batch 1", b1), ("y26 batch 64", b64), ("cuDNN convolutions, batch 1", c1)):
        if run and run.get("ops"):
            top = sorted(run["ops"], key=lambda o: -o["ms"])[:15]
            lines += ["", f"Slowest ops, {name} (op by op, CUDA events; total {run['ops_total_ms']:.3f} ms):", "",
                      "| ms | kind | op | what, how |", "|---|---|---|---|"]
            lines += [f"| {o['ms']:.4f} | {o['kind']} | {o['name']} | {o.get('detail', '')} |" for o in top]
    (out / "gpu-report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
