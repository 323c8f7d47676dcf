"""``rtmpose synth``: generate (or find in the cache) the SynthPose dataset and print where it is.

    rtmpose synth --size smoke                 # 48 train / 16 val images, in the cache
    rtmpose synth --size cpu --out data/synth  # 3000 / 300 images into a chosen directory
    rtmpose synth --size 500 --preview gt.png  # also draw the ground truth of a few val images
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", default="smoke", help="smoke | cpu | number of training images")
    parser.add_argument("--out", type=Path, default=None,
                        help="dataset directory (default: the cache, $RTMPOSELIB_CACHE or ~/.cache/rtmposelib)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    parser.add_argument("--preview", type=Path, default=None,
                        help="write a PNG with the ground truth of the first val images drawn")


def run(args: argparse.Namespace) -> int:
    from rtmposelib.data.synthetic import make_synthpose, split_sizes

    split_sizes(args.size)                               # fail early on a bad size
    start = time.perf_counter()
    root = make_synthpose(args.size, root=args.out, seed=args.seed, workers=args.workers)
    manifest = json.loads((root / "synthpose.json").read_text())
    took = time.perf_counter() - start
    counts = manifest["counts"]
    print(f"SynthPose {args.size} (seed {args.seed}) at {root}")
    print(f"  train: {counts['train_images']} images, {counts['train_people']} people; "
          f"val: {counts['val_images']} images, {counts['val_people']} people, "
          f"{counts['val_detections']} detections")
    print(f"  figures completely hidden (not annotated): {counts['hidden_people']}")
    print(f"  {'generated in ' + format(manifest['seconds'], '.1f') + ' s' if took > 0.5 else 'found in the cache'}")
    if args.preview is not None:
        preview(root, args.preview)
        print(f"  preview: {args.preview}")
    return 0


def preview(root: Path, out: Path, n: int = 4) -> Path:
    """Draw the ground truth (v > 0 keypoints, boxes) of the first ``n`` val images side by side."""
    from rtmposelib.data.draw import draw_poses
    from rtmposelib.data.metainfo import get_metainfo

    gt = json.loads((root / "annotations" / "person_keypoints_val2017.json").read_text())
    tiles = []
    for img in gt["images"][:n]:
        image = cv2.imread(str(root / "val2017" / img["file_name"]))
        if image is None:
            raise FileNotFoundError(f"SynthPose preview: cannot read {root / 'val2017' / img['file_name']}")
        anns = [a for a in gt["annotations"] if a["image_id"] == img["id"]]
        k = np.array([a["keypoints"] for a in anns], dtype=np.float64).reshape(-1, 17, 3)
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)]).reshape(-1, 4)
        tiles.append(draw_poses(image, k[..., :2], k[..., 2], get_metainfo("coco"), boxes=boxes, kpt_thr=0.5))
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), np.hstack(tiles)):
        raise ValueError(f"SynthPose preview: cannot write {out}")
    return out
