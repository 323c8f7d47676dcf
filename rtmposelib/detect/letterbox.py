"""The detector's input: a top-left letterbox normalised with the detector's BGR statistics.

RTMDet (MMDetection, rtmlib) resizes the whole image by one ratio to fit the input, pads the right and
bottom with 114 and normalises the BGR image with BGR-ordered mean / std, without a channel swap
(docs/official-behaviour.md "Deployment"). Used for training data, inference and benchmarks alike.
"""
from __future__ import annotations

import cv2
import numpy as np

DET_MEAN = (103.53, 116.28, 123.675)   # BGR order, applied to the BGR image (no swap)
DET_STD = (57.375, 57.12, 58.395)
PAD_VALUE = 114


def letterbox(image_bgr: np.ndarray, size: tuple[int, int] = (320, 320)) -> tuple[np.ndarray, float]:
    """Top-left letterbox as rtmlib: resize by r = min(W/w, H/h), pad with 114 -> ((1, 3, H, W)
    float32 normalised with the BGR detector stats, r)."""
    if image_bgr is None or image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.size == 0:
        raise ValueError(f"image must be (H, W, 3) BGR uint8, got "
                         f"{None if image_bgr is None else image_bgr.shape}")
    w, h = size
    ratio = min(h / image_bgr.shape[0], w / image_bgr.shape[1])
    new_w, new_h = int(image_bgr.shape[1] * ratio), int(image_bgr.shape[0] * ratio)
    padded = np.full((h, w, 3), PAD_VALUE, np.uint8)
    padded[:new_h, :new_w] = cv2.resize(image_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    norm = (padded.astype(np.float32) - np.asarray(DET_MEAN, np.float32)) / np.asarray(DET_STD, np.float32)
    return np.ascontiguousarray(norm.transpose(2, 0, 1)[None]), ratio
