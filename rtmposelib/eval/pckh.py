"""PCKh for MPII, as MMPose ``MpiiPCKAccuracy(norm_item='head')``.

A keypoint is correct when its distance to the ground truth is below ``thr`` x the head size, where
the head size is the diagonal of the annotated head box times 0.6
(:func:`rtmposelib.data.mpii.head_size`). Only visible ground truth counts. The summary follows the
MPII protocol: Head = head top, the other groups average left and right, and the mean ``PCKh``
weights joints by their counts and leaves out pelvis and thorax.
MMPose adds 1.0 to the predictions because its MPII ground truth is in MATLAB (1-based) pixels:
pass ``pred_offset=1.0`` for that convention, 0.0 when predictions and ground truth share a frame.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# MPII joint order: 0 r_ankle, 1 r_knee, 2 r_hip, 3 l_hip, 4 l_knee, 5 l_ankle, 6 pelvis, 7 thorax,
# 8 upper_neck, 9 head_top, 10 r_wrist, 11 r_elbow, 12 r_shoulder, 13 l_shoulder, 14 l_elbow, 15 l_wrist
GROUPS = {"Head": (9,), "Shoulder": (12, 13), "Elbow": (11, 14), "Wrist": (10, 15), "Hip": (2, 3),
          "Knee": (1, 4), "Ankle": (0, 5)}
EXCLUDED = (6, 7)   # pelvis, thorax


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
    ``thr``), PCKh@0.1, ``per_joint`` (K,) at ``thr`` and ``per_joint@0.1`` (K,).

    pred, gt: (N, 16, 2) pixels; visible: (N, 16); head_sizes: (N,) from
    :func:`rtmposelib.data.mpii.head_size`."""
    pred = np.asarray(pred, np.float64) + pred_offset
    visible = np.asarray(visible).astype(bool)
    if pred.shape[1] != 16:
        raise ValueError(f"PCKh expects the 16 MPII joints, got {pred.shape[1]}")
    per_joint = 100.0 * pck_per_joint(pred, gt, visible, head_sizes, thr)
    at_01 = 100.0 * pck_per_joint(pred, gt, visible, head_sizes, 0.1)
    counts = (visible & (np.asarray(head_sizes).reshape(-1) > 0)[:, None]).sum(0).astype(np.float64)
    counts[list(EXCLUDED)] = 0
    ratio = counts / counts.sum()
    out: dict[str, float | np.ndarray] = {name: float(np.mean(per_joint[list(ids)])) for name, ids in GROUPS.items()}
    out["PCKh"] = float(np.nansum(per_joint * ratio))
    out["PCKh@0.1"] = float(np.nansum(at_01 * ratio))
    out["per_joint"] = per_joint
    out["per_joint@0.1"] = at_01
    return out


def per_joint_table(summary: dict, keypoint_names, counts: np.ndarray) -> pd.DataFrame:
    """A per-joint DataFrame (keypoint, visible, PCKh, PCKh@0.1) from a :func:`pckh` summary."""
    return pd.DataFrame({"keypoint": list(keypoint_names), "visible": counts.astype(int),
                         "PCKh": summary["per_joint"], "PCKh@0.1": summary["per_joint@0.1"]})


def dataset_pckh(dataset, results: list[dict], *, thr: float = 0.5, pred_offset: float = 1.0) -> dict:
    """PCKh of top-down ``results`` against an MPII-format dataset's ground truth and head sizes.

    dataset: a :class:`rtmposelib.data.mpii.TopdownMpiiDataset` (``instances``, ``head_sizes``,
    ``head_size_source``, ``metainfo``); results: one per instance, with ``id`` (the instance id) and
    ``keypoints`` (16 x 3, image pixels as :func:`rtmposelib.eval.predict.predict` returns).
    pred_offset: 1.0 as MMPose (0-based predictions vs the 1-based MPII joints).
    Returns the :func:`pckh` summary (percent) without the arrays, plus ``per_keypoint`` (DataFrame),
    ``head_size_source``, ``num_instances`` and ``num_scored`` (instances with a head size).
    """
    index = {inst.id: i for i, inst in enumerate(dataset.instances)}
    k = dataset.metainfo.num_keypoints
    pred = np.zeros((len(index), k, 2))
    seen = np.zeros(len(index), bool)
    for r in results:
        if r.get("id") not in index:
            raise ValueError(f"result for instance id {r.get('id')!r} (image {r.get('image_id')}) is not an "
                             f"instance of {dataset.ann_file}")
        i = index[r["id"]]
        pred[i] = np.asarray(r["keypoints"], np.float64).reshape(k, 3)[:, :2]
        seen[i] = True
    if not seen.all():
        raise ValueError(f"{(~seen).sum()} of {len(seen)} instances of {dataset.ann_file} have no result")
    gt = np.stack([inst.keypoints for inst in dataset.instances]).astype(np.float64)
    visible = np.stack([inst.visible for inst in dataset.instances]) > 0
    heads = np.asarray(dataset.head_sizes, np.float64)
    summary = pckh(pred, gt, visible, heads, thr=thr, pred_offset=pred_offset)
    counts = (visible & (heads > 0)[:, None]).sum(0)
    out = {key: v for key, v in summary.items() if not key.startswith("per_joint")}
    out.update(per_keypoint=per_joint_table(summary, dataset.metainfo.keypoint_names, counts),
               head_size_source=dataset.head_size_source, num_instances=len(index),
               num_scored=int((heads > 0).sum()))
    return out
