"""The video pipeline of Sec. 3.5 on a clip: skip-frame detection, pose NMS, One-Euro smoothing, with
the final roadmap model; frames/s per stage and jitter (:func:`rtmposelib.infer.video.run_demo`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from rtmposelib.experiments.runs import load_trained
from rtmposelib.suite.scales import get_scale


def write_synth_clip(out_dir: str | Path, *, n_frames: int, n_people: int, seed: int = 0) -> tuple[Path, Path]:
    """A SynthPose clip as numbered JPEG frames plus a COCO ground-truth file of its person boxes and
    keypoints (file names as image keys). Returns (frames folder, annotation file)."""
    import json

    import cv2

    from rtmposelib.data.synth_video import synth_video

    frames, truth = synth_video(n_frames=n_frames, n_people=n_people, seed=seed)
    folder = Path(out_dir) / "synth_clip"
    folder.mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for i, (frame, people) in enumerate(zip(frames, truth)):
        name = f"{i:06d}.jpg"
        if not cv2.imwrite(str(folder / name), frame):
            raise OSError(f"could not write frame {folder / name}")
        images.append({"id": i, "file_name": name, "width": frame.shape[1], "height": frame.shape[0]})
        for p in people:
            kpts = np.asarray(p["keypoints"], dtype=float)
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": 1, "iscrowd": 0,
                         "bbox": [float(v) for v in p["bbox"]], "area": float(p["area"]),
                         "keypoints": kpts.reshape(-1).tolist(), "num_keypoints": int((kpts[:, 2] > 0).sum()),
                         "track_id": int(p["track_id"])})
    ann_file = Path(out_dir) / "synth_clip_gt.json"
    ann_file.write_text(json.dumps({"images": images, "annotations": anns,
                                    "categories": [{"id": 1, "name": "person"}]}))
    return folder, ann_file


def posetrack_clip(samples_root: str | Path | None = None) -> Path | None:
    """The first PoseTrack18 frame folder under the samples (``posetrack18/videos/<clip>/``), or None."""
    from rtmposelib.experiments.tables import shared_data_dir

    root = shared_data_dir(samples_root)
    videos = None if root is None else root / "posetrack18" / "videos"
    if videos is None or not videos.is_dir():
        return None
    clips = sorted(d for d in videos.iterdir() if d.is_dir() and any(d.glob("*.jpg")))
    return clips[0] if clips else None


def pipeline_demo(results_root: str | Path, scale: str, out_dir: str | Path, *, det_interval: int = 5,
                  n_frames: int = 0, n_people: int = 3, detector_onnx: str | None = None,
                  samples_root: str | Path | None = None) -> dict:
    """Sec. 3.5: skip-frame detection every ``det_interval`` frames, pose NMS and One-Euro smoothing with
    the final roadmap model. Writes results.json, metrics.json and annotated.gif into ``out_dir/demo``;
    returns the demo's metrics plus ``source`` ("posetrack18 <clip> + <detector file>" or
    "synthpose clip + ground-truth boxes").

    The PoseTrack18 sample frames are used when present AND ``detector_onnx`` (an RTMDet-style
    end-to-end ONNX: a user's RTMDet file, or ours from ``rtmpose detector export``) is given; otherwise
    a SynthPose clip of ``n_frames`` (0 = 8 at smoke scale, 60 otherwise) with its ground-truth boxes as
    the detector."""
    import tempfile

    from rtmposelib.codecs import build_codec
    from rtmposelib.data.metainfo import get_metainfo
    from rtmposelib.infer.detector import GroundTruthDetector, RTMDetDetector
    from rtmposelib.infer.topdown import TopdownPipeline
    from rtmposelib.infer.tracker import PoseTracker
    from rtmposelib.infer.video import run_demo

    cfg, model = load_trained(results_root, scale)
    clip = posetrack_clip(samples_root) if detector_onnx else None
    if detector_onnx and not Path(detector_onnx).is_file():
        raise FileNotFoundError(f"person detector ONNX {detector_onnx} does not exist")
    n_frames = n_frames or (8 if get_scale(scale).name == "smoke" else 60)
    with tempfile.TemporaryDirectory() as clip_dir:       # generated frames stay out of results/
        if clip is not None:
            folder, detector = clip, RTMDetDetector.from_onnx(detector_onnx)
            source = f"posetrack18 {clip.name} + {Path(detector_onnx).name}"
        else:
            folder, ann_file = write_synth_clip(clip_dir, n_frames=n_frames, n_people=n_people)
            detector, source = GroundTruthDetector(ann_file), "synthpose clip + ground-truth boxes"
        pipeline = TopdownPipeline(model, detector, metainfo=get_metainfo("coco"), codec=build_codec(cfg.codec))
        tracker = PoseTracker(pipeline, det_interval=det_interval)
        demo = run_demo(folder, pipeline, out_dir=Path(out_dir) / "demo", tracker=tracker, annotate="gif")
    return {**demo, "source": source}


def demo_metrics(demo: dict) -> dict:
    """The demo's scalar metrics, nested dicts flattened with '_' (lists such as messages dropped)."""
    out = {}
    for k, v in demo.items():
        if isinstance(v, dict):
            out.update({f"{k}_{kk}": vv for kk, vv in v.items() if isinstance(vv, (int, float)) or vv is None})
        elif isinstance(v, (int, float)) or v is None:
            out[k] = v
    if isinstance(demo.get("source"), str):
        out["source"] = demo["source"]                   # which clip and detector were used
    return out
