"""The random transforms of RTMPose's top-down training pipeline, one function each
(docs/official-behaviour.md "Training recipe").

Geometric (per instance, image pixels): ``RandomFlip`` (x -> W - 1 - x on the full image, keypoints
swapped by flip_indices), ``RandomHalfBody`` and ``RandomBBoxTransform`` (truncated-normal shift,
scale and rotation), as MMPose's ``datasets/transforms/common_transforms.py``.
Photometric (on the warped BGR uint8 crop, in place): ``YOLOXHSVRandomAug`` and the Albumentations
``Blur`` / ``MedianBlur`` (odd kernels 3..7) / ``CoarseDropout`` (one hole, 0.2-0.4 of the crop, fill 0),
written with numpy + OpenCV. Every function draws from the ``numpy.random.Generator`` it is given.
"""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np


def truncnorm(rng: np.random.Generator, size: int) -> np.ndarray:
    """Standard normal truncated to [-1, 1] (scipy ``truncnorm(-1, 1)``), by rejection; float64 (size,)."""
    out = np.empty(0)
    while out.size < size:
        draw = rng.standard_normal(2 * size + 4)
        out = np.concatenate([out, draw[np.abs(draw) <= 1.0]])
    return out[:size]


def flip_instance(keypoints: np.ndarray, visible: np.ndarray, center: np.ndarray, image_width: int,
                  flip_indices) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal flip of one instance: keypoints (K, 2) and centre (2,) image px, visible (K,).

    x -> W - 1 - x, then keypoint k takes the values of flip_indices[k]. Flipping twice is the identity.
    """
    flip = np.asarray(flip_indices)
    kpts = keypoints[flip].copy()
    kpts[:, 0] = image_width - 1 - kpts[:, 0]
    center = np.array([image_width - 1 - center[0], center[1]], dtype=np.float32)
    return kpts, visible[flip].copy(), center


def half_body(keypoints: np.ndarray, visible: np.ndarray, upper_ids, lower_ids, rng: np.random.Generator,
              *, prob: float = 0.3, min_total: int = 9, min_upper: int = 2, min_lower: int = 3,
              padding: float = 1.5, upper_prob: float = 0.7) -> tuple[np.ndarray, np.ndarray] | None:
    """RandomHalfBody: a box around the visible upper or lower body, or None if not applied.

    Eligible with >= min_total visible keypoints, then applied with ``prob``. Upper is preferred with
    ``upper_prob`` when both halves have enough points (upper >= 2, lower >= 3). Returns
    (centre = mean of the chosen points, box size = (max - min) * padding), image px, not aspect-fixed.
    """
    if visible.sum() < min_total or rng.random() > prob:
        return None
    upper = [i for i in upper_ids if visible[i] > 0]
    lower = [i for i in lower_ids if visible[i] > 0]
    prefer_upper = rng.random() < upper_prob
    if len(upper) < min_upper and len(lower) < min_lower:
        return None
    if len(lower) < min_lower:
        chosen = upper
    elif len(upper) < min_upper:
        chosen = lower
    else:
        chosen = upper if prefer_upper else lower
    pts = keypoints[chosen]
    center = pts.mean(axis=0).astype(np.float32)
    box_size = ((pts.max(axis=0) - pts.min(axis=0)) * padding).astype(np.float32)
    if box_size.max() <= 0:                                # coincident points: no box to crop
        return None
    return center, box_size


def random_bbox_transform(center: np.ndarray, box_size: np.ndarray, rng: np.random.Generator, *,
                          shift_factor: float, shift_prob: float, scale_factor: tuple[float, float],
                          scale_prob: float, rotate_factor: float, rotate_prob: float
                          ) -> tuple[np.ndarray, np.ndarray, float]:
    """RandomBBoxTransform: (centre, box size, rotation in degrees) after the random shift/scale/rotate.

    t ~ truncnorm(-1, 1) four times (x shift, y shift, scale, rotation):
    centre += t_xy * shift_factor * box_size (with shift_prob); box_size *= mid + t * half_range of
    scale_factor (with scale_prob); rotation = t * rotate_factor (with rotate_prob), else 0.
    """
    t = truncnorm(rng, 4)
    offset = t[:2] * shift_factor if rng.random() < shift_prob else np.zeros(2)
    lo, hi = scale_factor
    factor = t[2] * (hi - lo) * 0.5 + (hi + lo) * 0.5 if rng.random() < scale_prob else 1.0
    rotation = float(t[3] * rotate_factor) if rng.random() < rotate_prob else 0.0
    center = (center + offset * box_size).astype(np.float32)
    return center, (box_size * factor).astype(np.float32), rotation


def _per_channel(*values: int) -> Any:
    """A per-channel scalar for OpenCV's element-wise operations: a tuple, which OpenCV takes though its
    type stubs list only arrays."""
    return values


def hsv_jitter(image: np.ndarray, gains: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    """YOLOXHSVRandomAug on a BGR uint8 image, in place.

    Each gain is uniform(-d, d), kept with p 0.5, truncated to int16; hue wraps mod 180 (OpenCV),
    saturation and value are clipped to 0..255. The shift is one saturating add of (dh, ds, dv) to the
    uint8 HSV image (the saturation is the clip), with the hue wrap applied around it through a mask of
    the hues that cross 0 or 180. That needs |dh| < 76 (the hue channel must not saturate; the official
    hue gain is 5); larger hue shifts go through a lookup table per channel, which gives the same pixels.
    """
    delta = rng.uniform(-1, 1, 3) * np.asarray(gains, dtype=np.float64)
    delta = (delta * rng.integers(0, 2, 3)).astype(np.int16)
    if not delta.any():
        return image
    dh, ds, dv = (int(d) for d in delta)
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    if abs(dh) >= 76:
        values = np.arange(256, dtype=np.int16)
        lut = np.stack([(values + dh) % 180, np.clip(values + ds, 0, 255), np.clip(values + dv, 0, 255)],
                       axis=-1).astype(np.uint8)[None]                         # (1, 256, 3)
        cv2.cvtColor(cv2.LUT(hsv, lut), cv2.COLOR_HSV2BGR, dst=image)
        return image
    wrap = _per_channel(180, 0, 0)
    if dh < 0:                      # hues below -dh would go negative: lift them by 180 first
        hsv = cv2.add(hsv, cv2.bitwise_and(cv2.compare(hsv, _per_channel(-dh, 0, 0), cv2.CMP_LT), wrap))
    hsv = cv2.add(hsv, _per_channel(dh, ds, dv))
    if dh > 0:                      # hues that reached 180 or more come back by 180
        hsv = cv2.subtract(hsv, cv2.bitwise_and(cv2.compare(hsv, _per_channel(179, 255, 255), cv2.CMP_GT), wrap))
    cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR, dst=image)
    return image


def _odd_kernel(rng: np.random.Generator, low: int = 3, high: int = 7) -> int:
    return int(rng.choice(np.arange(low, high + 1, 2)))


def box_blur(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Albumentations Blur (blur_limit 3..7): a k x k mean filter, k odd; returns a new image."""
    k = _odd_kernel(rng)
    return cv2.blur(image, (k, k))


def median_blur(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Albumentations MedianBlur (blur_limit 3..7): a k x k median filter, k odd; returns a new image."""
    return cv2.medianBlur(image, _odd_kernel(rng))


def coarse_dropout(image: np.ndarray, rng: np.random.Generator, *, min_frac: float = 0.2,
                   max_frac: float = 0.4, fill: int = 0) -> np.ndarray:
    """CoarseDropout (Cutout) with one hole of int(side * U(min_frac, max_frac)) per axis, in place."""
    h, w = image.shape[:2]
    hole_h = int(h * rng.uniform(min_frac, max_frac))
    hole_w = int(w * rng.uniform(min_frac, max_frac))
    y1 = int(rng.integers(0, h - hole_h + 1))
    x1 = int(rng.integers(0, w - hole_w + 1))
    image[y1:y1 + hole_h, x1:x1 + hole_w] = fill
    return image
