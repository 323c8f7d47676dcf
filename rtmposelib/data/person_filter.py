"""Which COCO person annotations count as people: the one filter shared by pose data, evaluation and
the detector's training data.

MMPose's ``BaseCocoStyleDataset`` (top-down) and MMDetection's ``CocoDataset`` leave out crowd regions,
people without labelled keypoints (for keypoint data) and boxes with no area inside the image. The
box is checked after clipping its corners (x, y, x + w, y + h) to [0, W - 1] x [0, H - 1]. Each skip
has one name, used in every ``skipped`` counter (:data:`SKIP_REASONS`).
"""
from __future__ import annotations

import numpy as np

from rtmposelib.data.bbox import xywh_to_clipped_xyxy

CROWD = "crowd"                        # iscrowd = 1: a region of several people, not one instance
NO_KEYPOINTS = "no_keypoints"          # num_keypoints = 0 (default: the labelled points) or all x, y <= 0
NON_POSITIVE_BOX = "non_positive_box"  # the clipped box has zero width or height
SKIP_REASONS = (CROWD, NO_KEYPOINTS, NON_POSITIVE_BOX)


def person_skip_reason(ann: dict, image_size: tuple[int, int], *, require_keypoints: bool = True,
                       keypoints: np.ndarray | None = None) -> str | None:
    """Why the person annotation ``ann`` is left out (one of :data:`SKIP_REASONS`), or None to keep it.

    image_size: (w, h) pixels. require_keypoints: False for box-only data (the detector).
    keypoints: (K, 3) values to check instead of ``ann["keypoints"]`` (e.g. all COCO-WholeBody parts).
    """
    if ann.get("iscrowd", 0):
        return CROWD
    if require_keypoints:
        raw = (ann.get("keypoints") or [0, 0, 0]) if keypoints is None else keypoints
        xy = np.asarray(raw, np.float64).reshape(-1, 3)[:, :2]
        if ann.get("num_keypoints", np.count_nonzero(xy.max(axis=1))) == 0 or xy.max() <= 0:
            return NO_KEYPOINTS
    x1, y1, x2, y2 = xywh_to_clipped_xyxy(ann["bbox"], image_size)
    if x2 <= x1 or y2 <= y1:
        return NON_POSITIVE_BOX
    return None
