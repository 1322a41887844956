#!/usr/bin/env python3
"""Assembles OUTDIR/gpu-report.json and gpu-report.md from what bench/gpu-check.sh left in OUTDIR.

Every key of KEYS is in the JSON, always; a figure that could not be measured is null, never made up, and
"why" (in the JSON and the Markdown) says why. bench/gpu-rehearse.sh checks that, without a GPU.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# The report's figures, in the order the Markdown lists them (docs/gpu-check.md defines each).
KEYS = [
    "gpu", "driver", "commit", "build", "cuda", "cudnn_library",
    "cuda_tests_passed", "cuda_tests_failed", "cuda_tests_pdl_passed", "sanitizer_errors",
    "parity_max_box_px", "parity_max_score_abs", "launch_modes_identical", "pdl_detections_identical",
    "latency_b1_ms_median", "wall_latency_b1_ms_median", "latency_b1_ms_median_pdl", "throughput_b64_img_s",
    "device_throughput_b64_img_s", "throughput_b64_2engines_img_s", "ops_total_over_run_b1",
    "conv_time_ratio_vs_cudnn_best_layer", "conv_time_ratio_vs_cudnn_conv_alone", "cudnn_paths",
    "torch_eager_fp32_latency_b1_ms", "torch_eager_fp16_latency_b1_ms", "torch_compile_fp16_latency_b1_ms",
    "torch_eager_fp16_throughput_b64_img_s", "torch_compile_fp16_throughput_b64_img_s", "torch_compile_s",
    "speedup_b1_vs_torch_eager_fp16", "speedup_b1_vs_torch_compile_fp16", "speedup_b64_vs_torch_eager_fp16",
    "speedup_b64_vs_torch_compile_fp16", "tensorrt_latency_b1_ms", "published_tensorrt_t4_latency_b1_ms",
    "probe_copy_gbs", "probe_gemm_tflops", "probe_launch_us", "roofline_limits",
    "roofline_latency_b1_bound_ms", "roofline_throughput_b64_bound_img_s", "latency_b1_over_bound",
    "throughput_b64_bound_over_measured",
    "engine_device_bytes_b1", "process_device_bytes_b1", "y26_process_bytes", "planned_bytes_b1", "memory_table",
    "soak_passed", "soak_device_growth_bytes",
    "val_map50_95_cuda", "val_map50_95_delta_vs_goldens", "val_wall_speedup_vs_yolo_val",
    "val_inference_speedup_vs_yolo_val",
]

# The article this project started from: YOLO26n at 640 on an A10G, process GPU memory (MB).
ARTICLE = [("FP32", 10842), ("FP16", 6315), ("ONNX Runtime", 5032), ("no save/show", 4870), ("stream=True", 4620)]
# Ultralytics' published YOLO26n figure (docs/macros/yolo-det-perf.md): T4, TensorRT 10, FP16, batch 1, 640.
PUBLISHED_TRT_T4_MS = 1.7


def read(p: Path) -> str:
    return p.read_text(errors="replace") if p.exists() else ""


def load(p: Path):
    try:
        return json.loads(p.read_text())
    except Exception:
        return None


def last_line(p: Path, default: str) -> str:
    lines = [ln for ln in read(p).strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else default


def ratio(a, b):
    return a / b if a is not None and b else None


def main() -> None:
    out = Path(sys.argv[1])
    why: dict[str, str] = {}
    rep: dict = {k: None for k in KEYS}
    no_gpu = read(out / "no-gpu.txt").strip()
    gpu = read(out / "gpu.txt").strip()
    rep["gpu"] = gpu.split(",")[0].strip() if gpu else None
    rep["driver"] = gpu.split(",")[1].strip() if "," in gpu else None
    if not gpu:
        why["gpu"] = why["driver"] = no_gpu or "nvidia-smi gave nothing"
    rep["commit"] = read(out / "commit.txt").strip() or None
    rep["build"] = read(out / "build.txt").strip() or None
    if not rep["commit"]:
        why["commit"] = "no commit.txt (gpu-check.sh writes it first)"
    if not rep["build"]:
        why["build"] = "no build.txt: the build step did not run"
    env = load(out / "y26-env.json") or {}
    rep["cuda"], rep["cudnn_library"] = env.get("cuda"), env.get("cudnn")
    why["cuda"] = why["cudnn_library"] = "y26 env" if env else "y26 env did not run (the build failed?)"
    bench_err = lambda name: last_line(out / f"y26-{name}.err", "see gpu-check.log")  # noqa: E731

    # ---- tests
    runs = load(out / "cuda-tests.json")
    if runs:
        statuses = [r["status"] for r in runs]
        if all(st == "skipped" for st in statuses):  # no GPU answered: a skipped test is not a passed one
            first = read(out / runs[0]["log"])
            why["cuda_tests_passed"] = "the [cuda] tests skipped: " + first.split("test skipped:")[-1].strip().splitlines()[0][:160]
        else:
            rep["cuda_tests_passed"] = statuses.count("passed")
            rep["cuda_tests_failed"] = len(statuses) - statuses.count("passed") - statuses.count("skipped")
            why["cuda_tests_passed"] = f"{len(runs)} [cuda] test cases, each in its own process"
            bad = [f"{r['name']} ({r['status']}, {r['log']})" for r in runs if r["status"] not in ("passed", "skipped")]
            if bad:
                why["cuda_tests_failed"] = "; ".join(bad)
    else:
        why["cuda_tests_passed"] = "no [cuda] test ran (no test binary: see gpu-check.log)"
    if rep["cuda_tests_failed"] is None:
        why["cuda_tests_failed"] = why["cuda_tests_passed"]
    t = read(out / "cuda-tests-pdl.txt")
    if t and "test skipped" not in t:
        rep["cuda_tests_pdl_passed"] = "exit code 0" in t
        why["cuda_tests_pdl_passed"] = "every [cuda] test with Y26_PDL=1: " + " ".join(t.strip().splitlines()[-3:])[:160]
    else:
        why["cuda_tests_pdl_passed"] = "did not run on a GPU" if t else "not run"
    errors, notes = [], []
    for name in ("sanitizer-memcheck", "sanitizer-racecheck", "sanitizer-tests-memcheck", "sanitizer-tests-racecheck"):
        t = read(out / f"{name}.txt")
        m = re.search(r"ERROR SUMMARY: (\d+) error", t) or re.search(r"RACECHECK SUMMARY: (\d+) hazard", t)
        if m:
            errors.append(int(m.group(1)))
            notes.append(f"{name}: {m.group(1)}")
        else:
            notes.append(f"{name}: " + ((t.strip().splitlines() or ["did not run"])[-1])[:100])
    rep["sanitizer_errors"] = sum(errors) if errors else None  # counts the runs that finished; the note says which did not
    why["sanitizer_errors"] = "; ".join(notes)

    # ---- correctness on the device
    dg, dc = load(out / "y26-detect-cuda.json"), load(out / "y26-detect-cpu.json")
    if dg and dc:
        box = score = 0.0
        matched, used = 0, set()
        ref = dc[0]["detections"]
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
    else:
        why["parity_max_box_px"] = why["parity_max_score_abs"] = "no GPU detections to compare (y26 detect --device cuda failed)"
    dn, dp = load(out / "y26-detect-cuda-nograph.json"), load(out / "y26-detect-cuda-pdl.json")
    rep["launch_modes_identical"] = (dg == dn) if dg is not None and dn is not None else None
    why["launch_modes_identical"] = ("detections with CUDA graph replay == with Y26_CUDA_GRAPHS=0 (streams, no graph)"
                                     if rep["launch_modes_identical"] is not None else "a y26 detect --device cuda run failed")
    rep["pdl_detections_identical"] = (dg == dp) if dg is not None and dp is not None else None
    why["pdl_detections_identical"] = ("detections with Y26_PDL=1 == without" if rep["pdl_detections_identical"] is not None
                                       else "a y26 detect --device cuda run failed")

    # ---- y26 speed
    b1, b64 = load(out / "y26-bench-b1.json"), load(out / "y26-bench-b64.json")
    if b1:
        rep["latency_b1_ms_median"] = b1.get("device_ms_median")
        rep["wall_latency_b1_ms_median"] = b1.get("latency_ms_median")
        rep["ops_total_over_run_b1"] = b1.get("ops_total_over_run")
        rep["engine_device_bytes_b1"] = b1.get("engine_device_bytes")
        rep["process_device_bytes_b1"] = b1.get("process_device_bytes")
        why["latency_b1_ms_median"] = "device time, the first image's upload to the detections' download (CUDA events, graph replay)"
        why["wall_latency_b1_ms_median"] = "whole detect() call: host copy into pinned memory, upload, run, download, box mapping"
        why["ops_total_over_run_b1"] = "the ops timed one by one (input refilled before each pass) over the device span of a whole run"
        why["process_device_bytes_b1"] = "device memory in use while y26 ran (cudaMemGetInfo: the whole device)"
    else:
        for k in ("latency_b1_ms_median", "wall_latency_b1_ms_median", "ops_total_over_run_b1", "engine_device_bytes_b1",
                  "process_device_bytes_b1"):
            why[k] = "y26 bench --device cuda batch 1: " + bench_err("bench-b1")
    if b64:
        rep["throughput_b64_img_s"] = b64.get("images_per_s")
        rep["device_throughput_b64_img_s"] = 64000.0 / b64["device_ms_median"] if b64.get("device_ms_median") else None
        why["throughput_b64_img_s"] = "wall clock per detect() of 64 images"
        why["device_throughput_b64_img_s"] = "64 / device time of one batch-64 run"
    else:
        why["throughput_b64_img_s"] = why["device_throughput_b64_img_s"] = "y26 bench batch 64: " + bench_err("bench-b64")
    e2 = load(out / "y26-bench-b64-e2.json")
    rep["throughput_b64_2engines_img_s"] = e2.get("images_per_s") if e2 else None
    why["throughput_b64_2engines_img_s"] = ("two engines sharing the weights (Engine::share) on two host threads, wall clock" if e2
                                            else "y26 bench --engines 2: " + bench_err("bench-b64-e2"))
    bp = load(out / "y26-bench-b1-pdl.json")
    rep["latency_b1_ms_median_pdl"] = bp.get("device_ms_median") if bp else None
    why["latency_b1_ms_median_pdl"] = "Y26_PDL=1: device time, upload to download" if bp else "Y26_PDL=1 bench: " + bench_err("bench-b1-pdl")
    plan = load(out / "y26-plan-b1.json")
    rep["planned_bytes_b1"] = plan.get("total_bytes") if plan else None
    why["planned_bytes_b1"] = "y26 plan: arena + weights + workspace, batch 1" if plan else "y26 plan failed"
    if b1 and b1.get("engine_device_bytes") is not None:
        why["engine_device_bytes_b1"] = "device bytes the engine holds (weights, arena, workspaces)"

    # ---- cuDNN: ours over cuDNN's best complete layer, and over its convolution alone (op by op, batch 64)
    c64, cc64 = load(out / "y26-cudnn-b64.json"), load(out / "y26-cudnn-conv-b64.json")
    ours = b64.get("conv_total_ms") if b64 else None
    rep["conv_time_ratio_vs_cudnn_best_layer"] = ratio(ours, c64.get("conv_total_ms") if c64 else None)
    rep["conv_time_ratio_vs_cudnn_conv_alone"] = ratio(ours, cc64.get("conv_total_ms") if cc64 else None)
    why["conv_time_ratio_vs_cudnn_best_layer"] = (
        f"batch 64, every convolution layer op by op: ours {ours:.3f} ms / cuDNN's best fused layer {c64['conv_total_ms']:.3f} ms"
        if rep["conv_time_ratio_vs_cudnn_best_layer"] else "the cuDNN baseline did not run: " + bench_err("cudnn-b64"))
    why["conv_time_ratio_vs_cudnn_conv_alone"] = (
        f"batch 64: ours (with bias, SiLU, residual) {ours:.3f} ms / cuDNN's convolutions alone {cc64['conv_total_ms']:.3f} ms"
        if rep["conv_time_ratio_vs_cudnn_conv_alone"] else "the cuDNN convolution-alone run did not run: " + bench_err("cudnn-conv-b64"))
    if c64 and c64.get("ops"):
        paths: dict[str, int] = {}
        for o in c64["ops"]:
            m = re.search(r"cuDNN (fused graph|legacy fused|conv \+ y26 epilogue|conv alone)", o.get("detail", ""))
            if m:
                paths[m.group(1)] = paths.get(m.group(1), 0) + 1
        rep["cudnn_paths"] = paths
        why["cudnn_paths"] = "how many convolution layers took each cuDNN path (kernels/cuda/conv2d_cudnn.h)"
    else:
        why["cudnn_paths"] = why["conv_time_ratio_vs_cudnn_best_layer"]

    # ---- peers
    def runs_of(name: str) -> list:
        d = load(out / f"{name}.json")
        return d.get("runs", []) if d else []

    def peer(runs: list, precision: str, batch: int, field: str):
        for r in runs:
            if r["precision"] == precision and r["batch"] == batch:
                return r.get(field)
        return None

    eager, comp = runs_of("torch-eager"), runs_of("torch-compile")
    rep["torch_eager_fp32_latency_b1_ms"] = peer(eager, "fp32", 1, "latency_ms_median")
    rep["torch_eager_fp16_latency_b1_ms"] = peer(eager, "fp16", 1, "latency_ms_median")
    rep["torch_eager_fp16_throughput_b64_img_s"] = peer(eager, "fp16", 64, "images_per_s")
    rep["torch_compile_fp16_latency_b1_ms"] = peer(comp, "fp16", 1, "latency_ms_median")
    rep["torch_compile_fp16_throughput_b64_img_s"] = peer(comp, "fp16", 64, "images_per_s")
    cs = [r.get("compile_s") for r in comp if r.get("compile_s") is not None]
    rep["torch_compile_s"] = sum(cs) if cs else None
    eager_why = "PyTorch eager: " + last_line(out / "torch-eager.txt", "did not run")
    comp_why = "torch.compile max-autotune: " + last_line(out / "torch-compile.txt", "did not run")
    for k in ("torch_eager_fp32_latency_b1_ms", "torch_eager_fp16_latency_b1_ms", "torch_eager_fp16_throughput_b64_img_s"):
        why[k] = "the fused model's forward on a tensor already on the GPU (CUDA events)" if rep[k] is not None else eager_why
    for k in ("torch_compile_fp16_latency_b1_ms", "torch_compile_fp16_throughput_b64_img_s", "torch_compile_s"):
        why[k] = "Inductor + Triton autotuning + CUDA graphs, forward only" if rep[k] is not None else comp_why
    # how many times faster y26 is (its span holds upload, letterbox, selection and download; the peers' does not)
    rep["speedup_b1_vs_torch_eager_fp16"] = ratio(rep["torch_eager_fp16_latency_b1_ms"], rep["latency_b1_ms_median"])
    rep["speedup_b1_vs_torch_compile_fp16"] = ratio(rep["torch_compile_fp16_latency_b1_ms"], rep["latency_b1_ms_median"])
    rep["speedup_b64_vs_torch_eager_fp16"] = ratio(rep["device_throughput_b64_img_s"], rep["torch_eager_fp16_throughput_b64_img_s"])
    rep["speedup_b64_vs_torch_compile_fp16"] = ratio(rep["device_throughput_b64_img_s"], rep["torch_compile_fp16_throughput_b64_img_s"])
    for k, a, b in (("speedup_b1_vs_torch_eager_fp16", "torch_eager_fp16_latency_b1_ms", "latency_b1_ms_median"),
                    ("speedup_b1_vs_torch_compile_fp16", "torch_compile_fp16_latency_b1_ms", "latency_b1_ms_median"),
                    ("speedup_b64_vs_torch_eager_fp16", "device_throughput_b64_img_s", "torch_eager_fp16_throughput_b64_img_s"),
                    ("speedup_b64_vs_torch_compile_fp16", "device_throughput_b64_img_s", "torch_compile_fp16_throughput_b64_img_s")):
        why[k] = (f"{a} / {b} (y26's span includes its pre- and post-processing)" if rep[k] is not None
                  else f"needs {a} and {b}: " + (why.get(a) if rep[a] is None else why.get(b, "")))
    why["tensorrt_latency_b1_ms"] = ("TensorRT and onnxruntime-gpu are not on the GPU image and too large to carry in 60 MiB: "
                                     "Ultralytics' published TensorRT figure is quoted instead")
    rep["published_tensorrt_t4_latency_b1_ms"] = PUBLISHED_TRT_T4_MS
    why["published_tensorrt_t4_latency_b1_ms"] = ("Ultralytics' docs (docs/macros/yolo-det-perf.md): YOLO26n 640, T4, TensorRT 10 "
                                                   "FP16, batch 1: another GPU, for scale only")

    # ---- the physical limit
    probe = load(out / "probe.json")
    if probe:
        rep["probe_copy_gbs"], rep["probe_gemm_tflops"] = probe.get("copy_gbs"), probe.get("gemm_tflops")
        rep["probe_launch_us"] = probe.get("launch_us")
        why["probe_copy_gbs"] = "2 GiB device-to-device copy, read + written bytes per second"
        why["probe_gemm_tflops"] = "8192^3 FP16 GEMM (torch.matmul), random data"
        why["probe_launch_us"] = "one-element kernels in a replayed CUDA graph, per kernel"
    else:
        why["probe_copy_gbs"] = why["probe_gemm_tflops"] = why["probe_launch_us"] = "bench/gpu_probe.py: " + last_line(out / "probe.txt", "did not run")
    roof = load(out / "y26-roofline-measured.json") or load(out / "y26-roofline-datasheet.json")
    if roof:
        rep["roofline_limits"] = roof["gpu"]
        rep["roofline_latency_b1_bound_ms"] = roof["latency_b1_bound_ms"]
        rep["roofline_throughput_b64_bound_img_s"] = roof["throughput_bound_img_s"]
        why["roofline_limits"] = roof["gpu"]["source"]
        why["roofline_latency_b1_bound_ms"] = "sum over ops of max(FLOPs / peak, min bytes / bandwidth, one launch)"
        why["roofline_throughput_b64_bound_img_s"] = "64 / sum over ops of max(FLOPs / peak, min bytes / bandwidth)"
    else:
        why["roofline_limits"] = why["roofline_latency_b1_bound_ms"] = why["roofline_throughput_b64_bound_img_s"] = (
            "y26 bench --roofline: " + last_line(out / "y26-roofline.err", "did not run"))
    rep["latency_b1_over_bound"] = ratio(rep["latency_b1_ms_median"], rep["roofline_latency_b1_bound_ms"])
    rep["throughput_b64_bound_over_measured"] = ratio(rep["roofline_throughput_b64_bound_img_s"], rep["device_throughput_b64_img_s"])
    why["latency_b1_over_bound"] = "measured / bound: how far from the limit" if rep["latency_b1_over_bound"] else "needs the measured latency and the bound"
    why["throughput_b64_bound_over_measured"] = ("bound / measured device throughput" if rep["throughput_b64_bound_over_measured"]
                                                 else "needs the measured throughput and the bound")

    # ---- the article's memory table beside this run's
    def mb(v):
        return None if v is None else round(v / 1e6, 1)

    pred = {p: (runs_of(f"torch-predict-{p}") or [None])[0] for p in ("fp32", "fp16")}
    y26_proc = read(out / "y26-process-bytes.txt").strip()
    rep["y26_process_bytes"] = int(float(y26_proc)) if y26_proc else None
    why["y26_process_bytes"] = ("y26 bench batch 1's process, as nvidia-smi lists it" if y26_proc
                                else "nvidia-smi listed no y26 process (not run, or the runtime does not list processes)")
    comp_b1 = next((r for r in comp if r["batch"] == 1), None)
    rows = []
    for name, mbs in ARTICLE:
        mine = {"FP32": pred["fp32"], "FP16": pred["fp16"], "stream=True": pred["fp16"], "no save/show": pred["fp16"]}.get(name)
        rows.append({"row": name, "article_a10g_mb": mbs,
                     "process_mb": mb(mine.get("process_device_bytes")) if mine else None,
                     "max_allocated_mb": mb(mine.get("max_memory_allocated_bytes")) if mine else None,
                     "note": ("not measured: onnxruntime-gpu is not on the GPU image" if name == "ONNX Runtime" else
                              "Ultralytics predict, stream=True, save=False, show=False" if mine else
                              "the predict run failed: " + last_line(out / f"torch-predict-{'fp32' if name == 'FP32' else 'fp16'}.txt", "did not run"))})
    rows.append({"row": "torch.compile FP16", "article_a10g_mb": None,
                 "process_mb": mb(comp_b1.get("process_device_bytes")) if comp_b1 else None,
                 "max_allocated_mb": mb(comp_b1.get("max_memory_allocated_bytes")) if comp_b1 else None,
                 "note": "max-autotune, batch 1, after compiling" if comp_b1 else comp_why})
    rows.append({"row": "y26 FP16", "article_a10g_mb": None, "process_mb": mb(rep["y26_process_bytes"]),
                 "engine_mb": mb(rep["engine_device_bytes_b1"]), "planned_mb": mb(rep["planned_bytes_b1"]),
                 "note": "process (nvidia-smi), engine's bytes, y26 plan's prediction; batch 1"})
    rep["memory_table"] = rows
    why["memory_table"] = "the article's A10G rows beside this GPU's (null where not measured: see each row's note)"

    soak = load(out / "y26-soak.json")
    if soak:
        rep["soak_passed"] = soak["passed"]
        growth = []
        for p in soak["phases"]:
            dev = [s["device_bytes"] for s in p["samples"]]
            growth.append(max(dev) - dev[0] if dev else 0)
        rep["soak_device_growth_bytes"] = max(growth) if growth else None
        why["soak_passed"] = soak["failure"] or f"{soak['calls_per_phase']} calls a phase, one engine then two: results and memory held"
        why["soak_device_growth_bytes"] = "device memory in use, largest rise over a phase (cudaMemGetInfo, every 1,000 calls)"
    else:
        why["soak_passed"] = why["soak_device_growth_bytes"] = "y26 bench --soak: " + last_line(out / "y26-soak.err", "did not run")
    # ---- y26 val on the GPU: FP16 against yolo val's FP32 goldens (weights/fixtures/yolo26n-shapes.val.json), and
    # both validators timed in one run (bench/val_bench.py)
    val = load(out / "y26-val-cuda.json")
    gold = load(Path("weights/fixtures/yolo26n-shapes.val.json"))
    if val and gold:
        rep["val_map50_95_cuda"] = val["map50_95"]
        rep["val_map50_95_delta_vs_goldens"] = val["map50_95"] - gold["end2end"]["map50_95"]
        why["val_map50_95_cuda"] = f"y26 val, {val['images']} images of the shapes test split, imgsz 320, FP16 on {val['device']}"
        why["val_map50_95_delta_vs_goldens"] = "minus yolo val's FP32 CPU figure (the issue's bound: 0.005)"
    else:
        why["val_map50_95_cuda"] = why["val_map50_95_delta_vs_goldens"] = (
            "y26 val --device cuda: " + last_line(out / "y26-val-cuda.txt", "did not run"))
    vb = load(out / "val-bench.json")
    if vb and vb.get("wall_speedup") is not None:
        rep["val_wall_speedup_vs_yolo_val"] = vb["wall_speedup"]
        rep["val_inference_speedup_vs_yolo_val"] = vb["inference_speedup"]
        why["val_wall_speedup_vs_yolo_val"] = (f"yolo val {vb['ultralytics']['seconds']:.2f} s over y26 val "
                                               f"{vb['y26']['seconds']:.2f} s, start to metrics, same run")
        why["val_inference_speedup_vs_yolo_val"] = "each validator's own per-image inference time (half=True for yolo val)"
    else:
        reason = ("bench/val_bench.py: " + (vb["ultralytics"].get("error", "") if vb else last_line(out / "val-bench.txt", "did not run")))
        why["val_wall_speedup_vs_yolo_val"] = why["val_inference_speedup_vs_yolo_val"] = reason[:200]
    assert list(rep) == KEYS, "a figure without a key in KEYS"
    (out / "gpu-report.json").write_text(json.dumps({**rep, "why": {k: why.get(k, "") for k in KEYS}}, indent=1) + "\n")

    # ---- Markdown
    lines = [f"# y26 GPU check — {rep['gpu'] or 'no GPU'} (driver {rep['driver']}), commit {rep['commit']}", "",
             f"Build: {rep['build']}", "", "| figure | value | note |", "|---|---|---|"]
    for k in KEYS:
        if k in ("gpu", "driver", "commit", "build", "memory_table", "roofline_limits"):
            continue
        v = rep[k]
        lines.append(f"| {k} | {'null' if v is None else (f'{v:.4g}' if isinstance(v, float) else v)} | {why.get(k, '')} |")
    lines += ["", "## The article's memory table, side by side (MB)", "",
              "| row | article (A10G) | this GPU: process | max_memory_allocated | y26 engine | y26 plan | note |",
              "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['row']} | {r['article_a10g_mb'] or ''} | {r.get('process_mb')} | {r.get('max_allocated_mb', '')} | "
                     f"{r.get('engine_mb', '')} | {r.get('planned_mb', '')} | {r['note']} |")
    if roof:
        g = roof["gpu"]
        lines += ["", f"## Roofline: {g['name']}, {g['tensor_tflops']:.1f} TFLOP/s, {g['bandwidth_gbs']:.0f} GB/s, "
                  f"{g['launch_us']:.2f} us a launch ({g['source']})", ""]
        for label, key, bench in (("batch 64", "batchN", b64), ("batch 1", "batch1", b1)):
            measured = {o["name"]: o["ms"] for o in (bench or {}).get("ops", [])}
            table = [(measured[o["name"]] / o["bound_ms"], measured[o["name"]], o) for o in roof[key]["ops"]
                     if o["name"] in measured and o["bound_ms"] > 0]
            if not table:
                lines.append(f"{label}: no measured ops to hold against the bounds ({why['latency_b1_ms_median']})")
                continue
            table.sort(key=lambda x: -x[0])
            lines += [f"{label}: each op's measured time over its bound, furthest from the limit first", "",
                      "| measured / bound | measured ms | bound ms | limit | kind | op |", "|---|---|---|---|---|---|"]
            lines += [f"| {r:.1f} | {m:.4f} | {o['bound_ms']:.4f} | {o['limit']} | {o['kind']} | {o['name']} |" for r, m, o in table[:20]]
            lines.append("")
    for name, run in (("y26 batch 1", b1), ("y26 batch 64", b64), ("cuDNN layers, batch 64", c64)):
        if run and run.get("ops"):
            top = sorted(run["ops"], key=lambda o: -o["ms"])[:15]
            lines += ["", f"Slowest ops, {name} (op by op, CUDA events; total {run['ops_total_ms']:.3f} ms):", "",
                      "| ms | kind | op | what, how |", "|---|---|---|---|"]
            lines += [f"| {o['ms']:.4f} | {o['kind']} | {o['name']} | {o.get('detail', '')} |" for o in top]
    (out / "gpu-report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
