#!/usr/bin/env python3
"""The `y26 val` fixture and its goldens: a slice of the shapes dataset's test split (never trained on, never used
to pick the checkpoint) committed as JPEG, and what the pinned Ultralytics' `yolo val` says of the trained model on it.

    python3 weights/make_val_goldens.py --shapes ../shapes --model weights/fixtures/yolo26n-shapes.pt

writes weights/fixtures/shapes-val/{data.yaml, images/*.jpg, labels/*.txt} (the first --images test images,
quality 90; libjpeg-turbo decodes them the same in OpenCV and in y26) and
weights/fixtures/yolo26n-shapes.val.json:
  dataset:   per image (in the validator's order, by aspect ratio) its file, batch, batch shape (h, w), its
             letterbox ratio_pad (gains h, w: load_image's resize; pad w, h); every batch's shape
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
    (out / "data.yaml").write_text("# weights/make_val_goldens.py: the first %d images of the shapes test split\n"
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", required=True, type=Path, help="weights/make_shapes.py's dataset")
    ap.add_argument("--model", type=Path, default=FIX / "yolo26n-shapes.pt")
    ap.add_argument("--images", type=int, default=48)
    a = ap.parse_args()
    out = FIX / "shapes-val"
    make_fixture(a.shapes, a.images, out)
    goldens = {"model": a.model.name, "data": "shapes-val/data.yaml", "dataset": dataset_order(out / "data.yaml")}
    for head, nms in (("end2end", False), ("nms", True)):
        goldens[head] = validate(a.model, out / "data.yaml", nms)
        print(f"{head}: mAP50 {goldens[head]['map50']:.4f}, mAP50-95 {goldens[head]['map50_95']:.4f}")
    goldens["predict"] = predictions(a.model, out)
    p = goldens["predict"]
    print(f"predict: {p['labels_matched_iou50']} of {p['labels']} labels found at IoU 0.5")
    (FIX / (a.model.stem + ".val.json")).write_text(json.dumps(goldens, indent=1) + "\n")


if __name__ == "__main__":
    main()
