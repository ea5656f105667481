"""Data-loading throughput (paper Sec. 4.2's pipeline) and synthetic-generation time (docs/design.md#synthetic-data).

Measures, in one process and one thread (as one DataLoader worker runs):

- images/s decoded + augmented at the paper's Cityscapes crop, 512x1024, from full-resolution
  1024x2048 PNGs: ``TrainTransform((512, 1024), scale_range, base_size=(1024, 2048))``; also decode
  alone (OpenCV and Pillow, for comparison) and the evaluation path (``EvalTransform((512, 1024))``);
- seconds to generate the smoke preset's synthetic datasets (sizes read from config/config.yaml).

A benchmark, not a test: numbers depend on the machine and its load. Usage (repository root)::

    python benchmarks/data_throughput.py                    # 8 synthetic 1024x2048 images, 3 passes
    python benchmarks/data_throughput.py --root data/full/cityscapes --images 64 --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from PIL import Image

from crosscbam.data import build_dataset
from crosscbam.data.datasets import read_image, read_label
from crosscbam.data.synth import synth_camvid, synth_cityscapes
from crosscbam.data.transforms import EvalTransform, TrainTransform
from crosscbam.provenance import provenance

REPO = Path(__file__).resolve().parents[1]


def rate(fn, n: int, passes: int) -> float:
    """Items per second of ``fn(i)`` over ``passes`` passes of ``n`` items (after one warm-up item)."""
    fn(0)
    start = time.perf_counter()
    for _ in range(passes):
        for i in range(n):
            fn(i)
    return n * passes / (time.perf_counter() - start)


def throughput(root: Path, n: int, passes: int, scale: tuple[float, float]) -> dict:
    train = TrainTransform((512, 1024), scale, base_size=(1024, 2048))
    ds = build_dataset("cityscapes", root, "train", transform=train)
    n = min(n, len(ds))
    images = [p for p, _ in ds.samples[:n]]
    labels = [p for _, p in ds.samples[:n]]
    out = {
        "images": n, "passes": passes, "image_size": list(read_image(images[0]).shape[:2]),
        "decode_image_opencv": rate(lambda i: read_image(images[i]), n, passes),
        "decode_image_pillow": rate(lambda i: np.asarray(Image.open(images[i]).convert("RGB")), n, passes),
        "decode_label_opencv": rate(lambda i: read_label(labels[i], 19), n, passes),
        "decode_augment_train_512x1024": rate(lambda i: ds[i], n, passes),
        "scale_range": list(scale),
    }
    ds.transform = EvalTransform((512, 1024))
    out["decode_resize_eval_512x1024"] = rate(lambda i: ds[i], n, passes)
    return out


def generation_times(config: dict) -> dict:
    synthetic = config["presets"]["smoke"]["data"]["synthetic"]
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in (("cityscapes", synth_cityscapes), ("camvid", synth_camvid)):
            sizes = synthetic[name]
            counts = {"train": sizes["n_train"], "val": sizes["n_val"], "test": sizes["n_test"]}
            start = time.perf_counter()
            make(Path(tmp) / name, counts, tuple(sizes["size"]), seed=synthetic["seed"], jobs=1)
            seconds = time.perf_counter() - start
            out[name] = {"seconds": round(seconds, 2), "images": sum(counts.values()), "size": sizes["size"],
                         "images_per_s": round(sum(counts.values()) / seconds, 2)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="a Cityscapes tree (default: synthesise --images at 1024x2048)")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--scale", nargs=2, type=float, default=(0.5, 2.0), help="TrainTransform scale_range (MMSeg's default)")
    parser.add_argument("--no-generation", action="store_true", help="skip the smoke-preset generation timing")
    parser.add_argument("--json", type=Path, help="also write the record here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    record: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root
        if root is None:
            root = Path(tmp) / "cityscapes"
            start = time.perf_counter()
            synth_cityscapes(root, {"train": args.images, "val": 0, "test": 0}, (1024, 2048), seed=0, jobs=1)
            record["synth_1024x2048_s_per_image"] = round((time.perf_counter() - start) / args.images, 3)
        record["throughput_images_per_s"] = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in
                                             throughput(root, args.images, args.passes, tuple(args.scale)).items()}
    if not args.no_generation:
        record["smoke_generation"] = generation_times(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    record["provenance"] = provenance()
    text = json.dumps(record, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
