"""Greedy non-maximum suppression of the video pipeline: box IoU and the tracker's diagonal-scaled OKS.

RTMPose paper Section 3.5 ("OKS-based pose NMS") as implemented by MMDeploy's PoseTracker
(pose_tracker.cpp / utils.cpp; docs/official-behaviour.md "Deployment"):

- similarity of two poses = mean_k exp(-||p_k - q_k||^2 / (2 s^2 sigma_k^2)) over ALL K keypoints,
  with s the mean of the two boxes' diagonals (not the COCO area-based OKS used by the evaluation,
  which is :mod:`rtmposelib.infer.oks_nms`); without sigmas the similarity is box IoU;
- ranks: (track visible, sum of keypoint scores), highest first; a lower-ranked pose is suppressed
  when its similarity to a kept one is >= the threshold (pose_nms_thr 0.5);
- the same greedy rule with box IoU merges detected and tracked boxes (det_nms_thr 0.7).

All boxes are xyxy in image pixels; keypoints (N, K, 2) image pixels.
"""
from __future__ import annotations

import numpy as np


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes a (N, 4) and b (M, 4), xyxy pixels -> (N, M); 0 where the union is 0."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])                       # (N, M, 2)
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0.0, None), axis=-1)                 # (N, M)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0.0, None), axis=-1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0.0, None), axis=-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def diagonal_oks(kpts_a: np.ndarray, boxes_a: np.ndarray, kpts_b: np.ndarray, boxes_b: np.ndarray,
                 sigmas: np.ndarray) -> np.ndarray:
    """MMDeploy's pose-pose OKS, pairwise: (N, K, 2), (N, 4), (M, K, 2), (M, 4), (K,) -> (N, M).

    s = (diag(box_a) + diag(box_b)) / 2; OKS = mean_k exp(-d_k^2 / (2 s^2 sigma_k^2)).
    """
    kpts_a = np.asarray(kpts_a, dtype=np.float64)
    kpts_b = np.asarray(kpts_b, dtype=np.float64)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if kpts_a.shape[1:] != (len(sigmas), 2) or kpts_b.shape[1:] != (len(sigmas), 2):
        raise ValueError(f"keypoints {kpts_a.shape} / {kpts_b.shape} do not match {len(sigmas)} sigmas")

    def diagonal(boxes: np.ndarray) -> np.ndarray:
        wh = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        return np.hypot(wh[:, 2] - wh[:, 0], wh[:, 3] - wh[:, 1])

    s = 0.5 * (diagonal(boxes_a)[:, None] + diagonal(boxes_b)[None, :])  # (N, M)
    d2 = np.sum((kpts_a[:, None] - kpts_b[None]) ** 2, axis=-1)           # (N, M, K)
    denom = 2.0 * (s[..., None] ** 2) * sigmas ** 2                       # (N, M, K)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.where(denom > 0, d2 / denom, np.where(d2 > 0, np.inf, 0.0))
    return np.exp(-e).mean(axis=-1)


def greedy_nms(similarity: np.ndarray, ranks: np.ndarray | list, thr: float) -> np.ndarray:
    """Keep the highest-ranked item, drop every lower one with similarity >= thr to it, repeat.

    Args:
        similarity: (N, N) symmetric similarity.
        ranks: (N,) sort keys, or (N, R) for lexicographic keys (first column most significant).
        thr: suppression threshold (>=, as MMDeploy).
    Returns:
        kept indices, int64, highest rank first (ties keep input order).
    """
    similarity = np.asarray(similarity, dtype=np.float64)
    ranks = np.asarray(ranks, dtype=np.float64)
    n = len(ranks)
    if similarity.shape != (n, n):
        raise ValueError(f"similarity must be ({n}, {n}) for {n} ranks, got {similarity.shape}")
    keys = ranks.reshape(n, -1)
    # np.lexsort: last key most significant; negate for descending; stable in input order.
    order = np.lexsort([np.arange(n)] + [-keys[:, c] for c in reversed(range(keys.shape[1]))])
    alive = np.ones(n, dtype=bool)
    keep = []
    for i in order:
        if not alive[i]:
            continue
        keep.append(i)
        alive &= similarity[i] < thr
    return np.asarray(keep, dtype=np.int64)


def box_nms(boxes: np.ndarray, scores: np.ndarray, thr: float) -> np.ndarray:
    """Greedy IoU-NMS of boxes (N, 4) xyxy by scores (N,): kept indices, best first."""
    return greedy_nms(box_iou(boxes, boxes), scores, thr)


def pose_nms(keypoints: np.ndarray, keypoint_scores: np.ndarray, boxes: np.ndarray, *,
             sigmas: np.ndarray | None = None, thr: float = 0.5,
             visible_track: np.ndarray | None = None) -> np.ndarray:
    """The tracker's pose NMS: rank by (visible_track, sum of keypoint scores), suppress OKS >= thr.

    Args:
        keypoints: (N, K, 2) image pixels.
        keypoint_scores: (N, K).
        boxes: (N, 4) xyxy image pixels (the keypoint-derived boxes, for the OKS scale).
        sigmas: (K,) OKS sigmas; None = use box IoU as the similarity.
        thr: pose_nms_thr (MMDeploy 0.5).
        visible_track: (N,) bool, whether the pose continues a track seen in the previous frame
            (such poses are never suppressed by poses of missing tracks or new detections).
    Returns:
        kept indices, best first.
    """
    n = len(keypoints)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if sigmas is None:
        similarity = box_iou(boxes, boxes)
    else:
        similarity = diagonal_oks(keypoints, boxes, keypoints, boxes, sigmas)
    visible = np.zeros(n) if visible_track is None else np.asarray(visible_track, dtype=np.float64)
    ranks = np.stack([visible, np.asarray(keypoint_scores, dtype=np.float64).sum(axis=1)], axis=1)
    return greedy_nms(similarity, ranks, thr)
