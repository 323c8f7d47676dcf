"""Running the pipeline on a user's media: an image, a folder of frames or a video file.

RTMPose paper Section 3.5: the inference pipeline on a stream. Single images go through
:class:`~rtmposelib.infer.topdown.TopdownPipeline`; folders and videos are frames of one stream and
go through :class:`~rtmposelib.infer.tracker.PoseTracker` (skip-frame detection, pose NMS, tracks,
One-Euro). Outputs written to ``out_dir``:

- ``results.json``: COCO keypoint results, one entry per person per frame, with ``image_id`` = frame
  index, ``frame`` / ``file`` naming the frame, ``track_id``, ``keypoints`` (the smoothed ones on
  streams) and ``keypoints_raw``;
- ``annotated.mp4`` (or ``.gif``; ``annotated.jpg`` for one image) with skeletons drawn;
- ``metrics.json``: frames, frames/s of each stage (detector, pre-processing, pose model, post =
  decode + NMS + tracking + smoothing) and end to end, and the jitter (mean frame-to-frame keypoint
  acceleration, px / frame^2) of the raw and the smoothed keypoints; ``messages`` lists problems.

Bad input (a video OpenCV cannot open, zero frames, unreadable images in a folder, frames without
people) gives a message in ``metrics.json`` / the returned report and valid, possibly empty, outputs.
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from rtmposelib.data.draw import draw_poses
from rtmposelib.data.image_decode import decode_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def media_kind(source: str | Path) -> str:
    """"image" | "folder" | "video" for an existing path (FileNotFoundError otherwise)."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"input not found: {source}")
    if source.is_dir():
        return "folder"
    if source.suffix.lower() in IMAGE_SUFFIXES:
        return "image"
    return "video"


def read_frames(source: str | Path, messages: list[str]) -> tuple[Iterator[tuple[int | str, np.ndarray]], float]:
    """Frames of ``source`` as (key, image (H, W, 3) uint8 BGR), and the stream's frames/s.

    key: the file name for images and folder frames, the frame index for videos. Problems (unreadable
    files, an unopenable video) are appended to ``messages`` and the frames are skipped.
    """
    source = Path(source)
    kind = media_kind(source)
    if kind == "video":
        cap = cv2.VideoCapture(str(source))
        if not cap.isOpened():
            messages.append(f"{source}: OpenCV cannot open this video (corrupt file or unknown codec)")
            cap.release()
            return iter(()), 30.0
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        return _video_frames(cap), float(fps if 0 < fps < 1000 else 30.0)
    files = [source] if kind == "image" else sorted(p for p in source.iterdir()
                                                     if p.suffix.lower() in IMAGE_SUFFIXES)
    return _image_frames(files, messages), 30.0


def _video_frames(cap: cv2.VideoCapture) -> Iterator[tuple[int, np.ndarray]]:
    index = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            yield index, frame
            index += 1
    finally:
        cap.release()


def _image_frames(files: list[Path], messages: list[str]) -> Iterator[tuple[str, np.ndarray]]:
    for path in files:
        try:
            image = decode_image(np.fromfile(str(path), np.uint8))
        except OSError:
            image = None
        if image is None:
            messages.append(f"{path}: unreadable image, skipped")
            continue
        yield path.name, image


class AnnotatedWriter:
    """Writes drawn frames to .mp4 (OpenCV, mp4v), .gif (Pillow) or, for one image, .jpg/.png."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path, self.fps = path, fps
        self._writer: cv2.VideoWriter | None = None
        self._gif: list = []

    def add(self, frame: np.ndarray) -> None:
        suffix = self.path.suffix.lower()
        if suffix == ".gif":
            from PIL import Image
            self._gif.append(Image.fromarray(np.ascontiguousarray(frame[:, :, ::-1])))
        elif suffix == ".mp4":
            if self._writer is None:
                h, w = frame.shape[:2]
                self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter.fourcc(*"mp4v"), self.fps, (w, h))
                if not self._writer.isOpened():
                    raise RuntimeError(f"OpenCV could not open {self.path} for writing (mp4v codec)")
            self._writer.write(frame)
        elif not cv2.imwrite(str(self.path), frame):
            raise RuntimeError(f"could not write {self.path}")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
        if self._gif:
            self._gif[0].save(self.path, save_all=True, append_images=self._gif[1:],
                              duration=int(round(1000 / self.fps)), loop=0)


def run_demo(source: str | Path, pipeline, *, out_dir: str | Path, tracker=None, annotate: str | None = "mp4",
             kpt_thr: float = 0.3, max_frames: int | None = None) -> dict:
    """Run ``pipeline`` (single image) or ``tracker`` (folder / video) on ``source``; write outputs.

    pipeline: a TopdownPipeline with a detector. tracker: a PoseTracker around that pipeline (built
    with defaults when None and the source is a stream). annotate: "mp4" | "gif" | None. kpt_thr:
    drawing threshold. max_frames: stop after this many frames. Returns the metrics dict (also in
    ``metrics.json``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    kind = media_kind(source)
    messages: list[str] = []
    frames, fps = read_frames(source, messages)
    if kind != "image" and tracker is None:
        from rtmposelib.infer.tracker import PoseTracker
        tracker = PoseTracker(pipeline)
    if kind == "image":
        tracker = None
    writer = None
    if annotate is not None:
        name = "annotated" + (Path(str(source)).suffix.lower() if kind == "image" else f".{annotate}")
        writer = AnnotatedWriter(out_dir / name, fps)
    pipeline.timings.clear()
    results: list[dict] = []
    raw_tracks: defaultdict[int, dict[int, np.ndarray]] = defaultdict(dict)      # track id -> frame -> (K, 2)
    smooth_tracks: defaultdict[int, dict[int, np.ndarray]] = defaultdict(dict)
    n_frames, n_detect, elapsed = 0, 0, 0.0
    for index, (key, frame) in enumerate(tqdm(frames, desc="demo", unit="frame", disable=None, leave=False)):
        if max_frames is not None and index >= max_frames:
            break
        t0 = time.perf_counter()
        if tracker is None:
            poses = pipeline(frame, key=key)
            track_ids, smoothed, detected = np.full(len(poses), -1), poses.keypoints, True
            candidates = len(poses)
        else:
            out = tracker(frame, key=key, t=None)
            poses, track_ids, smoothed, detected = out.poses, out.track_ids, out.smoothed, out.detected
            candidates = len(out.candidate_boxes)
        elapsed += time.perf_counter() - t0
        n_frames, n_detect = n_frames + 1, n_detect + int(detected)
        for i, entry in enumerate(poses.to_coco(image_id=index)):
            kpts = np.concatenate([smoothed[i], poses.keypoint_scores[i][:, None]], axis=1)
            entry.update(frame=index, file=str(key), track_id=int(track_ids[i]), keypoints_raw=entry["keypoints"],
                         keypoints=[round(float(v), 3) for v in kpts.reshape(-1)])
            results.append(entry)
            low = poses.keypoint_scores[i] < kpt_thr
            raw_tracks[int(track_ids[i])][index] = np.where(low[:, None], np.nan, poses.keypoints[i])
            smooth_tracks[int(track_ids[i])][index] = np.where(low[:, None], np.nan, smoothed[i])
        if len(poses) == 0 and candidates:              # boxes, but every pose too weak to track
            assert tracker is not None                  # without one, candidates = len(poses)
            messages.append(f"frame {index} ({key}): no people found ({candidates} boxes cropped, no pose with the "
                            f"{tracker.pose_kpt_thr} keypoint score needed to track it, --pose-kpt-thr)")
        elif len(poses) == 0:
            messages.append(f"frame {index} ({key}): no people found")
        if writer is not None:
            writer.add(draw_poses(frame, smoothed, poses.keypoint_scores, pipeline.metainfo,
                                  boxes=poses.boxes, kpt_thr=kpt_thr))
    if writer is not None and n_frames:
        writer.close()
    if n_frames == 0:
        messages.append(f"{source}: zero frames read; outputs are empty")
    metrics = _metrics(n_frames, n_detect, elapsed, dict(pipeline.timings), raw_tracks, smooth_tracks)
    metrics.update(source=str(source), kind=kind, messages=_summarise(messages))
    (out_dir / "results.json").write_text(json.dumps(results))
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return metrics


def track_jitter(tracks: dict[int, dict[int, np.ndarray]]) -> float:
    """Mean frame-to-frame acceleration over all tracks: each track as a (T, K, 2) array over its
    frames, NaN where the track or a keypoint is absent (those accelerations are left out)."""
    accs = []
    for frames in tracks.values():
        if len(frames) < 3:
            continue
        first, last = min(frames), max(frames)
        k = next(iter(frames.values())).shape[0]
        traj = np.full((last - first + 1, k, 2), np.nan)
        for f, kpts in frames.items():
            traj[f - first] = kpts
        acc = np.linalg.norm(traj[2:] - 2 * traj[1:-1] + traj[:-2], axis=-1)
        accs.append(acc[np.isfinite(acc)])
    accs = np.concatenate(accs) if accs else np.zeros(0)
    return float(accs.mean()) if len(accs) else float("nan")


def _metrics(n_frames: int, n_detect: int, elapsed: float, timings: dict, raw_tracks, smooth_tracks) -> dict:
    def fps(seconds: float) -> float | None:
        return round(n_frames / seconds, 2) if seconds > 0 and n_frames else None

    stages = {name: timings.get(name, 0.0) for name in ("detector", "pre", "pose", "post")}
    return {"frames": n_frames, "detector_runs": n_detect, "seconds": {**stages, "total": elapsed},
            "fps": {**{k: fps(v) for k, v in stages.items()}, "total": fps(elapsed)},
            "jitter_raw": _nan_to_none(track_jitter(raw_tracks)),
            "jitter_smoothed": _nan_to_none(track_jitter(smooth_tracks))}


def _nan_to_none(x: float) -> float | None:
    return None if not np.isfinite(x) else round(x, 4)


def _summarise(messages: list[str], limit: int = 20) -> list[str]:
    """Messages, with long runs of 'no people found' counted instead of listed."""
    empty = [m for m in messages if "no people found" in m]
    other = [m for m in messages if "no people found" not in m]
    if len(empty) > limit:
        return other + [f"{len(empty)} frames with no people found (first: {empty[0]})"]
    return other + empty
