"""Pipeline throughput with skip-frame detection (RTMPose paper Section 3.5).

Frames/s of the video pipeline (detector -> crops -> pose model -> decode -> pose NMS -> tracking ->
One-Euro) on a synthetic 640x480 SynthPose video with 1, 3 and 6 people, with the detector on every
frame (the reference, measured in the same run) and every 5th frame; prints the ratio every-5 / every-1.

What runs: the pose model is a real RTMPose preset (random weights, torch or ONNX Runtime, one thread)
and the detector cost is a real RTMDet-nano-sized network (CSPNeXt deepen 0.33 / widen 0.25 on the
320x320 letterbox) — so the timings are those of the deployed shapes. Because no trained weights
can be downloaded, the *content* comes from the video's ground truth: the detector returns the true
person boxes, and after each pose forward the keypoints are replaced by the true ones of the person
the crop overlaps. The number of crops per frame therefore equals what a working model would produce.

Usage: python benchmarks/bench_pipeline.py [--frames 40] [--pose rtmpose-t] [--backend onnx|torch]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtmposelib.codecs import build_codec  # noqa: E402
from rtmposelib.config import preset  # noqa: E402
from rtmposelib.data.metainfo import get_metainfo  # noqa: E402
from rtmposelib.data.synth_video import synth_video  # noqa: E402
from rtmposelib.detect.letterbox import letterbox  # noqa: E402
from rtmposelib.infer.detector import CallableDetector  # noqa: E402
from rtmposelib.infer.pose_nms import box_iou  # noqa: E402
from rtmposelib.infer.topdown import TopdownPipeline  # noqa: E402
from rtmposelib.infer.tracker import PoseTracker  # noqa: E402
from rtmposelib.models.cspnext import CSPNeXt  # noqa: E402
from rtmposelib.models.pose_model import build_model  # noqa: E402


def xyxy(bbox) -> np.ndarray:
    x, y, w, h = bbox
    return np.array([x, y, x + w, y + h], np.float32)


class Scene:
    """The ground truth of the frame being processed (set by the benchmark loop)."""
    truth: list[dict] = []


def gt_detector(scene: Scene) -> CallableDetector:
    """RTMDet-nano-sized backbone forward on the letterbox (cost) + the true boxes (content)."""
    net = CSPNeXt(deepen_factor=0.33, widen_factor=0.25, out_indices=(2, 3, 4)).eval()

    def detect(image_bgr: np.ndarray):
        batch, _ = letterbox(image_bgr, (320, 320))
        with torch.no_grad():
            net(torch.from_numpy(batch))
        boxes = np.array([xyxy(g["bbox"]) for g in scene.truth], np.float32).reshape(-1, 4)
        return boxes, np.ones(len(boxes), np.float32)

    return CallableDetector(detect)


class TruthContent:
    """Wraps a TopdownPipeline: the real crops + forward + decode run and are timed, then keypoints are
    replaced by the true pose of the person each crop overlaps most (score 1 on labelled points)."""

    def __init__(self, pipeline: TopdownPipeline, scene: Scene) -> None:
        self.inner, self.scene = pipeline, scene
        self.detector, self.metainfo, self.timings = pipeline.detector, pipeline.metainfo, pipeline.timings

    def estimate(self, image, boxes, box_scores=None, *, nms=True):
        poses = self.inner.estimate(image, boxes, box_scores, nms=nms)
        if len(poses) and self.scene.truth:
            gt_boxes = np.stack([xyxy(g["bbox"]) for g in self.scene.truth])
            best = box_iou(poses.boxes, gt_boxes).argmax(axis=1)
            for i, j in enumerate(best):
                kpts = self.scene.truth[j]["keypoints"]
                poses.keypoints[i], poses.keypoint_scores[i] = kpts[:, :2], (kpts[:, 2] > 0)
        return poses


def run(frames, truth, pipeline: TopdownPipeline, scene: Scene, det_interval: int) -> dict:
    pipeline.timings.clear()
    tracker = PoseTracker(TruthContent(pipeline, scene), det_interval=det_interval)
    crops = 0
    start = time.perf_counter()
    for frame, gt in zip(frames, truth):
        scene.truth = gt
        crops += len(tracker(frame).candidate_boxes)
    total = time.perf_counter() - start
    n = len(frames)
    return {"fps": n / total, "crops_per_frame": crops / n,
            **{f"{k}_ms": 1000 * v / n for k, v in pipeline.timings.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--pose", default="rtmpose-t", help="preset name")
    parser.add_argument("--backend", default="onnx", choices=("onnx", "torch"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = preset(args.pose)
    torch.manual_seed(0)
    model = build_model(cfg.model).eval()
    pose = model
    if args.backend == "onnx":
        from rtmposelib.export.onnx import export_onnx
        pose = str(export_onnx(model, Path(tempfile.mkdtemp()) / "pose.onnx", input_size=cfg.model.input_size))
    scene = Scene()
    pipeline = TopdownPipeline(pose, gt_detector(scene), metainfo=get_metainfo("coco"),
                               codec=build_codec(cfg.codec))
    print(f"pose {args.pose} ({args.backend}, 1 thread), detector RTMDet-nano-sized backbone, "
          f"{args.frames} frames 640x480")
    print(f"{'people':>6} {'K':>2} {'frames/s':>9} {'crops/frame':>11} {'det ms':>7} {'pose ms':>8} "
          f"{'post ms':>8} {'every-5 / every-1':>18}")
    # one step per scene size, on stderr and only on a terminal: the table on stdout stays as it is
    bar = tqdm((1, 3, 6), desc="scenes", unit="scene", file=sys.stderr, disable=None, leave=False)
    for people in bar:
        bar.set_postfix_str(f"{people} people")
        frames, truth = synth_video(n_frames=args.frames, n_people=people, seed=people)
        run(frames[:3], truth[:3], pipeline, scene, 1)                       # warm-up
        every1 = run(frames, truth, pipeline, scene, 1)
        every5 = run(frames, truth, pipeline, scene, 5)
        with tqdm.external_write_mode(file=sys.stdout):
            for k, r in ((1, every1), (5, every5)):
                ratio = f"{every5['fps'] / every1['fps']:.2f}x" if k == 5 else "(reference)"
                print(f"{people:>6} {k:>2} {r['fps']:>9.1f} {r['crops_per_frame']:>11.2f} "
                      f"{r.get('detector_ms', 0):>7.1f} {r.get('pre_ms', 0) + r.get('pose_ms', 0):>8.1f} "
                      f"{r.get('post_ms', 0):>8.1f} {ratio:>18}")


if __name__ == "__main__":
    main()
