"""Greedy pose NMS by COCO object keypoint similarity (docs/official-behaviour.md "Evaluation").

Matches MMPose ``evaluation.functional.nms.oks_iou`` / ``oks_nms`` as used by ``CocoMetric`` with
``nms_thr=0.9``: OKS = mean over all K keypoints of ``exp(-d_k^2 / ((2 sigma_k)^2 * (a_g + a_d) / 2 * 2))``
(areas in image pixels^2; no visibility filter), instances visited by descending score, and every
remaining instance whose OKS with the kept one is above ``thr`` suppressed. This is not the
diagonal-based OKS of MMDeploy's PoseTracker (see ``rtmposelib.infer.tracker``).
"""
from __future__ import annotations

import numpy as np


def oks_iou(g: np.ndarray, d: np.ndarray, area_g: float, area_d: np.ndarray,
            sigmas: np.ndarray) -> np.ndarray:
    """OKS of one pose against N others.

    g: (K, 2) or (K, 3) image pixels (a third column, the score, is ignored); d: (N, K, 2|3);
    area_g: scalar and area_d: (N,) pixels^2; sigmas: (K,). Returns (N,) float32 in [0, 1].
    """
    g = np.asarray(g, dtype=np.float64)
    d = np.asarray(d, dtype=np.float64)
    if d.ndim == 2:
        d = d[None]
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if g.shape[0] != sigmas.shape[0] or d.shape[1] != sigmas.shape[0]:
        raise ValueError(f"keypoint counts differ: g {g.shape}, d {d.shape}, sigmas {sigmas.shape}")
    variances = (2 * sigmas) ** 2                                         # (K,)
    sq_dist = ((d[..., :2] - g[None, :, :2]) ** 2).sum(-1)                # (N, K)
    mean_area = (area_g + np.asarray(area_d, dtype=np.float64).reshape(-1)) / 2 + np.spacing(1)
    e = sq_dist / variances / mean_area[:, None] / 2
    return np.exp(-e).mean(-1).astype(np.float32)


def oks_nms(keypoints: np.ndarray, scores: np.ndarray, areas: np.ndarray, sigmas: np.ndarray,
            thr: float = 0.9) -> np.ndarray:
    """Indices of the poses kept, best score first.

    keypoints: (N, K, 2|3) image pixels; scores: (N,) instance scores; areas: (N,) pixels^2 (for
    top-down results the padded, aspect-fixed box w*h); sigmas: (K,); thr: suppress OKS > thr.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    areas = np.asarray(areas, dtype=np.float64).reshape(-1)
    if len(keypoints) == 0:
        return np.zeros(0, dtype=np.int64)
    if keypoints.ndim != 3 or not len(scores) == len(areas) == len(keypoints):
        raise ValueError(f"need keypoints (N, K, 2|3), scores (N,), areas (N,); got {keypoints.shape}, "
                         f"{scores.shape}, {areas.shape}")
    order = np.argsort(scores, kind="stable")[::-1]
    keep = []
    while len(order):
        i = order[0]
        keep.append(i)
        rest = order[1:]
        overlap = oks_iou(keypoints[i], keypoints[rest], areas[i], areas[rest], sigmas)
        order = rest[overlap <= thr]
    return np.asarray(keep, dtype=np.int64)
