"""The video pipeline of Sec. 3.5 on a clip: skip-frame detection, pose NMS, One-Euro smoothing, with
the final roadmap model; frames/s per stage and jitter (:func:`rtmposelib.infer.video.run_demo`), one
annotated frame and the jitter per frame for the figures.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

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
    images: list[dict] = []
    anns: list[dict] = []
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
                  samples_root: str | Path | None = None, pose_kpt_thr: float | None = None) -> dict:
    """Sec. 3.5: skip-frame detection every ``det_interval`` frames, pose NMS and One-Euro smoothing with
    the final roadmap model. Writes results.json, metrics.json and annotated.gif into ``out_dir/demo``;
    returns the demo's metrics plus ``source`` ("posetrack18 <clip> + <detector file>" or
    "synthpose clip + ground-truth boxes").

    The PoseTrack18 sample frames are used when present AND ``detector_onnx`` (an RTMDet-style
    end-to-end ONNX: a user's RTMDet file, or ours from ``rtmpose detector export``) is given; otherwise
    a SynthPose clip of ``n_frames`` (0 = 8 at smoke scale, 60 otherwise) with its ground-truth boxes as
    the detector.

    pose_kpt_thr: the keypoint score a pose needs to be tracked between detections, which is also the
    score below which a keypoint is left out of the jitter and the drawing. None = the official 0.5 at
    paper scale and 0 (every pose) at the scales with a stand-in: their small models score most
    keypoints below 0.5, so no pose would be tracked and the jitter could not be measured."""
    import tempfile

    from rtmposelib.codecs import build_codec
    from rtmposelib.data.metainfo import get_metainfo
    from rtmposelib.infer.detector import GroundTruthDetector, RTMDetDetector
    from rtmposelib.infer.topdown import TopdownPipeline
    from rtmposelib.infer.tracker import PoseTracker
    from rtmposelib.infer.video import run_demo

    cfg, model = load_trained(results_root, scale)
    if detector_onnx:                                   # zoo:rtmdet-nano.onnx: the released SDK file
        from rtmposelib.zoo.download import resolve
        detector_onnx = resolve(detector_onnx)
    clip = posetrack_clip(samples_root) if detector_onnx else None
    if detector_onnx and not Path(detector_onnx).is_file():
        raise FileNotFoundError(f"person detector ONNX {detector_onnx} does not exist")
    n_frames = n_frames or (8 if get_scale(scale).name == "smoke" else 60)
    if pose_kpt_thr is None:
        pose_kpt_thr = 0.0 if get_scale(scale).standin_images else 0.5
    with tempfile.TemporaryDirectory() as clip_dir:       # generated frames stay out of results/
        if clip is not None:
            assert detector_onnx                        # a clip is only looked for with a detector file
            folder, detector = clip, RTMDetDetector.from_onnx(detector_onnx)
            source = f"posetrack18 {clip.name} + {Path(detector_onnx).name}"
        else:
            folder, ann_file = write_synth_clip(clip_dir, n_frames=n_frames, n_people=n_people)
            detector, source = GroundTruthDetector(ann_file), "synthpose clip + ground-truth boxes"
        pipeline = TopdownPipeline(model, detector, metainfo=get_metainfo("coco"), codec=build_codec(cfg.codec))
        tracker = PoseTracker(pipeline, det_interval=det_interval, pose_kpt_thr=pose_kpt_thr)
        demo = run_demo(folder, pipeline, out_dir=Path(out_dir) / "demo", tracker=tracker, annotate="gif",
                        kpt_thr=min(0.3, pose_kpt_thr))
    return {**demo, "source": source, "pose_kpt_thr": pose_kpt_thr}


def jitter_frame(out_dir: str | Path, *, kpt_thr: float = 0.0) -> pd.DataFrame:
    """Per frame and track, the mean keypoint acceleration |x[t+1] - 2 x[t] + x[t-1]| (px / frame^2) of
    the raw and the One-Euro smoothed keypoints, from the demo's ``demo/results.json`` under ``out_dir``
    (keypoints scoring below ``kpt_thr`` left out); the demo's ``jitter_*`` metrics average the same
    accelerations over every keypoint instead of per row."""
    import json

    path = Path(out_dir) / "demo" / "results.json"
    if not path.is_file():
        raise FileNotFoundError(f"no demo results at {path}; run pipeline_demo first")
    rows = []
    tracks: dict[int, dict[int, tuple[np.ndarray, np.ndarray]]] = {}
    for r in json.loads(path.read_text()):
        smooth = np.asarray(r["keypoints"], float).reshape(-1, 3)
        raw = np.asarray(r["keypoints_raw"], float).reshape(-1, 3)
        low = smooth[:, 2] < kpt_thr
        tracks.setdefault(int(r["track_id"]), {})[int(r["frame"])] = (
            np.where(low[:, None], np.nan, raw[:, :2]), np.where(low[:, None], np.nan, smooth[:, :2]))
    for track, frames in tracks.items():
        for f in sorted(frames):
            if f - 1 in frames and f + 1 in frames:
                acc = [np.nanmean(np.linalg.norm(frames[f + 1][i] - 2 * frames[f][i] + frames[f - 1][i], axis=1))
                       if np.isfinite(frames[f][i]).any() else np.nan for i in (0, 1)]
                rows.append({"frame": f, "track_id": track, "raw": acc[0], "smoothed": acc[1]})
    return pd.DataFrame(rows, columns=["frame", "track_id", "raw", "smoothed"])


def annotated_frame(out_dir: str | Path, index: int | None = None) -> np.ndarray:
    """One frame (RGB uint8) of the demo's ``demo/annotated.gif`` under ``out_dir``: ``index``, or the
    middle one."""
    from PIL import Image, ImageSequence

    path = Path(out_dir) / "demo" / "annotated.gif"
    if not path.is_file():
        raise FileNotFoundError(f"no annotated clip at {path}; run pipeline_demo first")
    with Image.open(path) as gif:
        frames = [f.convert("RGB") for f in ImageSequence.Iterator(gif)]
    i = len(frames) // 2 if index is None else index
    if not 0 <= i < len(frames):
        raise ValueError(f"{path} has {len(frames)} frames; index {i} is out of range")
    return np.asarray(frames[i])


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
