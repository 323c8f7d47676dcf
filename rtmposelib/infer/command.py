"""``rtmpose demo``: pose estimation on an image, a folder of frames or a video.

Examples::

    rtmpose demo clip.mp4 --pose runs/m/best.pth --det onnx:rtmdet_nano.onnx --det-interval 5
    rtmpose demo val2017/ --pose rtmpose-t.onnx --det gt:annotations/person_keypoints_val2017.json
    rtmpose demo photo.jpg --pose rtmpose-t --det file:person_detection_results.json

``--pose`` is a preset name (random weights: for plumbing only), one of our / MMPose's checkpoints
(.pth; architecture from the checkpoint's saved config, else ``--preset``) or an exported .onnx file
(crop size read from the file; SimCC, heatmap (UDP codec) or ``--with-decode`` outputs).
``--det`` is ``gt:ANN.json`` (annotated boxes), ``file:RESULTS.json`` (COCO detection results) or
``onnx:DET.onnx`` (RTMDet with MMDeploy end-to-end outputs). Frames are looked up in gt/file sources
by file name (folders, images) or by frame index as image id (videos). Outputs: see
:mod:`rtmposelib.infer.video`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rtmposelib.config import PRESETS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="an image, a folder of frames or a video file")
    parser.add_argument("--pose", required=True, help="preset name | checkpoint .pth | model .onnx")
    parser.add_argument("--det", required=True, help="gt:ANN.json | file:RESULTS.json | onnx:DET.onnx")
    parser.add_argument("--preset", default=None, choices=sorted(PRESETS),
                        help="architecture of a .pth without saved config (MMPose's) or of an .onnx file "
                             "(its codec; default rtmpose-t)")
    parser.add_argument("--dataset", default="coco", help="keypoint metainfo name (rtmposelib.data.metainfo)")
    parser.add_argument("--ann", default=None, help="COCO file mapping file names to ids for --det file:")
    parser.add_argument("--det-interval", type=int, default=1, help="run the detector every N frames")
    parser.add_argument("--det-thr", type=float, default=0.5, help="detection score threshold")
    parser.add_argument("--pose-kpt-thr", type=float, default=0.5,
                        help="keypoint score needed to derive a tracking box from a pose")
    parser.add_argument("--kpt-thr", type=float, default=0.3, help="drawing threshold")
    parser.add_argument("--flip", action="store_true", help="flip test")
    parser.add_argument("--no-smooth", action="store_true", help="disable One-Euro smoothing")
    parser.add_argument("--annotate", default="mp4", choices=("mp4", "gif", "none"))
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="demo_out", help="output folder")


def build_detector(spec: str, *, score_thr: float, ann_file: str | None = None):
    """A detector from ``gt:PATH`` | ``file:PATH`` | ``onnx:PATH``."""
    from rtmposelib.infer.detector import GroundTruthDetector, RTMDetDetector, ResultsFileDetector

    kind, _, path = spec.partition(":")
    if not path or kind not in ("gt", "file", "onnx"):
        raise ValueError(f"--det must be gt:ANN.json, file:RESULTS.json or onnx:DET.onnx, got {spec!r}")
    if kind == "gt":
        return GroundTruthDetector(path)
    if kind == "file":
        return ResultsFileDetector(path, score_thr=score_thr, ann_file=ann_file)
    return RTMDetDetector.from_onnx(path, score_thr=score_thr)


def build_pose(spec: str, *, preset_name: str):
    """(pose model or .onnx path, RunConfig) from a preset name, a .pth or an .onnx file."""
    from rtmposelib.config import PRESETS, preset

    if spec in PRESETS:
        from rtmposelib.models.pose_model import build_model
        print(f"note: {spec} has random weights; pass a checkpoint for meaningful poses", file=sys.stderr)
        cfg = preset(spec)
        return build_model(cfg.model), cfg
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"--pose {spec!r} is neither a preset ({', '.join(PRESETS)}) nor a file")
    if path.suffix == ".onnx":                          # the crop size is the file's; the codec follows it
        from dataclasses import replace

        from rtmposelib.config import simcc_sigma
        from rtmposelib.export.ort_runner import onnx_heatmap_size, onnx_input_size
        cfg, size, heatmap_size = preset(preset_name or "rtmpose-t"), onnx_input_size(path), onnx_heatmap_size(path)
        codec = replace(cfg.codec, input_size=size, heatmap_size=heatmap_size or (size[0] // 4, size[1] // 4),
                        sigma=simcc_sigma(size, cfg.codec.split_ratio))
        if heatmap_size is not None:                    # the heatmap pre-training models are UDP
            codec = replace(codec, kind="udp_heatmap")
        return str(path), replace(cfg, model=replace(cfg.model, input_size=size), codec=codec)
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.train.checkpoint import checkpoint_run_config, load_pose_weights
    cfg = checkpoint_run_config(path, preset_name)
    return load_pose_weights(build_model(cfg.model), path), cfg


def run(args: argparse.Namespace) -> int:
    from rtmposelib.codecs import build_codec
    from rtmposelib.data.metainfo import get_metainfo
    from rtmposelib.infer.topdown import TopdownPipeline
    from rtmposelib.infer.tracker import PoseTracker
    from rtmposelib.infer.video import run_demo

    pose, cfg = build_pose(args.pose, preset_name=args.preset)
    detector = build_detector(args.det, score_thr=args.det_thr, ann_file=args.ann)
    pipeline = TopdownPipeline(pose, detector, metainfo=get_metainfo(args.dataset),
                               codec=build_codec(cfg.codec), flip_test=args.flip, device=args.device)
    tracker = PoseTracker(pipeline, det_interval=args.det_interval, det_thr=args.det_thr,
                          pose_kpt_thr=args.pose_kpt_thr, smooth=not args.no_smooth)
    metrics = run_demo(args.input, pipeline, out_dir=args.out, tracker=tracker,
                       annotate=None if args.annotate == "none" else args.annotate,
                       kpt_thr=args.kpt_thr, max_frames=args.max_frames)
    if metrics["frames"] == 0:                         # an unreadable video / a folder without images
        for message in metrics["messages"]:
            print(f"  {message}", file=sys.stderr)
        print(f"rtmpose demo: error: no frame of {args.input} could be read", file=sys.stderr)
        return 2
    fps = metrics["fps"]
    print(f"{metrics['frames']} frames ({metrics['detector_runs']} detector runs); frames/s: "
          + ", ".join(f"{k} {v}" for k, v in fps.items()))
    print(f"jitter (px/frame^2): raw {metrics['jitter_raw']}, smoothed {metrics['jitter_smoothed']}")
    for message in metrics["messages"]:
        print(f"  {message}")
    print(f"wrote {Path(args.out)}")
    return 0
