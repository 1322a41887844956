#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpus, tests/fuzz/corpus/<target>/ (Python's standard library only).

Small valid inputs of each format, so the fuzzer starts from the parsers' deep paths instead of their first
check: a torch.save-like zip with a pickled state dict and its storages, pickles of every protocol and one
as torch writes them, a
safetensors file, a PNG, a BMP, three data.yaml files, and (copied) the fixtures' small JPEG. Inputs that once found a bug are
added beside these by hand (regressions/), never regenerated. Deterministic:
    python3 tests/fuzz/make_seeds.py
"""
from __future__ import annotations

import collections
import io
import json
import math
import pickle
import shutil
import struct
import sys
import types
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"


def torch_pickle() -> bytes:
    """A data.pkl as torch.save writes it: an OrderedDict of tensors rebuilt by torch._utils._rebuild_tensor_v2
    from persistent storages, in a checkpoint dict. The torch names are stand-in modules, so no torch is needed."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called: only pickled")

    class HalfStorage:
        pass

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    HalfStorage.__module__, HalfStorage.__qualname__ = "torch", "HalfStorage"
    torch.HalfStorage, utils._rebuild_tensor_v2 = HalfStorage, _rebuild_tensor_v2
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils

    class Tensor:
        def __init__(self, key, shape):
            self.key, self.shape = key, shape

        def __reduce__(self):
            stride = tuple(int(math.prod(self.shape[i + 1:])) for i in range(len(self.shape)))
            return (_rebuild_tensor_v2, (("storage", self.key), 0, self.shape, stride, False, collections.OrderedDict()))

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "storage":
                return ("storage", HalfStorage, obj[1], "cpu", 4)
            return None

    state = collections.OrderedDict([("model.0.conv.weight", Tensor("0", (2, 2)))])
    buf = io.BytesIO()
    P(buf, protocol=2).dump({"model": None, "ema": None, "epoch": -1, "state_dict": state, "train_args": {"imgsz": 640}})
    return buf.getvalue()


def torch_zip(data_pkl: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", data_pkl)
        z.writestr("archive/data/0", struct.pack("<4e", 1.0, -2.0, 0.5, 3.0))
        z.writestr("archive/version", "3\n")
        z.writestr("archive/byteorder", "little")
    return buf.getvalue()


def safetensors() -> bytes:
    data = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0) + struct.pack("<2e", 0.5, -1.0)
    header = {"a.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
              "b.bias": {"dtype": "F16", "shape": [2], "data_offsets": [16, 20]},
              "__metadata__": {"names": "{0: 'x'}"}}
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def png(w=5, h=3) -> bytes:
    raw = b"".join(b"\x00" + bytes(v for x in range(w) for v in (x * 40 % 256, y * 80 % 256, (x + y) * 30 % 256)) for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def bmp(w=3, h=2) -> bytes:
    row = (w * 3 + 3) // 4 * 4
    pixels = b"".join(bytes(b for x in range(w) for b in (x * 60, y * 90, 200)) + b"\0" * (row - w * 3) for y in range(h))
    return b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0) + pixels


def main() -> None:
    def dumps_with_storage(obj, protocol):  # plain pickles, with a persistent id where "STORAGE" stands
        out = io.BytesIO()

        class Pk(pickle.Pickler):
            def persistent_id(self, o):
                return ("storage", "HalfStorage", "0", "cpu", 4) if o == "STORAGE" else None

        Pk(out, protocol=protocol).dump(obj)
        return out.getvalue()

    seeds = {
        "pickle": {**{f"proto{p}.pkl": dumps_with_storage({"a": [1, 2.5, "x", b"y", (None, True)], "b": {3: "STORAGE"}}, p)
                      for p in range(0, 6)}, "torch.pkl": torch_pickle()},
        "safetensors": {"small.safetensors": safetensors()},
        "image": {"small.png": png(), "small.bmp": bmp()},
        "dataset_yaml": {  # data.yaml as Ultralytics writes them: lists, maps, path, nc, anchors and flow style
            "list.yaml": b"path: ../datasets/x\ntrain: images/train\nval: [images/val, images/val2]\ntest:\n"
                         b"names: [a, 'b c', \"d\"]\n",
            "map.yaml": b"# comment\ntrain: t.txt\nvalidation: v.txt\nnc: 3\nnames:\n  0: person\n  1: car\n  2: x\n"
                        b"download: |\n  import os\n  print(1)\n",
            "anchors.yaml": b"base: &b [p, q]\ntrain: *b\nval: {x: 1}\nnames: !!python/object:os.system ls\n",
        },
    }
    seeds["zip"] = {"small.pt": torch_zip(torch_pickle())}
    seeds["checkpoint"] = {"small.pt": torch_zip(torch_pickle())}
    for target, files in seeds.items():
        (CORPUS / target).mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (CORPUS / target / name).write_bytes(data)
    jpeg = HERE.parent.parent / "weights" / "fixtures" / "exif-rotate90.jpg"
    for target in ("jpeg", "image"):
        (CORPUS / target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(jpeg, CORPUS / target / "exif-rotate90.jpg")
    for target in sorted(p.name for p in CORPUS.iterdir()):
        files = list((CORPUS / target).iterdir())
        print(f"{target}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
