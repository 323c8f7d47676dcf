"""``rtmpose eval``: the metric of a checkpoint on its run's (or the given) validation data.

Example: ``rtmpose eval --checkpoint runs/t/best.pth --data synth:smoke``.
The checkpoint may be one of ours (``last.pth`` -- EMA weights when present -- or ``best.pth``) or an
official MMPose one (converted by :mod:`rtmposelib.models.mmpose_checkpoint`; name its architecture with
``--preset``). Ours carry their config: the model, input size and (unless ``--data``) data come from it.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from torch import nn

from rtmposelib.config import PRESETS
from rtmposelib.train.checkpoint import checkpoint_run_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=sorted(PRESETS),
                        help="architecture of a checkpoint without saved config (MMPose's); ours carry theirs")
    parser.add_argument("--checkpoint", required=True, help="our last.pth / best.pth, an MMPose .pth or zoo:NAME "
                                                                "(released weights, rtmpose zoo list)")
    parser.add_argument("--data", default=None, help="synth:<size> or a COCO-format root (default: the "
                                                     "checkpoint's training data, else the preset's)")
    parser.add_argument("--ann-file", default=None,
                        help="keypoint annotations of the split, relative to the root or absolute (default: "
                             "annotations/person_keypoints_<split>2017.json)")
    parser.add_argument("--image-dir", default=None,
                        help="images of the split, relative to the root or absolute (default: <split>2017)")
    parser.add_argument("--dataset", default=None,
                        help="keypoint metainfo and protocol: coco | crowdpose | aic | mpii | ap10k ... "
                             "(default: the checkpoint's / preset's)")
    parser.add_argument("--bbox-file", default=None, help="COCO detection results json (default: GT boxes)")
    parser.add_argument("--split", default="val", choices=("val", "train"))
    parser.add_argument("--no-flip", action="store_true", help="disable the flip test")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default=None, help="cpu | cuda | cuda:N (default: cuda when available, "
                                                         "as rtmpose train)")
    parser.add_argument("--out", default=None, help="write the metrics (and per-keypoint csv) here")


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load our training checkpoint (the weights validation used: EMA when present) or an official MMPose
    one into ``model`` (:func:`rtmposelib.train.checkpoint.load_pose_weights`)."""
    from rtmposelib.train.checkpoint import load_pose_weights
    return load_pose_weights(model, path)


def run(args: argparse.Namespace) -> int:
    from rtmposelib.eval.evaluate import evaluate
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.zoo.download import resolve_checkpoint
    args.checkpoint, zoo_cfg = resolve_checkpoint(args.checkpoint, args.preset)     # zoo:NAME -> file, config
    cfg = zoo_cfg or checkpoint_run_config(args.checkpoint, args.preset)
    data = cfg.data
    if args.data is not None:
        data = replace(data, source=args.data)
    if args.bbox_file is not None:
        data = replace(data, val_bbox_file=args.bbox_file)
    if args.dataset is not None:
        data = replace(data, dataset=args.dataset)
    for name, value in (("ann", args.ann_file), ("images", args.image_dir)):
        if value is not None:                  # both splits: a folder with one annotation file is enough
            data = replace(data, **{f"train_{name}": value, f"val_{name}": value})
    cfg = replace(cfg, data=data)
    model = load_weights(build_model(cfg.model), args.checkpoint)
    import torch
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    metrics = evaluate(model, cfg, split=args.split, flip_test=False if args.no_flip else None,
                       device=device, batch_size=args.batch_size)
    table = metrics.pop("per_keypoint")
    keys = (("PCKh", "PCKh@0.1", "Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle")
            if metrics["metric"] == "PCKh" else ("AP", "AP50", "AP75", "APm", "APl", "AR", "AP(E)", "AP(M)", "AP(H)"))
    print(" ".join(f"{k} {metrics[k]:.4f}" for k in keys if k in metrics))
    print(f"{metrics['num_instances']} instances, flip test {metrics['flip_test']}, skipped {metrics['skipped']}")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(metrics, indent=2))
        table.to_csv(out.with_suffix(".per_keypoint.csv"), index=False)
        print(f"wrote {out}")
    return 0
