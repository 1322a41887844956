#!/usr/bin/env python3
"""Video: y26 detect's memory over a short and a ten-times-longer video (it must not grow with the length),
and its frames per second against Ultralytics' predict(stream=True) on the same video, model and machine, in
the same run.

A developer tool (needs the throwaway venv of weights/README.md for the Ultralytics peer); never run by CI:
    /tmp/venv-torch/bin/python bench/video_bench.py --y26 build/y26 --model weights/fixtures/yolo26n-rand.pt \\
        --out docs/benchmarks/video.md

The video is made here: the fixture scene (640x456) rolled 4 pixels a frame (tests/support/png_frames.py),
encoded to H.264 by y26 itself (--conf 1: nothing drawn on it), 300 and 3,000 frames at 30 fps. Peak RSS is
the child's ru_maxrss (getrusage), of y26 detect writing its annotated mp4 and JSON Lines. For speed both
engines decode the same mp4 and detect at 640 with the model's one-to-many head and NMS (Ultralytics'
predict default for YOLO26; y26 --nms), each in two modes: results only (y26 --no-draw --json FILE;
Ultralytics save=False, iterating the results), and annotated video (y26's default mp4 through libx264;
Ultralytics save=True, OpenCV's mp4v). Each figure is the median of --reps runs, the engines interleaved.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child_peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def run_measured(cmd: list[str], **kw) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one command, run in a fresh child (ru_maxrss of a waited child)."""
    wrapper = [sys.executable, "-c",
               "import resource, subprocess, sys, time\n"
               "t = time.perf_counter(); rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
               "dt = time.perf_counter() - t\n"
               "print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)", *cmd]
    out = subprocess.run(wrapper, check=True, capture_output=True, text=True, **kw).stdout.split()
    if out[2] != "0":
        raise SystemExit(f"failed ({out[2]}): {' '.join(cmd)}")
    return float(out[0]), int(out[1])


def make_video(y26: str, model: str, frames: int, path: Path) -> None:
    gen = subprocess.Popen([sys.executable, str(ROOT / "tests/support/png_frames.py"),
                            str(ROOT / "weights/fixtures/scene-640x456.png"), str(frames)], stdout=subprocess.PIPE)
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([y26, "detect", "-w", model, "-i", "-", "--raw", "640x456@30", "--conf", "1", "--imgsz", "64",
                        "-o", d, "--device", "cpu"], stdin=gen.stdout, check=True, stdout=subprocess.DEVNULL)
        gen.wait()
        os.replace(Path(d) / "stdin.mp4", path)


PEER = r"""
import sys, time
from ultralytics import YOLO
model, video, save, out = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
m = YOLO(model, task="detect")
n = 0
t = time.perf_counter()
for r in m.predict(video, stream=True, imgsz=640, device="cpu", save=save, project=out, name="run", exist_ok=True, verbose=False):
    n += 1
print("peer-result", n, time.perf_counter() - t)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--y26", default=str(ROOT / "build/y26"))
    ap.add_argument("--model", default=str(ROOT / "weights/fixtures/yolo26n-rand.pt"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="y26-video-bench-"))
    short, long = work / "short.mp4", work / "long.mp4"
    make_video(args.y26, args.model, 300, short)
    make_video(args.y26, args.model, 3000, long)

    lines = []
    # memory: the whole pipeline (decode, detect, draw, encode, JSON Lines) over 300 and 3,000 frames
    mem = {}
    for name, video, n in (("300", short, 300), ("3000", long, 3000)):
        secs, kib = run_measured([args.y26, "detect", "-w", args.model, "-i", str(video), "-o", str(work / f"m{name}"),
                                  "--json", str(work / f"m{name}.jsonl"), "--device", "cpu"])
        got = sum(1 for _ in open(work / f"m{name}.jsonl"))
        assert got == n, (got, n)
        mem[name] = (kib, secs)
        print(f"memory over {n} frames: peak RSS {kib / 1024:.1f} MiB, {n / secs:.1f} fps", flush=True)

    speed = {k: [] for k in ("y26 results", "y26 video", "ultralytics results", "ultralytics video")}
    for rep in range(args.reps):
        for mode, draw in (("results", False), ("video", True)):
            cmd = [args.y26, "detect", "-w", args.model, "-i", str(short), "--nms", "--imgsz", "640", "--device", "cpu",
                   "-o", str(work / "s"), "--json", str(work / "s.jsonl")] + ([] if draw else ["--no-draw"])
            secs, _ = run_measured(cmd)
            speed[f"y26 {mode}"].append(300 / secs)
            out = subprocess.run([sys.executable, "-c", PEER, args.model, str(short), "1" if draw else "0", str(work / "u")],
                                 check=True, capture_output=True, text=True).stdout
            out = next(l for l in out.splitlines() if l.startswith("peer-result")).split()[1:]  # Ultralytics prints too
            assert int(out[0]) == 300, out
            speed[f"ultralytics {mode}"].append(300 / float(out[1]))
        print(f"rep {rep + 1}: " + ", ".join(f"{k} {v[-1]:.1f} fps" for k, v in speed.items()), flush=True)
    med = {k: statistics.median(v) for k, v in speed.items()}

    import ultralytics, torch  # noqa: E401 (versions for the record)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    lines += [
        "# Video: constant memory and frames per second (CPU)",
        "",
        f"Made by `bench/video_bench.py` on {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores of an {cpu}; model "
        f"`{Path(args.model).name}` at 640; y26 at its commit, Ultralytics {ultralytics.__version__} with PyTorch "
        f"{torch.__version__}. The video: the 640x456 fixture scene rolled 4 px a frame, H.264, 30 fps.",
        "",
        "## Memory does not grow with the video's length",
        "",
        "`y26 detect -i VIDEO -o DIR --json FILE` (decode, detect, draw, encode the annotated mp4, JSON Lines), peak RSS:",
        "",
        "| frames | peak RSS | fps |",
        "|---:|---:|---:|",
    ]
    for name in ("300", "3000"):
        kib, secs = mem[name]
        lines.append(f"| {int(name):,} | {kib / 1024:.1f} MiB | {int(name) / secs:.1f} |")
    growth = mem["3000"][0] / mem["300"][0]
    lines += ["", f"3,000 frames against 300: peak RSS x{growth:.3f}.", "",
              "## Frames per second against Ultralytics predict(stream=True)", "",
              f"Same mp4 (300 frames), both engines on the one-to-many head with NMS at 640, median of {args.reps} "
              "interleaved runs; y26 timed as its whole process (start, model load, decode, detection, output), Ultralytics from its first predict call (imports and model load left out: in its favour):", "",
              "| mode | y26 detect | Ultralytics | y26 / Ultralytics |", "|---|---:|---:|---:|"]
    for mode, desc in (("results", "results only (y26 `--no-draw --json`; save=False)"),
                       ("video", "annotated video (y26 mp4/H.264; save=True, mp4v)")):
        y, u = med[f"y26 {mode}"], med[f"ultralytics {mode}"]
        lines.append(f"| {desc} | {y:.1f} fps | {u:.1f} fps | x{y / u:.2f} |")
    lines.append("")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
