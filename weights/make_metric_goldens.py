#!/usr/bin/env python3
"""Goldens for y26's detection metrics (runtime/det_metrics.cpp): random detection problems scored by
Ultralytics' own DetectionValidator.match_predictions and utils.metrics.ap_per_class (the pinned 8.4.190).

    python3 weights/make_metric_goldens.py --out weights/fixtures/det-metrics-cases.json

Each case: images of labels and predictions (boxes in pixels, FP32-representable), and Ultralytics' P, R,
mAP50, mAP50-95 overall and per class. Deterministic (seeded).
"""
from __future__ import annotations

import argparse
import json
import types

import numpy as np
import torch
from ultralytics.models.yolo.detect.val import DetectionValidator
from ultralytics.utils.metrics import ap_per_class, box_iou


def case(rng: np.random.Generator, nc: int, images: int) -> dict:
    iouv = torch.linspace(0.5, 0.95, 10)
    ns = types.SimpleNamespace(iouv=iouv)
    out_images, tps, confs, pcls, tcls = [], [], [], [], []
    for _ in range(images):
        n_t = int(rng.integers(0, 8))
        t_boxes = []
        for _ in range(n_t):
            x, y, w, h = rng.uniform(0, 400), rng.uniform(0, 300), rng.uniform(5, 120), rng.uniform(5, 120)
            t_boxes.append([x, y, x + w, y + h])
        t_cls = rng.integers(0, nc, n_t).tolist()
        preds = []
        for b, c in zip(t_boxes, t_cls):  # noisy detections of the labels: jitter, sometimes the wrong class, some missed
            if rng.uniform() < 0.2:
                continue
            s = rng.uniform(0, 0.25) * (b[2] - b[0])
            jb = [v + rng.normal(0, s) for v in b]
            jb = [min(jb[0], jb[2]), min(jb[1], jb[3]), max(jb[0], jb[2]), max(jb[1], jb[3])]
            preds.append((jb, float(rng.uniform(0.3, 1.0)), c if rng.uniform() > 0.1 else int(rng.integers(0, nc))))
            if rng.uniform() < 0.15:  # a duplicate
                preds.append((jb, float(rng.uniform(0.01, 0.5)), c))
        for _ in range(int(rng.integers(0, 4))):  # false positives
            x, y = rng.uniform(0, 400), rng.uniform(0, 300)
            preds.append(([x, y, x + rng.uniform(5, 80), y + rng.uniform(5, 80)], float(rng.uniform(0.001, 0.9)), int(rng.integers(0, nc))))
        # as FP32, as the validator holds them
        t_boxes = np.asarray(t_boxes, np.float32).reshape(-1, 4)
        preds.sort(key=lambda p: -p[1])
        p_boxes = np.asarray([p[0] for p in preds], np.float32).reshape(-1, 4)
        p_conf = np.asarray([p[1] for p in preds], np.float32)
        p_cls = np.asarray([p[2] for p in preds], np.float32)
        if n_t and len(preds):
            iou = box_iou(torch.from_numpy(t_boxes), torch.from_numpy(p_boxes))
            tp = DetectionValidator.match_predictions(ns, torch.from_numpy(p_cls), torch.tensor(t_cls, dtype=torch.float32), iou).numpy()
        else:
            tp = np.zeros((len(preds), 10), bool)
        tps.append(tp), confs.append(p_conf), pcls.append(p_cls), tcls.append(np.asarray(t_cls, np.float32))
        out_images.append({"targets": [{"cls": int(c), "box": [float(v) for v in b]} for b, c in zip(t_boxes, t_cls)],
                           "predictions": [{"cls": int(c), "conf": float(f), "box": [float(v) for v in b]}
                                           for b, f, c in zip(p_boxes, p_conf, p_cls)],
                           "tp": tp.astype(int).tolist()})
    _, _, p, r, _, ap, classes, *_ = ap_per_class(np.concatenate(tps, 0), np.concatenate(confs), np.concatenate(pcls),
                                                 np.concatenate(tcls))
    return {"nc": nc, "images": out_images,
            "precision": float(p.mean()) if len(p) else 0.0, "recall": float(r.mean()) if len(r) else 0.0,
            "map50": float(ap[:, 0].mean()) if len(ap) else 0.0, "map50_95": float(ap.mean()) if len(ap) else 0.0,
            "classes": [{"cls": int(c), "precision": float(pp), "recall": float(rr), "ap50": float(a[0]), "ap50_95": float(a.mean())}
                        for c, pp, rr, a in zip(classes, p, r, ap)]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rng = np.random.default_rng(2026)
    cases = [case(rng, nc, images) for nc, images in ((1, 5), (3, 20), (8, 40), (5, 60))]
    with open(a.out, "w") as f:
        json.dump({"ultralytics": __import__("ultralytics").__version__, "cases": cases}, f)
    for c in cases:
        print(f"nc {c['nc']}, {len(c['images'])} images: P {c['precision']:.4f} R {c['recall']:.4f} "
              f"mAP50 {c['map50']:.4f} mAP50-95 {c['map50_95']:.4f}")


if __name__ == "__main__":
    main()
