"""Training-pipeline throughput: strong-stage crops/s at 256x192 on one worker (SynthPose data).

Reference, measured in the same run on the same instances: the plain val-time path (decode the
JPEG, crop the padded box, normalise) without augmentation or targets. Prints both and the ratio.

    python benchmarks/bench_data_pipeline.py [--size smoke] [--items 300]
"""
from __future__ import annotations

import argparse
import os
import time

import cv2

from rtmposelib.codecs import build_codec
from rtmposelib.config import PRESETS
from rtmposelib.data.coco import TopdownCocoDataset
from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.data.preprocess import normalize, warp_crop
from rtmposelib.data.synthetic import make_synthpose


def _crops_per_second(fn, n: int) -> float:
    fn(0)                                                      # warm-up
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="smoke", help="SynthPose size (smoke | cpu | N)")
    parser.add_argument("--items", type=int, default=300, help="crops timed per pipeline")
    args = parser.parse_args()
    cv2.setNumThreads(1)                                       # one worker = one core
    cfg = PRESETS["rtmpose-t"]
    root = make_synthpose(args.size)
    dataset = TopdownCocoDataset(ann_file=root / cfg.data.train_ann, image_dir=root / cfg.data.train_images,
                                 metainfo=get_metainfo("coco"), codec=build_codec(cfg.codec),
                                 input_size=cfg.codec.input_size, augment=cfg.aug_stage1)
    n = len(dataset)

    def strong(i: int) -> None:
        dataset[i % n]

    def crop_only(i: int) -> None:
        inst = dataset.instances[i % n]
        crop, _ = warp_crop(dataset.load_image(inst), inst.center, inst.scale * 1.25, cfg.codec.input_size)
        normalize(crop)

    ref = _crops_per_second(crop_only, args.items)
    ours = _crops_per_second(strong, args.items)
    print(f"SynthPose {args.size}: {n} instances, input 256x192, one worker (pid {os.getpid()}, cv2 1 thread)")
    print(f"  reference crop-only (decode + crop + normalise): {ref:8.1f} crops/s")
    print(f"  strong stage-1 pipeline (+ aug + SimCC targets): {ours:8.1f} crops/s")
    print(f"  ratio strong / crop-only: {ours / ref:.2f}")


if __name__ == "__main__":
    main()
