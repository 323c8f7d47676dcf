"""CrowdPose's AP by crowdedness: AP(E), AP(M), AP(H) (Li et al. 2019, CrowdPose §3 "Crowd Index").

What MMPose reports for CrowdPose (``CocoMetric(iou_type='keypoints_crowd', use_area=False)``, which
calls xtcocotools' ``_summarizeKps_crowd``): every image carries a ``crowdIndex`` in [0, 1]; images are
split into easy (crowdIndex < 0.2), medium (< 0.8) and hard (>= 0.8), and for each split the keypoint
evaluation is rerun on those images only and summarised as the mean precision over OKS thresholds
0.50:0.95, recall thresholds and the "all" area range. Where a split has no ground truth, xtcocotools
averages pycocotools' -1 placeholders (giving -1); here that split is NaN instead.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

EASY_BELOW, HARD_FROM = 0.2, 0.8          # crowdIndex thresholds (xtcocotools get_type_result(0.2, 0.8))


def crowd_splits(coco_gt: COCO, easy_below: float = EASY_BELOW,
                 hard_from: float = HARD_FROM) -> dict[str, list[int]]:
    """Image ids by crowdedness: {"E": [...], "M": [...], "H": [...]}; ValueError if an image lacks
    ``crowdIndex``."""
    splits: dict[str, list[int]] = {"E": [], "M": [], "H": []}
    for img_id, img in coco_gt.imgs.items():
        if "crowdIndex" not in img:
            raise ValueError(f"image {img_id} ({img.get('file_name')}) has no 'crowdIndex'; AP(E/M/H) needs "
                             "CrowdPose annotations")
        ci = float(img["crowdIndex"])
        splits["E" if ci < easy_below else "M" if ci < hard_from else "H"].append(img_id)
    return splits


def crowd_ap(coco_gt: COCO, coco_dt: COCO, sigmas: np.ndarray) -> dict[str, float]:
    """{"AP(E)", "AP(M)", "AP(H)"}: keypoint AP (fraction in [0, 1]) over each crowdedness split.

    coco_gt / coco_dt: pycocotools ground truth and loaded results (``coco_gt.loadRes``); sigmas: (K,).
    """
    out: dict[str, float] = {}
    for name, img_ids in crowd_splits(coco_gt).items():
        key = f"AP({name})"
        if not img_ids:
            out[key] = float("nan")
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            evaluator = COCOeval(coco_gt, coco_dt, "keypoints")
            evaluator.params.kpt_oks_sigmas = np.asarray(sigmas, np.float64)
            evaluator.params.imgIds = sorted(img_ids)
            evaluator.evaluate()
            evaluator.accumulate()
        precision = evaluator.eval["precision"][:, :, :, 0, :]        # (T, R, K, M), area range "all"
        valid = precision[precision > -1]
        out[key] = float(valid.mean()) if valid.size else float("nan")
    return out
