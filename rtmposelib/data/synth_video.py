"""Synthetic video: SynthPose figures walking and waving, with per-frame ground truth and track ids.

The video pipeline (detector -> top-down pose -> One-Euro smoothing -> tracking) needs footage whose
true poses and identities are known in every frame. Each figure walks across a fixed textured scene
with a periodic gait (arms and legs swing in antiphase, knees bend in the swing phase, the body bobs),
turns round at the image border and slowly changes distance to the camera; some figures wave instead
of swinging their arms. Figures are painted far (small) to near (large), so they occlude each other;
ground truth follows the SynthPose / COCO conventions of :mod:`rtmposelib.data.synth_scene`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from rtmposelib.data.synth_figure import Pose, place_figure, sample_colours
from rtmposelib.data.synth_scene import annotate, make_background, render_scene, sample_occluder


@dataclass
class _Walker:
    track_id: int
    pose: Pose                      # body shape and facing; angles are replaced every frame
    colours: dict
    x: float                        # pelvis, image px
    y: float
    vx: float                       # px / s
    height: float                   # px
    cadence: float                  # strides / s
    phase: float                    # radians
    waving: bool
    depth_period: float             # s, of the slow approach / retreat


def _spawn(rng: np.random.Generator, track_id: int, size: tuple[int, int]) -> _Walker:
    w, h = size
    height = rng.uniform(0.3, 0.7) * h
    shape = Pose(facing=1 if rng.random() < 0.75 else -1, shoulder_width=rng.uniform(0.19, 0.25),
                 hip_width=rng.uniform(0.13, 0.18))
    return _Walker(track_id, shape, sample_colours(rng), x=rng.uniform(0.1, 0.9) * w,
                   y=rng.uniform(0.45, 0.65) * h, vx=rng.choice([-1, 1]) * rng.uniform(0.3, 0.7) * height,
                   height=height, cadence=rng.uniform(0.8, 1.2), phase=rng.uniform(0, 2 * np.pi),
                   waving=bool(rng.random() < 0.25), depth_period=rng.uniform(4, 10))


def gait_pose(shape: Pose, phase: float, *, waving: bool = False) -> Pose:
    """The pose at gait ``phase`` (radians): antiphase arm and leg swing, knee bend in the swing phase."""
    s = np.sin(phase)
    if waving:
        shoulder, elbow = (140 + 20 * np.sin(3 * phase), 15.0), (40 + 30 * np.sin(3 * phase), 15.0)
    else:
        shoulder, elbow = (12 - 20 * s, 12 + 20 * s), (20 + 15 * max(0.0, -s), 20 + 15 * max(0.0, s))
    return replace(shape, lean=3 * np.sin(2 * phase), neck=4 * np.sin(phase / 3),
                   head_yaw=0.3 * np.sin(phase / 5), hip=(6 + 12 * s, 6 - 12 * s),
                   knee=(25 * max(0.0, np.sin(phase + np.pi / 2)), 25 * max(0.0, np.sin(phase - np.pi / 2))),
                   leg_scale=(0.93 + 0.07 * np.cos(phase), 0.93 - 0.07 * np.cos(phase)),
                   shoulder=shoulder, elbow=elbow).clipped()


def synth_video(*, n_frames: int, n_people: int, size: tuple[int, int] = (640, 480), seed: int = 0,
                fps: float = 30) -> tuple[list[np.ndarray], list[list[dict]]]:
    """Render a video of ``n_people`` moving figures.

    Returns frames: n_frames arrays (H, W, 3) uint8 BGR, and ground truth: per frame, a list with one
    dict per visible person: ``track_id`` (int, stable over the video), ``bbox`` [x, y, w, h] image px
    (visible silhouette), ``keypoints`` (17, 3) float32 (x, y, v; v = 0 at (0, 0) when outside the
    image or unlabelled), ``area`` (visible pixels). Deterministic for a given seed.
    """
    if n_frames < 1 or n_people < 0 or fps <= 0:
        raise ValueError(f"synth_video needs n_frames >= 1, n_people >= 0, fps > 0; got "
                         f"{n_frames}, {n_people}, {fps}")
    w, h = size
    rng = np.random.default_rng([seed, 7])
    background = make_background(rng, size)
    occluders = [sample_occluder(rng, size)] if rng.random() < 0.5 else []
    walkers = [_spawn(rng, i, size) for i in range(n_people)]
    frames, truth = [], []
    for f in range(n_frames):
        t = f / fps
        figures = []
        for wk in walkers:
            height = wk.height * (1 + 0.15 * np.sin(2 * np.pi * t / wk.depth_period))
            phase = wk.phase + 2 * np.pi * wk.cadence * t
            bob = 0.01 * height * np.cos(2 * phase)
            fig = place_figure(gait_pose(wk.pose, phase, waving=wk.waving), pelvis=(wk.x, wk.y + bob),
                               height=height, colours=wk.colours)
            figures.append((height, wk.track_id, fig))
        figures.sort(key=lambda item: (item[0], item[1]))            # far (small) first
        layers = [fig for _, _, fig in figures] + occluders
        image, id_map = render_scene(background, layers)
        gt = []
        for (_, track_id, _), ann in zip(figures, annotate(layers, id_map)):
            if ann is not None:
                gt.append({"track_id": track_id, "bbox": ann["bbox"], "area": ann["area"],
                           "keypoints": ann["keypoints"].astype(np.float32)})
        frames.append(image)
        truth.append(sorted(gt, key=lambda g: g["track_id"]))
        for wk in walkers:                                          # move; turn round at the borders
            wk.x += wk.vx / fps
            if not (0.05 * w < wk.x < 0.95 * w):
                wk.vx = -wk.vx
                wk.x = float(np.clip(wk.x, 0.05 * w, 0.95 * w))
    return frames, truth


def write_video(frames: list[np.ndarray], path: str | Path, fps: float = 30) -> Path:
    """Write BGR uint8 frames of one size to an .mp4 (MPEG-4 part 2, OpenCV's FFmpeg backend)."""
    path = Path(path)
    if not frames:
        raise ValueError(f"write_video: no frames to write to {path}")
    if path.suffix.lower() != ".mp4":
        raise ValueError(f"write_video: {path} must end in .mp4")
    h, w = frames[0].shape[:2]
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), float(fps), (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"write_video: OpenCV could not open {path} for writing (mp4v codec)")
    try:
        for i, frame in enumerate(frames):
            if frame.shape != (h, w, 3) or frame.dtype != np.uint8:
                raise ValueError(f"write_video: frame {i} is {frame.shape} {frame.dtype}, expected "
                                 f"{(h, w, 3)} uint8")
            writer.write(frame)
    finally:
        writer.release()
    return path
