"""``rtmpose demo``: pose estimation on an image, a folder of frames or a video.

Examples::

    rtmpose demo clip.mp4        # released RTMDet-nano + RTMPose-m (downloaded once), detection every 5 frames
    rtmpose demo clip.mp4 --pose runs/m/best.pth --det onnx:rtmdet_nano.onnx --det-interval 5
    rtmpose demo val2017/ --pose rtmpose-t.onnx --det gt:annotations/person_keypoints_val2017.json
    rtmpose demo photo.jpg --pose rtmpose-t --det file:person_detection_results.json

``--pose`` is a preset name (random weights: for plumbing only), one of our / MMPose's checkpoints
(.pth; architecture from the checkpoint's saved config, else ``--preset``) or an exported .onnx file
(crop size read from the file; SimCC, heatmap (UDP codec) or ``--with-decode`` outputs).
``--det`` is ``gt:ANN.json`` (annotated boxes), ``file:RESULTS.json`` (COCO detection results) or
``onnx:DET.onnx`` (RTMDet with MMDeploy end-to-end outputs). ``zoo:<name>`` (``rtmpose zoo list``) names
released weights for either: the checkpoint, or with ``.onnx`` the ONNX file of its SDK archive; the
defaults are ``zoo:rtmpose-m`` and ``zoo:rtmdet-nano``. Frames are looked up in gt/file sources
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
    parser.add_argument("--pose", default="zoo:rtmpose-m",
                        help="zoo:NAME[.onnx] | preset name | checkpoint .pth | model .onnx (default: %(default)s)")
    parser.add_argument("--det", default="zoo:rtmdet-nano",
                        help="zoo:NAME[.onnx] | gt:ANN.json | file:RESULTS.json | onnx:DET.onnx (default: %(default)s)")
    parser.add_argument("--preset", default=None, choices=sorted(PRESETS),
                        help="architecture of a .pth without saved config (MMPose's) or of an .onnx file "
                             "(its codec; default rtmpose-t)")
    parser.add_argument("--dataset", default="coco", help="keypoint metainfo name (rtmposelib.data.metainfo)")
    parser.add_argument("--ann", default=None, help="COCO file mapping file names to ids for --det file:")
    parser.add_argument("--det-interval", type=int, default=5,
                        help="run the detector every N frames (skip-frame detection; default %(default)s)")
    parser.add_argument("--det-thr", type=float, default=0.5, help="detection score threshold")
    parser.add_argument("--pose-kpt-thr", type=float, default=0.5,
                        help="keypoint score needed to derive a tracking box from a pose")
    parser.add_argument("--kpt-thr", type=float, default=0.3, help="drawing threshold")
    parser.add_argument("--flip", action="store_true", help="flip test")
    parser.add_argument("--no-smooth", action="store_true", help="disable One-Euro smoothing")
    parser.add_argument("--annotate", default="mp4", choices=("mp4", "gif", "none"))
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compile", action="store_true",
                        help="torch pose model: torch.compile it with frozen weights (compiles on first use)")
    parser.add_argument("--out", default="demo_out", help="output folder")


def build_detector(spec: str, *, score_thr: float, ann_file: str | None = None):
    """A detector from ``gt:PATH`` | ``file:PATH`` | ``onnx:PATH`` | ``zoo:NAME[.onnx]``."""
    from rtmposelib.infer.detector import GroundTruthDetector, ResultsFileDetector, RTMDetDetector

    kind, _, path = spec.partition(":")
    if kind == "zoo":
        return zoo_detector(spec, score_thr=score_thr)
    if not path or kind not in ("gt", "file", "onnx"):
        raise ValueError(f"--det must be gt:ANN.json, file:RESULTS.json, onnx:DET.onnx or zoo:NAME, got {spec!r}")
    if kind == "gt":
        return GroundTruthDetector(path)
    if kind == "file":
        return ResultsFileDetector(path, score_thr=score_thr, ann_file=ann_file)
    return RTMDetDetector.from_onnx(path, score_thr=score_thr)


def zoo_detector(spec: str, *, score_thr: float):
    """A released RTMDet: ``zoo:NAME.onnx`` through ONNX Runtime, ``zoo:NAME`` (the MMDetection checkpoint)
    through our RTMDet with the end-to-end post-processing."""
    from rtmposelib.infer.detector import RTMDetDetector
    from rtmposelib.zoo.download import fetch_entry, parse

    entry, onnx = parse(spec)
    if entry.kind != "detector":
        raise ValueError(f"--det {spec}: {entry.file_name} is a pose model, not a detector")
    path = fetch_entry(entry, onnx=onnx)
    if onnx:
        return RTMDetDetector.from_onnx(path, score_thr=score_thr)
    from rtmposelib.detect.mmdet_checkpoint import load_mmdet_checkpoint
    from rtmposelib.detect.postprocess import RTMDetEndToEnd
    from rtmposelib.detect.rtmdet import build_rtmdet
    from rtmposelib.zoo.registry import rtmdet_config

    cfg = rtmdet_config(entry)
    model = load_mmdet_checkpoint(build_rtmdet(cfg), path).eval()
    return RTMDetDetector.from_torch(RTMDetEndToEnd(model).eval(), input_size=cfg.input_size, score_thr=score_thr)


def build_pose(spec: str, *, preset_name: str):
    """(pose model or .onnx path, RunConfig) from ``zoo:NAME[.onnx]``, a preset name, a .pth or an .onnx file."""
    from rtmposelib.config import PRESETS, preset

    if spec.startswith("zoo:"):
        from rtmposelib.zoo.download import fetch_entry, parse
        from rtmposelib.zoo.registry import pose_run_config

        entry, onnx = parse(spec)
        cfg = pose_run_config(entry)
        path = fetch_entry(entry, onnx=onnx)
        if onnx:
            return str(path), cfg
        from rtmposelib.models.mmpose_checkpoint import load_mmpose_checkpoint
        from rtmposelib.models.pose_model import build_model
        return load_mmpose_checkpoint(build_model(cfg.model), path).eval(), cfg
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
    from rtmposelib.infer.topdown import PoseRunner, TopdownPipeline
    from rtmposelib.infer.tracker import PoseTracker
    from rtmposelib.infer.video import run_demo

    pose, cfg = build_pose(args.pose, preset_name=args.preset)
    if args.compile and not isinstance(pose, (str, Path)):
        pose = PoseRunner(pose, input_size=cfg.codec.input_size, device=args.device, compile=True)
    detector = build_detector(args.det, score_thr=args.det_thr, ann_file=args.ann)
    pipeline = TopdownPipeline(pose, detector, metainfo=get_metainfo(args.dataset),
                               codec=build_codec(cfg.codec), flip_test=args.flip, device=args.device)
    tracker = PoseTracker(pipeline, det_interval=args.det_interval, det_thr=args.det_thr,
                          pose_kpt_thr=args.pose_kpt_thr, smooth=not args.no_smooth)
    tracker = FrameProgress(tracker, total=_frame_count(args.input, args.max_frames))
    metrics = run_demo(args.input, pipeline, out_dir=args.out, tracker=tracker,
                       annotate=None if args.annotate == "none" else args.annotate,
                       kpt_thr=args.kpt_thr, max_frames=args.max_frames)
    tracker.close()
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


class FrameProgress:
    """A tracker with a tqdm bar (stderr) that advances once per frame; every attribute is the tracker's."""

    def __init__(self, tracker, *, total: int | None) -> None:
        from tqdm import tqdm

        self._tracker = tracker
        self._bar = tqdm(total=total, unit="frame", desc="demo", file=sys.stderr, leave=False)

    def __call__(self, *args, **kwargs):
        out = self._tracker(*args, **kwargs)
        self._bar.update(1)
        return out

    def __getattr__(self, name):
        return getattr(self._tracker, name)

    def close(self) -> None:
        self._bar.close()


def _frame_count(source: str, max_frames: int | None) -> int | None:
    """The number of frames the demo will read from a video (None when unknown)."""
    import cv2

    cap = cv2.VideoCapture(str(source))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
    cap.release()
    n = n if n > 0 else None
    return min(n, max_frames) if n and max_frames else n or max_frames
