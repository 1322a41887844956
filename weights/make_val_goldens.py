#!/usr/bin/env python3
"""The `y26 val` fixture and its goldens: a slice of the shapes dataset's test split (never trained on, never used
to pick the checkpoint) committed as JPEG, and what the pinned Ultralytics' `yolo val` says of the trained model on it.

    python3 weights/make_val_goldens.py --shapes ../shapes --model weights/fixtures/yolo26n-shapes.pt

writes weights/fixtures/shapes-val/{data.yaml, images/*.jpg, labels/*.txt} (--images test images, all 150,
quality 90; libjpeg-turbo decodes them the same in OpenCV and in y26) and
weights/fixtures/yolo26n-shapes.val.json:
  dataset:   per image (in the validator's order, by aspect ratio) its file, batch, batch shape (h, w), its
             letterbox ratio_pad (gains h, w: load_image's resize; pad w, h); every batch's shape
  predict_map: the mAP of `yolo predict` (each image letterboxed alone, conf 0.001) against the labels
  checkpoint: every top-level field of the checkpoint, its scalar value or its kind
  predict:   `yolo predict` on each image (conf 0.25, NMS-free head) and how many labels it finds
  end2end / nms: `yolo val` at imgsz 320, batch 16, conf 0.001, iou 0.7 on the CPU (FP32) with the NMS-free
             head and with the NMS one: precision, recall, mAP50, mAP50-95, per class (images, instances, P, R,
             AP50, AP50-95) and `maps`
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import cv2

FIX = Path(__file__).resolve().parent / "fixtures"
IMGSZ, BATCH = 320, 16


def make_fixture(shapes: Path, n: int, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    (out / "images").mkdir(parents=True)
    (out / "labels").mkdir()
    for png in sorted((shapes / "images" / "test").glob("*.png"))[:n]:
        cv2.imwrite(str(out / "images" / (png.stem + ".jpg")), cv2.imread(str(png)), [cv2.IMWRITE_JPEG_QUALITY, 90])
        shutil.copyfile(shapes / "labels" / "test" / (png.stem + ".txt"), out / "labels" / (png.stem + ".txt"))
    names = (shapes / "data.yaml").read_text().split("names:", 1)[1]
    (out / "data.yaml").write_text("# weights/make_val_goldens.py: %d images of the shapes test split\n"
                                   "train: images\nval: images\nnames:%s" % (n, names))


def dataset_order(data_yaml: Path) -> dict:
    from ultralytics.cfg import get_cfg
    from ultralytics.data import build_yolo_dataset
    from ultralytics.data.utils import check_det_dataset
    data = check_det_dataset(str(data_yaml))
    cfg = get_cfg(overrides={"imgsz": IMGSZ, "batch": BATCH, "rect": True})  # Model.val's default
    ds = build_yolo_dataset(cfg, data["val"], BATCH, data, mode="val", stride=32)
    images = []
    for i, f in enumerate(ds.im_files):
        item = ds[i]
        (gh, gw), (pw, ph) = item["ratio_pad"]
        images.append({"file": Path(f).name, "batch": int(ds.batch[i]), "input_hw": list(item["img"].shape[1:]),
                       "ori_hw": list(item["ori_shape"]), "gain_hw": [gh, gw], "pad_wh": [pw, ph]})
    return {"imgsz": IMGSZ, "batch": BATCH, "batch_shapes": ds.batch_shapes.tolist(), "images": images}


def validate(model: Path, data_yaml: Path, nms: bool) -> dict:
    from ultralytics import YOLO
    m = YOLO(str(model)).val(data=str(data_yaml), imgsz=IMGSZ, batch=BATCH, device="cpu", nms=nms, plots=False,
                             verbose=False, conf=0.001, iou=0.7)
    b = m.box
    classes = []
    for i, c in enumerate(b.ap_class_index.tolist()):
        p, r, ap50, ap = b.class_result(i)
        classes.append({"cls": int(c), "precision": float(p), "recall": float(r), "ap50": float(ap50), "ap50_95": float(ap)})
    return {"precision": float(b.mp), "recall": float(b.mr), "map50": float(b.map50), "map50_95": float(b.map),
            "maps": [float(v) for v in b.maps], "classes": classes}


def iou(a, b) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter + 1e-9)


def predictions(model: Path, fixture: Path) -> dict:
    """`yolo predict` (conf 0.25, the NMS-free head, imgsz 320) on each image alone, and how many labels a detection
    of the right class overlaps at IoU >= 0.5: the model sees."""
    from ultralytics import YOLO
    yolo = YOLO(str(model))
    images, labels, matched = [], 0, 0
    for jpg in sorted((fixture / "images").glob("*.jpg")):
        r = yolo.predict(str(jpg), imgsz=IMGSZ, conf=0.25, nms=False, device="cpu", verbose=False)[0]
        dets = [{"cls": int(c), "score": float(s), "box": [float(v) for v in b]}
                for b, s, c in zip(r.boxes.xyxy.tolist(), r.boxes.conf.tolist(), r.boxes.cls.tolist())]
        h, w = r.orig_shape
        truth = []
        for line in (fixture / "labels" / (jpg.stem + ".txt")).read_text().split("\n"):
            if line.strip():
                c, x, y, bw, bh = (float(v) for v in line.split())
                truth.append((int(c), [(x - bw / 2) * w, (y - bh / 2) * h, (x + bw / 2) * w, (y + bh / 2) * h]))
        used = set()
        for c, box in truth:
            for i, d in enumerate(dets):
                if i not in used and d["cls"] == c and iou(d["box"], box) >= 0.5:
                    used.add(i)
                    matched += 1
                    break
        labels += len(truth)
        images.append({"file": jpg.name, "detections": dets})
    return {"imgsz": IMGSZ, "conf": 0.25, "head": "end2end", "labels": labels, "labels_matched_iou50": matched,
            "images": images}


def predict_map(model: Path, fixture: Path) -> dict:
    """mAP of `yolo predict` (each image alone, conf 0.001, the NMS-free head) against the labels in the images'
    own pixels, scored by Ultralytics' match_predictions and ap_per_class: what `y26 detect` is held to."""
    import types

    import numpy as np
    import torch
    from ultralytics import YOLO
    from ultralytics.models.yolo.detect.val import DetectionValidator
    from ultralytics.utils.metrics import ap_per_class, box_iou
    ns = types.SimpleNamespace(iouv=torch.linspace(0.5, 0.95, 10))
    yolo = YOLO(str(model))
    tps, confs, pcls, tcls = [], [], [], []
    for jpg in sorted((fixture / "images").glob("*.jpg")):
        r = yolo.predict(str(jpg), imgsz=IMGSZ, conf=0.001, nms=False, device="cpu", verbose=False)[0]
        h, w = r.orig_shape
        rows = [[float(v) for v in ln.split()] for ln in (fixture / "labels" / (jpg.stem + ".txt")).read_text().splitlines() if ln.strip()]
        t_cls = np.asarray([row[0] for row in rows], np.float32)
        t_box = np.asarray([[(x - bw / 2) * w, (y - bh / 2) * h, (x + bw / 2) * w, (y + bh / 2) * h] for _, x, y, bw, bh in rows],
                           np.float32).reshape(-1, 4)
        p_box, p_conf, p_cls = r.boxes.xyxy.float(), r.boxes.conf.float().numpy(), r.boxes.cls.float()
        if len(t_cls) and len(p_conf):
            iou = box_iou(torch.from_numpy(t_box), p_box)
            tp = DetectionValidator.match_predictions(ns, p_cls, torch.from_numpy(t_cls), iou).numpy()
        else:
            tp = np.zeros((len(p_conf), 10), bool)
        tps.append(tp), confs.append(p_conf), pcls.append(p_cls.numpy()), tcls.append(t_cls)
    _, _, p, rr, _, ap, *_ = ap_per_class(np.concatenate(tps, 0), np.concatenate(confs), np.concatenate(pcls), np.concatenate(tcls))
    return {"conf": 0.001, "map50": float(ap[:, 0].mean()), "map50_95": float(ap.mean())}


def checkpoint_fields(model: Path) -> dict:
    """Every top-level field of the checkpoint as y26's loader reports it (loader/torch_checkpoint.cpp)."""
    import torch
    ck = torch.load(str(model), map_location="cpu", weights_only=False)

    def text(v):
        if v is None or isinstance(v, bool):
            return str(v)
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            return "%.6g" % v
        if isinstance(v, str):
            return v[:256]
        if isinstance(v, dict):
            return "dict"
        if isinstance(v, (list, tuple)):
            return "list"
        return "object"
    return {k: text(v) for k, v in ck.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", required=True, type=Path, help="weights/make_shapes.py's dataset")
    ap.add_argument("--model", type=Path, default=FIX / "yolo26n-shapes.pt")
    ap.add_argument("--images", type=int, default=150, help="test images committed (the whole split: 150)")
    a = ap.parse_args()
    out = FIX / "shapes-val"
    make_fixture(a.shapes, a.images, out)
    goldens = {"model": a.model.name, "data": "shapes-val/data.yaml", "dataset": dataset_order(out / "data.yaml")}
    for head, nms in (("end2end", False), ("nms", True)):
        goldens[head] = validate(a.model, out / "data.yaml", nms)
        print(f"{head}: mAP50 {goldens[head]['map50']:.4f}, mAP50-95 {goldens[head]['map50_95']:.4f}")
    goldens["checkpoint"] = checkpoint_fields(a.model)
    goldens["predict_map"] = predict_map(a.model, out)
    print(f"predict mAP: {goldens['predict_map']['map50']:.4f}, {goldens['predict_map']['map50_95']:.4f}")
    goldens["predict"] = predictions(a.model, out)
    p = goldens["predict"]
    print(f"predict: {p['labels_matched_iou50']} of {p['labels']} labels found at IoU 0.5")
    (FIX / (a.model.stem + ".val.json")).write_text(json.dumps(goldens, indent=1) + "\n")


if __name__ == "__main__":
    main()
