#!/usr/bin/env python3
"""A deterministic synthetic detection dataset in Ultralytics' YOLO format, for training a YOLO26n that sees.

Eight classes of shapes in many colours, sizes (a few pixels to most of the image), rotations and aspect
ratios, overlapping each other a little and cut by the image border, on textured and noisy backgrounds, in
images of different sizes and aspect ratios. Each shape's box is the tight box of the pixels it covers in the
image (cut at the border); a shape is placed only where every shape before it keeps at least 70% of its pixels
showing, so every labelled object can be seen.

    python3 weights/make_shapes.py --out DIR [--train 1200 --val 200 --test 150] [--seed 26]

writes DIR/{images,labels}/{train,val,test}/NNNNN.{png,txt} and DIR/data.yaml. Each split has its own seed
(seed, seed + 1, seed + 2), so the splits are independent draws. Needs numpy and OpenCV (weights/README.md).
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import cv2
import numpy as np

NAMES = ["circle", "ring", "square", "frame", "triangle", "star", "cross", "hexagon"]


def polygon(kind: str, cx: float, cy: float, rx: float, ry: float, angle: float) -> list[np.ndarray]:
    """The shape's outline(s) as polygons in image coordinates (before filling)."""
    def pts(n: int, radii) -> np.ndarray:
        t = np.arange(n) * 2 * math.pi / n
        r = np.asarray(radii, dtype=np.float64)
        x, y = r * np.cos(t) * rx, r * np.sin(t) * ry
        c, s = math.cos(angle), math.sin(angle)
        return np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)

    if kind in ("circle", "ring"):
        return [pts(64, np.ones(64))]
    if kind in ("square", "frame"):
        return [_rotated_rect(cx, cy, rx, ry, angle)]
    if kind == "triangle":
        return [pts(3, np.ones(3))]
    if kind == "star":
        return [pts(10, [1.0, 0.45] * 5)]
    if kind == "hexagon":
        return [pts(6, np.ones(6))]
    if kind == "cross":  # two bars
        w = 0.32
        return [_rotated_rect(cx, cy, rx, ry * w, angle), _rotated_rect(cx, cy, rx * w, ry, angle)]
    raise ValueError(kind)


def _rotated_rect(cx, cy, hw, hh, angle) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    corners = np.array([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]])
    return np.stack([cx + c * corners[:, 0] - s * corners[:, 1], cy + s * corners[:, 0] + c * corners[:, 1]], axis=1)


def shape_mask(kind: str, h: int, w: int, cx, cy, rx, ry, angle, thickness: int) -> np.ndarray:
    """The pixels the shape covers, at 4x subpixel precision, as a bool mask."""
    m = np.zeros((h, w), np.uint8)
    polys = [np.round(p * 4).astype(np.int32) for p in polygon(kind, cx, cy, rx, ry, angle)]
    if kind in ("ring", "frame"):  # outlines
        cv2.polylines(m, polys, True, 1, thickness=max(1, thickness), lineType=cv2.LINE_8, shift=2)
    else:
        cv2.fillPoly(m, polys, 1, lineType=cv2.LINE_8, shift=2)
    return m.astype(bool)


def background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A gradient, low-frequency texture, stripes or blobs, and noise."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = (xx * math.cos(rng.uniform(0, 2 * math.pi)) + yy * math.sin(rng.uniform(0, 2 * math.pi))) / max(h, w)
    img = a + (b - a) * ((t - t.min()) / max(1e-6, t.max() - t.min()))[..., None]
    kind = rng.integers(0, 3)
    if kind == 0:  # smooth texture
        small = rng.uniform(-60, 60, (max(2, h // 32), max(2, w // 32), 3)).astype(np.float32)
        img += cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    elif kind == 1:  # stripes
        f = rng.uniform(0.02, 0.15)
        img += (25 * np.sin(f * (xx + rng.uniform(0, 1) * yy)))[..., None]
    else:  # soft blobs (not the classes' sharp edges)
        for _ in range(rng.integers(3, 9)):
            c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            blob = np.zeros((h, w), np.float32)
            cv2.circle(blob, c, int(rng.integers(10, max(11, min(h, w) // 3))), 1.0, -1)
            blob = cv2.GaussianBlur(blob, (0, 0), sigmaX=float(rng.uniform(5, 20)))
            img += blob[..., None] * rng.uniform(-70, 70, 3)
    img += rng.normal(0, rng.uniform(2, 14), img.shape)
    return np.clip(img, 0, 255)


def make_image(rng: np.random.Generator) -> tuple[np.ndarray, list[tuple[int, float, float, float, float]]]:
    aspect = math.exp(rng.uniform(math.log(0.5), math.log(2.0)))
    long_side = int(rng.integers(256, 481))
    w, h = (long_side, max(128, int(long_side / aspect))) if aspect >= 1 else (max(128, int(long_side * aspect)), long_side)
    img = background(rng, h, w)
    owner = np.full((h, w), -1, np.int32)  # which shape shows at each pixel
    shapes = []  # (class, full mask)
    for _ in range(int(rng.integers(1, 12))):
        for _attempt in range(20):
            cls = int(rng.integers(0, len(NAMES)))
            size = math.exp(rng.uniform(math.log(4), math.log(0.4 * min(h, w))))  # half-size: 8 px wide up to 80% of the short side
            ratio = math.exp(rng.uniform(math.log(0.6), math.log(1.6)))
            rx, ry = size * math.sqrt(ratio), size / math.sqrt(ratio)
            cx, cy = rng.uniform(-0.2 * w, 1.2 * w), rng.uniform(-0.2 * h, 1.2 * h)
            thickness = max(2, int(size * rng.uniform(0.12, 0.3)))
            m = shape_mask(NAMES[cls], h, w, cx, cy, rx, ry, rng.uniform(0, 2 * math.pi), thickness)
            if m.sum() < 30:
                continue
            # every shape before it keeps at least 70% of its pixels showing (the new one shows whole)
            hidden_ok = all((owner == j).sum() - (owner[m] == j).sum() >= 0.7 * shapes[j][1].sum()
                            for j in set(owner[m].tolist()) if j >= 0)
            if not hidden_ok:
                continue
            colour = rng.uniform(0, 255, 3)
            under = img[m].mean(axis=0) if m.any() else np.zeros(3)
            if np.abs(colour - under).sum() < 90:  # keep it distinguishable from what it covers
                colour = 255 - under
            img[m] = colour + rng.normal(0, 4, (int(m.sum()), 3))
            owner[m] = len(shapes)
            shapes.append((cls, m))
            break
    labels = []
    for j, (cls, m) in enumerate(shapes):
        assert (owner == j).sum() >= 0.7 * m.sum()  # the placement rule above
        ys, xs = np.nonzero(m)
        x1, x2, y1, y2 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        labels.append((cls, (x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h))
    return np.clip(img, 0, 255).astype(np.uint8), labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--train", type=int, default=1200)
    ap.add_argument("--val", type=int, default=200)
    ap.add_argument("--test", type=int, default=150)
    ap.add_argument("--seed", type=int, default=26)
    a = ap.parse_args()
    for k, (split, count) in enumerate((("train", a.train), ("val", a.val), ("test", a.test))):
        if count == 0:
            continue
        rng = np.random.default_rng(a.seed + k)
        (a.out / "images" / split).mkdir(parents=True, exist_ok=True)
        (a.out / "labels" / split).mkdir(parents=True, exist_ok=True)
        objects = 0
        for i in range(count):
            img, labels = make_image(rng)
            cv2.imwrite(str(a.out / "images" / split / f"{i:05d}.png"), img[..., ::-1])  # OpenCV writes BGR
            (a.out / "labels" / split / f"{i:05d}.txt").write_text(
                "".join(f"{c} {x:.6f} {y:.6f} {bw:.6f} {bh:.6f}\n" for c, x, y, bw, bh in labels))
            objects += len(labels)
        print(f"{split}: {count} images, {objects} objects")
    splits = "".join(f"{s}: images/{s}\n" for s, n in (("train", a.train), ("val", a.val), ("test", a.test)) if n)
    names = "".join(f"  {i}: {n}\n" for i, n in enumerate(NAMES))
    # no `path`: the splits are relative to this file's folder
    (a.out / "data.yaml").write_text(f"# made by weights/make_shapes.py --seed {a.seed}\n{splits}names:\n{names}")


if __name__ == "__main__":
    main()
