"""SynthPose generation speed at 640 x 480, against writing JPEG noise images with cv2.imwrite.

The reference is the floor of any JPEG dataset writer: encode and write an already-made image, in one
process. Ours renders the scene, computes exact ground truth and detections, encodes, writes and saves
the json. Target: >= 100 images/s on 2 cores.

    python benchmarks/bench_synthpose.py [--images 400]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from rtmposelib.data.synthetic import IMAGE_SIZE, make_synthpose, split_sizes


def reference_rate(n: int, out: Path) -> float:
    """Images/s of cv2.imwrite (JPEG quality 90) of uniform-noise images of IMAGE_SIZE, one process."""
    w, h = IMAGE_SIZE
    noise = np.random.default_rng(0).integers(0, 256, (8, h, w, 3), dtype=np.uint8)
    out.mkdir(parents=True)
    start = time.perf_counter()
    for i in range(n):
        cv2.imwrite(str(out / f"{i:06d}.jpg"), noise[i % 8], [cv2.IMWRITE_JPEG_QUALITY, 90])
    return n / (time.perf_counter() - start)


def synthpose_rate(n_train: int, out: Path, workers: int) -> float:
    """Images/s (train + val) of make_synthpose into a fresh directory."""
    total = sum(split_sizes(n_train))
    start = time.perf_counter()
    make_synthpose(n_train, root=out, workers=workers)
    return total / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=400, help="training images (val adds a tenth)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n_total = sum(split_sizes(args.images))
        ref = reference_rate(n_total, tmp / "ref")
        one = synthpose_rate(args.images, tmp / "one", workers=0)
        many = synthpose_rate(args.images, tmp / "many", workers=cores)
    print(f"SynthPose at {IMAGE_SIZE[0]}x{IMAGE_SIZE[1]}, {n_total} images, {cores} cores")
    print(f"  reference cv2.imwrite of noise, 1 process : {ref:8.1f} images/s")
    print(f"  SynthPose, 1 process                      : {one:8.1f} images/s  ({one / ref:.2f} x reference)")
    print(f"  SynthPose, {cores} processes                    : {many:8.1f} images/s  ({many / ref:.2f} x reference)"
          f"  target >= 100: {'met' if many >= 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
