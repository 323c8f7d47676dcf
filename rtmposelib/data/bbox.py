"""Bounding boxes for top-down pose: COCO xywh -> clipped xyxy -> (centre, box size), and the aspect fix.

Matches MMPose: ``BaseCocoStyleDataset.parse_data_info`` (each xyxy corner clipped to [0, W-1] x
[0, H-1]), ``GetBBoxCenterScale(padding=1.25)`` (centre = box centre, box size = (w, h) * padding; MMPose
calls it the box "scale") and
``TopdownAffine._fix_aspect_ratio`` (grow the short side to the crop's aspect w / h) —
docs/official-behaviour.md "Training recipe".
All boxes are image pixels; box sizes are (w, h).
"""
from __future__ import annotations

import numpy as np


def xywh_to_clipped_xyxy(xywh, image_size: tuple[int, int]) -> np.ndarray:
    """COCO box (x, y, w, h) -> (x1, y1, x2, y2) float32 with corners clipped to the image.

    image_size: (W, H) pixels. x is clipped to [0, W-1], y to [0, H-1], as MMPose's COCO parser.
    """
    x, y, w, h = (float(v) for v in xywh)
    img_w, img_h = image_size
    return np.array([np.clip(x, 0, img_w - 1), np.clip(y, 0, img_h - 1),
                     np.clip(x + w, 0, img_w - 1), np.clip(y + h, 0, img_h - 1)], dtype=np.float32)


def xyxy_to_center_size(xyxy, padding: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(x1, y1, x2, y2) -> centre (2,) and box size (w, h) * padding (2,), float32 image pixels."""
    box = np.asarray(xyxy, dtype=np.float32)
    center = (box[2:] + box[:2]) * 0.5
    box_size = (box[2:] - box[:2]) * np.float32(padding)
    return center, box_size



def fix_aspect_ratio(box_size, aspect: float) -> np.ndarray:
    """Grow the short side so that w / h == aspect: if w > aspect * h then h = w / aspect else w = aspect * h."""
    w, h = (float(v) for v in np.asarray(box_size).reshape(2))
    if w > h * aspect:
        return np.array([w, w / aspect], dtype=np.float32)
    return np.array([h * aspect, h], dtype=np.float32)


def box_to_center_size(xywh, *, padding: float = 1.25, aspect: float | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """COCO (x, y, w, h) -> (centre (2,), box size (w, h) (2,)): padded, then aspect-fixed if aspect is given.

    aspect: crop w / h (0.75 for 192x256). Raises ValueError on a non-positive box, naming it.
    """
    x, y, w, h = (float(v) for v in np.asarray(xywh).reshape(4))
    if not (w > 0 and h > 0):
        raise ValueError(f"box (x, y, w, h) = {(x, y, w, h)} has non-positive width or height")
    center, box_size = xyxy_to_center_size([x, y, x + w, y + h], padding)
    if aspect is not None:
        box_size = fix_aspect_ratio(box_size, aspect)
    return center, box_size


def center_size_to_xyxy(center, box_size) -> np.ndarray:
    """(centre, box size (w, h)) -> (x1, y1, x2, y2) float32 image pixels."""
    center = np.asarray(center, dtype=np.float32)
    half = np.asarray(box_size, dtype=np.float32) * 0.5
    return np.concatenate([center - half, center + half])
