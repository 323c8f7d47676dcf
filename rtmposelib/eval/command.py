"""``rtmpose eval``: COCO keypoint AP of a checkpoint on a preset's validation data.

Example: ``rtmpose eval --preset rtmpose-t --checkpoint runs/t/best.pth --data synth:smoke``.
The checkpoint may be one of ours (``last.pth`` -- EMA weights when present -- or ``best.pth``) or an
official MMPose one (converted by :mod:`rtmposelib.models.mmpose_checkpoint`).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from rtmposelib.config import preset


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", required=True, help="a key of rtmposelib.config.PRESETS")
    parser.add_argument("--checkpoint", required=True, help="our last.pth / best.pth or an MMPose .pth")
    parser.add_argument("--data", default=None, help="synth:<size> or a COCO-format root (default: preset's)")
    parser.add_argument("--bbox-file", default=None, help="COCO detection results json (default: GT boxes)")
    parser.add_argument("--split", default="val", choices=("val", "train"))
    parser.add_argument("--no-flip", action="store_true", help="disable the flip test")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None, help="write the metrics (and per-keypoint csv) here")


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load our training checkpoint (EMA weights preferred) or an official MMPose one into ``model``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(ckpt, dict) and isinstance(ckpt.get("ema"), dict) and "module" in ckpt["ema"]:
        state = ckpt["ema"]["module"]
    elif isinstance(ckpt, dict) and isinstance(ckpt.get("model"), dict):
        state = ckpt["model"]
    else:
        from rtmposelib.models.mmpose_checkpoint import load_mmpose_checkpoint
        return load_mmpose_checkpoint(model, ckpt)
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as err:                      # shape mismatches
        raise ValueError(f"{path} does not fit this preset: {str(err).splitlines()[1:2]}") from None
    if missing or unexpected:
        raise ValueError(f"{path} does not fit this preset: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model


def run(args: argparse.Namespace) -> int:
    from rtmposelib.eval.evaluate import evaluate
    from rtmposelib.models.pose_model import build_model

    cfg = preset(args.preset)
    data = cfg.data
    if args.data is not None:
        data = replace(data, source=args.data)
    if args.bbox_file is not None:
        data = replace(data, val_bbox_file=args.bbox_file)
    cfg = replace(cfg, data=data)
    model = load_weights(build_model(cfg.model), args.checkpoint)
    metrics = evaluate(model, cfg, split=args.split, flip_test=False if args.no_flip else None,
                       device=args.device, batch_size=args.batch_size)
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
