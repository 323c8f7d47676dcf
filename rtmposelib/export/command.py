"""``rtmpose export``: write a preset's model (optionally with trained weights) to an ONNX file.

The file has the official deployment layout (docs/official-behaviour.md "Deployment", :mod:`rtmposelib.export.onnx`):
input
``input`` (N, 3, h, w) normalised RGB, outputs ``simcc_x`` / ``simcc_y`` (or ``keypoints`` / ``scores``
with ``--with-decode``), dynamic batch. After writing, the file is checked against the torch model on
random input and the parity report is printed.

    rtmpose export --preset rtmpose-t --checkpoint runs/t/best.pth --out rtmpose-t.onnx [--with-decode]

``--int8`` also writes ``<out>.int8.onnx``: static int8 quantisation (QDQ, per-channel weights) calibrated
on training crops of the run's data (:mod:`rtmposelib.export.quantize`), with its agreement with the
fp32 file on those crops.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from rtmposelib.config import PRESETS, preset
from rtmposelib.train.checkpoint import checkpoint_run_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=sorted(PRESETS),
                        help="model-zoo preset (default: the checkpoint's saved architecture, else rtmpose-t)")
    parser.add_argument("--checkpoint", help="our training checkpoint (last.pth / best.pth) or an MMPose "
                                             ".pth or zoo:NAME (released weights); default: random weights "
                                             "(for speed tests)")
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--ema", dest="ema", action="store_const", const=True, default=None,
                         help="the EMA weights (error if the checkpoint has none); default: the weights "
                              "validation used (EMA when present)")
    weights.add_argument("--no-ema", dest="ema", action="store_const", const=False,
                         help="the raw (non-averaged) model weights of a last.pth")
    parser.add_argument("--out", required=True, help="the .onnx file to write")
    parser.add_argument("--with-decode", action="store_true",
                        help="put the SimCC decode in the graph (outputs keypoints, scores)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (MMDeploy uses 11)")
    parser.add_argument("--static-batch", action="store_true", help="fix the batch axis to 1")
    parser.add_argument("--int8", action="store_true",
                        help="also write OUT with suffix .int8.onnx, statically quantised to int8")
    parser.add_argument("--calib-data", help="data whose training crops calibrate --int8 (synth:cpu, a COCO "
                                             "root; default: the run's own data)")
    parser.add_argument("--calib-crops", type=int, default=128, help="calibration crops for --int8")


def load_weights(model: torch.nn.Module, checkpoint: str | Path, *, use_ema: bool | None = None) -> torch.nn.Module:
    """Load our training checkpoint or an MMPose one into ``model``
    (:func:`rtmposelib.train.checkpoint.load_pose_weights`; use_ema None = the weights validation used)."""
    from rtmposelib.train.checkpoint import load_pose_weights
    return load_pose_weights(model, checkpoint, use_ema=use_ema)


def run(args: argparse.Namespace) -> int:
    from rtmposelib.export.onnx import export_onnx
    from rtmposelib.export.ort_runner import parity
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.zoo.download import resolve_checkpoint
    args.checkpoint, zoo_cfg = resolve_checkpoint(args.checkpoint, args.preset)     # zoo:NAME -> file, config
    if zoo_cfg is not None:
        cfg = zoo_cfg
    elif args.checkpoint:
        cfg = checkpoint_run_config(args.checkpoint, args.preset)
    else:
        cfg = preset(args.preset or "rtmpose-t")
    torch.manual_seed(0)
    model = build_model(cfg.model).eval()
    if args.checkpoint:
        load_weights(model, args.checkpoint, use_ema=args.ema)
    size = cfg.model.input_size
    path = export_onnx(model, args.out, input_size=size, with_decode=args.with_decode, opset=args.opset,
                       dynamic_batch=not args.static_batch)
    w, h = size
    n = 1 if args.static_batch else 2
    images = np.random.default_rng(0).standard_normal((n, 3, h, w)).astype(np.float32)
    report = parity(model, path, images)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB), input (N, 3, {h}, {w}); "
          f"weights: {args.checkpoint or 'random'}")
    print("parity torch vs ONNX Runtime: " + ", ".join(f"{k}={v:.3g}" for k, v in report.items()))
    if not np.isfinite(report["max_abs_logit"]):
        print(f"error: the model gives non-finite outputs on random input; check the checkpoint "
              f"{args.checkpoint}", file=sys.stderr)
        return 1
    if args.int8:
        from dataclasses import replace

        from rtmposelib.codecs import SimCCCodec, build_codec
        from rtmposelib.export.quantize import calibration_crops, compare_outputs, quantize_onnx
        if args.with_decode:
            raise ValueError("--int8 quantises the raw-logit file; drop --with-decode")
        data = replace(cfg.data, source=args.calib_data) if args.calib_data else cfg.data
        crops = calibration_crops(replace(cfg, data=data), args.calib_crops)
        int8 = quantize_onnx(path, path.with_suffix(".int8.onnx"), crops)
        codec = build_codec(cfg.codec)
        q = compare_outputs(path, int8, crops, codec=codec if isinstance(codec, SimCCCodec) else None)
        print(f"wrote {int8} ({int8.stat().st_size / 1e6:.1f} MB), int8 calibrated on {len(crops)} training "
              f"crops of {data.source}")
        print("fp32 vs int8 on those crops: " + ", ".join(f"{k}={v:.3g}" for k, v in q.items()))
    return 0
