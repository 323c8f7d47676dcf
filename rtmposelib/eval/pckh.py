"""PCKh for MPII, as MMPose ``MpiiPCKAccuracy(norm_item='head')``.

A keypoint is correct when its distance to the ground truth is below ``thr`` x the head size, where
the head size is the diagonal of the annotated head box times 0.6 (``SC_BIAS``). Only visible ground
truth counts. The summary follows the MPII protocol: Head = head top, the other groups average left
and right, and the mean ``PCKh`` weights joints by their counts and leaves out pelvis and thorax.
MMPose adds 1.0 to the predictions because its MPII ground truth is in MATLAB (1-based) pixels:
pass ``pred_offset=1.0`` for that convention, 0.0 when predictions and ground truth share a frame.
"""
from __future__ import annotations

import numpy as np

SC_BIAS = 0.6
# MPII joint order: 0 r_ankle, 1 r_knee, 2 r_hip, 3 l_hip, 4 l_knee, 5 l_ankle, 6 pelvis, 7 thorax,
# 8 upper_neck, 9 head_top, 10 r_wrist, 11 r_elbow, 12 r_shoulder, 13 l_shoulder, 14 l_elbow, 15 l_wrist
GROUPS = {"Head": (9,), "Shoulder": (12, 13), "Elbow": (11, 14), "Wrist": (10, 15), "Hip": (2, 3),
          "Knee": (1, 4), "Ankle": (0, 5)}
EXCLUDED = (6, 7)   # pelvis, thorax


def head_size(head_boxes: np.ndarray) -> np.ndarray:
    """(N, 2, 2) head boxes [[x1, y1], [x2, y2]] pixels -> (N,) normaliser: diagonal x SC_BIAS."""
    head_boxes = np.asarray(head_boxes, dtype=np.float64)
    return np.linalg.norm(head_boxes[:, 1] - head_boxes[:, 0], axis=-1) * SC_BIAS


def pck_per_joint(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray, norm: np.ndarray,
                  thr: float) -> np.ndarray:
    """(K,) fraction of visible joints with ||pred - gt|| / norm < thr; NaN for joints never visible.

    pred, gt: (N, K, 2) pixels; visible: (N, K); norm: (N,) pixels (non-positive rows are ignored)."""
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    norm = np.asarray(norm, np.float64).reshape(-1)
    if pred.shape != gt.shape or pred.ndim != 3 or len(norm) != len(pred):
        raise ValueError(f"need pred and gt (N, K, 2) and norm (N,); got {pred.shape}, {gt.shape}, {norm.shape}")
    mask = np.asarray(visible).astype(bool) & (norm > 0)[:, None]
    dist = np.linalg.norm(pred - gt, axis=-1) / np.where(norm > 0, norm, 1.0)[:, None]
    hits = ((dist < thr) & mask).sum(0)
    counts = mask.sum(0)
    return np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)


def pckh(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray, head_sizes: np.ndarray, *,
         thr: float = 0.5, pred_offset: float = 0.0) -> dict:
    """MPII PCKh summary in percent: Head, Shoulder, Elbow, Wrist, Hip, Knee, Ankle, PCKh (mean at
    ``thr``), PCKh@0.1, and ``per_joint`` (K,) at ``thr``.

    pred, gt: (N, 16, 2) pixels; visible: (N, 16); head_sizes: (N,) from :func:`head_size`."""
    pred = np.asarray(pred, np.float64) + pred_offset
    visible = np.asarray(visible).astype(bool)
    if pred.shape[1] != 16:
        raise ValueError(f"PCKh expects the 16 MPII joints, got {pred.shape[1]}")
    per_joint = 100.0 * pck_per_joint(pred, gt, visible, head_sizes, thr)
    at_01 = 100.0 * pck_per_joint(pred, gt, visible, head_sizes, 0.1)
    counts = (visible & (np.asarray(head_sizes).reshape(-1) > 0)[:, None]).sum(0).astype(np.float64)
    counts[list(EXCLUDED)] = 0
    ratio = counts / counts.sum()
    out = {name: float(np.mean(per_joint[list(ids)])) for name, ids in GROUPS.items()}
    out["PCKh"] = float(np.nansum(per_joint * ratio))
    out["PCKh@0.1"] = float(np.nansum(at_01 * ratio))
    out["per_joint"] = per_joint
    return out
