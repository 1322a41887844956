#!/usr/bin/env python3
"""Golden fixtures for YOLO26's other tasks (issue 12), from the reference implementation (Ultralytics).

Run once by a developer, never by CI, in the virtual environment of weights/requirements-goldens.txt,
after make_goldens.py (it reads the scene images that script writes):

    python weights/make_task_goldens.py --out weights/fixtures

Oriented boxes (OBB26): yolo26n-obb with 15 classes (DOTA's names), seeded random weights conditioned as
make_goldens.py conditions the detection fixtures, plus an angle branch (cv4) whose outputs are radians of
O(0.5). It writes
  yolo26n-obb-rand.pt                  a genuine Ultralytics OBB checkpoint (FP16 weights)
  yolo26n-obb-rand.manifest.json       every tensor's name, dtype, shape and FNV-1a 64
  yolo26n-obb-rand.goldens.safetensors the raw head outputs of both heads (boxes, scores, angle), what
                                       each head decodes to, at 256 on the 640x456 scene (FP32)
  yolo26n-obb-rand.detections.json     what `yolo predict` returns on both scenes at 640, with each head
"""

from __future__ import annotations

import argparse
import copy
import json
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ultralytics.cfg import get_cfg
from ultralytics.nn.tasks import OBBModel, yaml_model_load
from ultralytics.utils import YAML, ROOT

import make_goldens as mg

OBB = dict(name="yolo26n-obb-rand", yaml="yolo26n-obb.yaml", scale="n", nc=15, save_as="ema", bn_gamma=(0.2, 0.4))
SCENES = ("scene-640x456.png", "scene-500x375.png")


def build_obb(fx: dict, gen: torch.Generator) -> OBBModel:
    cfg = yaml_model_load(fx["yaml"])
    cfg["scale"] = fx["scale"]
    cfg["nc"] = fx["nc"]
    torch.manual_seed(mg.SEED)
    model = OBBModel(cfg, nc=fx["nc"], verbose=False)
    names = YAML.load(ROOT / "cfg/datasets/DOTAv1.yaml")["names"]
    model.names = {int(i): n for i, n in names.items()}
    model.args = get_cfg(overrides={"task": "obb"})
    mg.randomise(model, gen, fx["bn_gamma"])
    det = model.model[-1]
    with torch.no_grad():
        for seq in list(det.cv4) + list(getattr(det, "one2one_cv4", [])):
            # Angles in radians (OBB26 applies no sigmoid): small weights and a spread of biases, so the
            # boxes turn by tenths of a radian either way, both signs and both halves of [-pi/4, 3pi/4).
            fan_in = seq[-1].weight[0].numel()
            seq[-1].weight.copy_(torch.randn(seq[-1].weight.shape, generator=gen) * 0.4 / math.sqrt(fan_in))
            seq[-1].bias.copy_(0.3 * torch.randn(seq[-1].bias.shape, generator=gen))
    return model


def check_angle_conditioning(model: OBBModel, x: torch.Tensor) -> None:
    """FP32 vs FP64 on the raw angles, as mg.check_conditioning does on the scores."""
    m32, m64 = copy.deepcopy(model).float().eval(), copy.deepcopy(model).double().eval()
    with torch.no_grad():
        r32 = mg.run_layers(m32, x)[1][1]
        r64 = mg.run_layers(m64, x.double())[1][1]
    err = max((r32[h]["angle"].double() - r64[h]["angle"]).abs().max().item() for h in ("one2one", "one2many"))
    print(f"angles: FP32 vs FP64 max deviation at {mg.FULL_IMGSZ}: {err:.2e} rad")
    assert err < 2e-5, f"ill-conditioned angles: FP32 rounding moves them by {err:.2e}"


def head_goldens(model: OBBModel, scene: np.ndarray, stride: int) -> dict[str, np.ndarray]:
    g = {}
    lb = mg.letterbox(scene, mg.SMALL_IMGSZ, stride)
    g["input.letterboxed_u8"] = lb
    x = mg.to_input(lb)
    det = model.model[-1]
    with torch.no_grad():
        det.end2end = False  # one-to-many: (B, 4 + nc + 1, anchors): cx cy w h (pixels), class scores, angle
        _, (y_many, _) = mg.run_layers(model, x)
        det.end2end = True  # one-to-one top-k: (B, 300, 7): cx cy w h score class angle
        _, (y, raw) = mg.run_layers(model, x)
    for head in ("one2one", "one2many"):
        for part in ("boxes", "scores", "angle"):
            g[f"head.{head}.{part}"] = raw[head][part].numpy()  # (B, C, anchors), before decoding
    g["head.one2one.decoded"] = y.numpy()
    g["head.one2many.decoded"] = y_many.numpy()
    return {k: (v.astype(np.float32) if v.dtype != np.uint8 else v) for k, v in g.items()}


def obb_detections(ckpt_path: Path, image_path: Path) -> dict:
    """What `yolo predict` gives for this OBB checkpoint and image, with each head (nms=False/True)."""
    out = {}
    # conf 0.15 too: the random network's scores on the smaller scene are low, and the rotated NMS and the
    # mapping to original pixels want more than a couple of boxes
    runs = (("end2end", dict(conf=0.25, nms=False)), ("nms", dict(conf=0.25, iou=0.7, nms=True)),
            ("end2end_conf0.15", dict(conf=0.15, nms=False)), ("nms_conf0.15", dict(conf=0.15, iou=0.7, nms=True)),
            ("predict_default", dict(conf=0.25)))
    for key, kwargs in runs:
        r, head = mg.predict_once(ckpt_path, image_path, kwargs, task="obb")
        o = r.obb
        out[key] = {
            "args": {"conf": kwargs["conf"], "iou": kwargs.get("iou", 0.7), "max_det": 300, "nms": kwargs.get("nms")},
            "head": head,
            "detections": [
                {"cls": int(c), "score": float(s), "xywhr": [float(v) for v in b],
                 "corners": [[float(px), float(py)] for px, py in poly]}
                for b, s, c, poly in zip(o.xywhr.tolist(), o.conf.tolist(), o.cls.tolist(), o.xyxyxyxy.tolist())
            ],
        }
    return out


def nms_candidates(model: OBBModel, scene: np.ndarray, stride: int, conf: float) -> int:
    """How many one-to-many anchors pass conf at 640: NMS must have something to suppress."""
    det = model.model[-1]
    with torch.no_grad():
        det.end2end = False
        _, (y_many, _) = mg.run_layers(model, mg.to_input(mg.letterbox(scene, mg.FULL_IMGSZ, stride)))
        det.end2end = True
    nc = det.nc
    return int((y_many[0, 4:4 + nc].amax(0) > conf).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "fixtures")
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)
    from safetensors.numpy import save_file

    scene = np.asarray(Image.open(args.out / SCENES[0]).convert("RGB"))
    calib = torch.cat([mg.to_input(mg.letterbox(mg.make_scene(320, 256, seed=mg.SEED + 10 + i), 256, 32)) for i in range(6)])
    fx = OBB
    gen = torch.Generator().manual_seed(mg.SEED)
    model = build_obb(fx, gen)
    mg.calibrate_batchnorm(model, calib, gen)
    stride = int(max(model.stride))
    mg.calibrate_class_bias(model, mg.to_input(mg.letterbox(scene, mg.FULL_IMGSZ, stride)))
    model = mg.round_to_fp16(model).eval()
    x640 = mg.to_input(mg.letterbox(scene, mg.FULL_IMGSZ, stride))
    mg.check_conditioning(model, x640, fx["name"])
    check_angle_conditioning(model, x640)

    ckpt_path = args.out / f"{fx['name']}.pt"
    mg.save_checkpoint(ckpt_path, model, fx)
    mg.write_manifest(args.out / f"{fx['name']}.manifest.json", copy.deepcopy(model).half(), fx)

    g = head_goldens(model, scene, stride)
    meta = {"image": SCENES[0], "imgsz": str(mg.SMALL_IMGSZ), "task": "obb",
            "layout": "head.* as Ultralytics returns them: raw (B, C, anchors); one2one.decoded (B, 300, 7) "
                      "cx cy w h score class angle; one2many.decoded (B, 4 + nc + 1, anchors)"}
    goldens_path = args.out / f"{fx['name']}.goldens.safetensors"
    save_file({k: np.ascontiguousarray(v) for k, v in g.items()}, str(goldens_path), metadata=meta)
    goldens_path.chmod(0o644)

    det = {"imgsz": mg.FULL_IMGSZ, "task": "obb",
           "nms_candidates_at_conf": nms_candidates(model, scene, stride, 0.25)}
    for name in SCENES:
        det[name] = obb_detections(ckpt_path, args.out / name)
    (args.out / f"{fx['name']}.detections.json").write_text(json.dumps(det, indent=1) + "\n")
    for name in SCENES:
        n = {k: len(v["detections"]) for k, v in det[name].items()}
        print(f"{fx['name']} on {name}: detections {n}")
    print(f"one-to-many candidates above 0.25 at 640: {det['nms_candidates_at_conf']}")


if __name__ == "__main__":
    main()
