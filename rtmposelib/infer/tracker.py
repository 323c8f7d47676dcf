"""Pose tracking over a video: skip-frame detection, boxes from the last poses, pose NMS, tracks,
One-Euro smoothing.

RTMPose paper Section 3.5 (skip-frame detection as BlazePose; OKS pose NMS; OneEuro), following
MMDeploy's PoseTracker (pose_tracker.cpp; docs/official-behaviour.md "Deployment") with its defaults:

1. The detector runs every ``det_interval`` frames (frames 0, K, 2K, ...); boxes with score >
   ``det_thr`` (0.5) are candidates.
2. Every visible track adds the box of its last pose: the min/max of the keypoints with score >=
   ``pose_kpt_thr`` (0.5; at least ``pose_min_keypoints``, -1 = ceil(K/2)), expanded
   ``pose_bbox_scale`` (1.25) about its centre and clipped to the frame; a missing track adds its last
   box. Candidates are merged by greedy IoU-NMS (``det_nms_thr`` 0.7) ranked (visible track >
   detection > missing track, then area).
3. One batched pose forward over all candidate crops (the :class:`TopdownPipeline`).
4. Pose NMS with MMDeploy's diagonal-scaled OKS (``pose_nms_thr`` 0.5), ranked (visible track, sum of
   keypoint scores).
5. Association: greedy by IoU between the new pose's box and each track's last box (>=
   ``track_iou_thr`` 0.4); a pose cropped from a track's box may only continue that track. Unmatched
   poses from detections start tracks; unmatched tracks count a missing frame and are dropped after
   ``track_max_missing`` (10).
6. Each track's keypoints go through a One-Euro filter (defaults (beta, fc_min, fc_d) = (0.007, 1, 1),
   per frame, point-speed norm as MMDeploy).

Left out: MMDeploy's Kalman filter (box/keypoint prediction and Mahalanobis gating) — boxes between
detections come from the last pose as they are, and association is by IoU only.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from rtmposelib.infer.one_euro import MMDEPLOY_DEFAULTS, OneEuroFilter
from rtmposelib.infer.pose_nms import box_iou, box_nms, pose_nms
from rtmposelib.infer.topdown import Poses

VISIBLE, DETECTED, MISSING = 2, 1, 0   # candidate box ranks, as MMDeploy


def keypoints_to_box(keypoints: np.ndarray, scores: np.ndarray, *, image_size: tuple[int, int],
                     kpt_thr: float = 0.5, min_keypoints: int = -1, scale: float = 1.25
                     ) -> np.ndarray | None:
    """Box of one pose: min/max of keypoints with score >= kpt_thr, x scale about the centre, clipped.

    keypoints: (K, 2) image px; scores: (K,); image_size: (w, h). Returns (4,) xyxy float32, or None
    when fewer than ``min_keypoints`` (-1 = ceil(K / 2)) keypoints pass or the box is empty.
    """
    good = np.asarray(scores) >= kpt_thr
    needed = math.ceil(len(scores) / 2) if min_keypoints < 0 else min_keypoints
    if good.sum() < max(needed, 1):
        return None
    pts = np.asarray(keypoints, np.float64)[good]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    center, half = (lo + hi) / 2, (hi - lo) * scale / 2
    w, h = image_size
    box = np.clip(np.concatenate([center - half, center + half]), 0, [w, h, w, h]).astype(np.float32)
    return box if box[2] > box[0] and box[3] > box[1] else None


@dataclass
class Track:
    track_id: int
    box: np.ndarray                 # (4,) last keypoint-derived box, xyxy
    keypoints: np.ndarray           # (K, 2) last raw keypoints
    scores: np.ndarray              # (K,)
    smoother: OneEuroFilter
    smoothed: np.ndarray            # (K, 2)
    missing: int = 0                # consecutive frames without a matched pose


@dataclass
class TrackedFrame:
    """Result of one frame: one row per visible track (N), keypoints in image pixels."""

    frame_index: int
    detected: bool                  # the detector ran on this frame
    poses: Poses                    # raw poses; poses.boxes are the crop boxes they came from
    track_ids: np.ndarray           # (N,) int64
    smoothed: np.ndarray            # (N, K, 2) One-Euro filtered keypoints
    candidate_boxes: np.ndarray     # (M, 4) all boxes cropped on this frame, after merging


class PoseTracker:
    """Tracks people across frames with a :class:`~rtmposelib.infer.topdown.TopdownPipeline`.

    pipeline: provides ``detector``, ``estimate(image, boxes, scores, nms=False)``, ``metainfo`` and
    ``timings``. Keyword arguments are MMDeploy's parameters (module docstring). smooth: apply One-Euro.
    one_euro: filter arguments (default MMDeploy's); fps: pass to the filter for time in seconds.
    use_sigmas: pose NMS by diagonal OKS with the dataset sigmas (else box IoU).
    """

    def __init__(self, pipeline, *, det_interval: int = 1, det_thr: float = 0.5, det_nms_thr: float = 0.7,
                 pose_kpt_thr: float = 0.5, pose_min_keypoints: int = -1, pose_bbox_scale: float = 1.25,
                 pose_nms_thr: float = 0.5, track_iou_thr: float = 0.4, track_max_missing: int = 10,
                 smooth: bool = True, one_euro: dict | None = None, use_sigmas: bool = True) -> None:
        if det_interval < 1:
            raise ValueError(f"det_interval must be >= 1, got {det_interval}")
        if pipeline.detector is None:
            raise ValueError("the tracker needs a pipeline with a detector")
        self.pipeline = pipeline
        self.det_interval = det_interval
        self.det_thr, self.det_nms_thr = det_thr, det_nms_thr
        self.pose_kpt_thr, self.pose_min_keypoints = pose_kpt_thr, pose_min_keypoints
        self.pose_bbox_scale, self.pose_nms_thr = pose_bbox_scale, pose_nms_thr
        self.track_iou_thr, self.track_max_missing = track_iou_thr, track_max_missing
        self.smooth = smooth
        self.one_euro = dict(MMDEPLOY_DEFAULTS, vector_speed=True) if one_euro is None else dict(one_euro)
        self.sigmas = pipeline.metainfo.sigmas if use_sigmas else None
        self.reset()

    def reset(self) -> None:
        self.tracks: list[Track] = []
        self.frame_index = 0
        self._next_id = 0

    def __call__(self, image_bgr: np.ndarray, *, key: int | str | None = None,
                 t: float | None = None) -> TrackedFrame:
        """Process the next frame (H, W, 3) uint8 BGR; ``key`` goes to the detector, ``t`` (seconds)
        to the smoothing filter."""
        if image_bgr is None or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ValueError(f"frame {self.frame_index}: image must be (H, W, 3) BGR uint8")
        size = (image_bgr.shape[1], image_bgr.shape[0])
        timings = self.pipeline.timings
        detected = self.frame_index % self.det_interval == 0

        # 1-2. candidates: detections, visible-track boxes, missing-track boxes
        boxes, det_scores, ranks, prev_ids = [], [], [], []
        if detected:
            t0 = time.perf_counter()
            det_boxes, scores = self.pipeline.detector(image_bgr, key=key)
            timings["detector"] += time.perf_counter() - t0
            for box, score in zip(np.asarray(det_boxes).reshape(-1, 4), np.asarray(scores).reshape(-1)):
                if score > self.det_thr and box[2] > box[0] and box[3] > box[1]:
                    boxes.append(box)
                    det_scores.append(score)
                    ranks.append(DETECTED)
                    prev_ids.append(-1)
        t0 = time.perf_counter()
        for track in self.tracks:
            boxes.append(track.box)
            det_scores.append(1.0)
            prev_ids.append(track.track_id)
            ranks.append(VISIBLE if track.missing == 0 else MISSING)
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        keep = np.sort(box_nms(boxes, np.column_stack([ranks, areas]), self.det_nms_thr)) if len(boxes) \
            else np.zeros(0, np.int64)
        boxes, prev_ids = boxes[keep], np.asarray(prev_ids, np.int64)[keep]
        det_scores = np.asarray(det_scores, np.float32)[keep]
        timings["post"] += time.perf_counter() - t0

        # 3. one batched pose forward over every candidate crop
        poses = self.pipeline.estimate(image_bgr, boxes, det_scores, nms=False)

        # 4. keypoint boxes, pose NMS
        t0 = time.perf_counter()
        pose_boxes = [keypoints_to_box(k, s, image_size=size, kpt_thr=self.pose_kpt_thr,
                                       min_keypoints=self.pose_min_keypoints, scale=self.pose_bbox_scale)
                      for k, s in zip(poses.keypoints, poses.keypoint_scores)]
        valid = np.array([b is not None for b in pose_boxes], bool)
        idx = np.flatnonzero(valid)
        kp_boxes = np.asarray([pose_boxes[i] for i in idx], np.float32).reshape(-1, 4)
        visible_ids = {tr.track_id for tr in self.tracks if tr.missing == 0}
        order = pose_nms(poses.keypoints[idx], poses.keypoint_scores[idx], kp_boxes, sigmas=self.sigmas,
                         thr=self.pose_nms_thr,
                         visible_track=np.array([prev_ids[i] in visible_ids for i in idx], bool))
        idx, kp_boxes = idx[order], kp_boxes[order]

        # 5. association, new tracks, missing tracks
        matches = self._associate(kp_boxes, prev_ids[idx])
        out_rows, out_ids = [], []
        for row, i in enumerate(idx):
            track = matches.get(row)
            if track is None:
                if prev_ids[i] != -1:
                    continue                               # a lost track's crop that matched nothing
                track = self._new_track(poses.keypoints[i])
            track.box, track.missing = kp_boxes[row], 0
            track.keypoints, track.scores = poses.keypoints[i], poses.keypoint_scores[i]
            track.smoothed = track.smoother(track.keypoints, t) if self.smooth else track.keypoints
            out_rows.append(i)
            out_ids.append(track.track_id)
        seen = set(out_ids)
        for track in self.tracks:
            if track.track_id not in seen:
                track.missing += 1
        self.tracks = [tr for tr in self.tracks if tr.missing <= self.track_max_missing]
        by_id = {tr.track_id: tr for tr in self.tracks}
        k = self.pipeline.metainfo.num_keypoints
        smoothed = np.asarray([by_id[j].smoothed for j in out_ids], np.float32).reshape(-1, k, 2)
        timings["post"] += time.perf_counter() - t0
        result = TrackedFrame(self.frame_index, detected, poses.select(np.asarray(out_rows, np.int64)),
                              np.asarray(out_ids, np.int64), smoothed, boxes)
        self.frame_index += 1
        return result

    def _associate(self, kp_boxes: np.ndarray, prev_ids: np.ndarray) -> dict[int, Track]:
        """Greedy IoU matching of new poses (rows) to tracks: visible tracks first, then missing ones."""
        matches: dict[int, Track] = {}
        if not self.tracks or not len(kp_boxes):
            return matches
        iou = box_iou(kp_boxes, np.stack([tr.box for tr in self.tracks]))            # (P, T)
        track_ids = np.array([tr.track_id for tr in self.tracks])
        allowed = (prev_ids[:, None] == -1) | (prev_ids[:, None] == track_ids[None, :])
        iou = np.where(allowed, iou, -1.0)
        used_rows: set[int] = set()
        for want_missing in (False, True):
            cols = [j for j, tr in enumerate(self.tracks) if (tr.missing > 0) == want_missing]
            while cols:
                rows = [r for r in range(len(kp_boxes)) if r not in used_rows]
                if not rows:
                    break
                sub = iou[np.ix_(rows, cols)]
                r, c = np.unravel_index(np.argmax(sub), sub.shape)
                if sub[r, c] < self.track_iou_thr:
                    break
                matches[rows[r]] = self.tracks[cols[c]]
                used_rows.add(rows[r])
                cols.pop(c)
        return matches

    def _new_track(self, keypoints: np.ndarray) -> Track:
        track = Track(self._next_id, np.zeros(4, np.float32), keypoints, np.zeros(len(keypoints)),
                      OneEuroFilter(**self.one_euro), keypoints)
        self._next_id += 1
        self.tracks.append(track)
        return track
