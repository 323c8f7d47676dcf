"""Crop pixels -> image pixels for a top-down crop made without rotation (test time).

Matches MMPose's ``TopdownPoseEstimator`` post-processing (docs/official-behaviour.md "SimCC codec"): the crop of
``input_size`` pixels covers the padded, aspect-fixed box of size ``box_size`` (w, h) centred on ``center``,
so a crop point maps back as ``kp / input_size * box_size + center - box_size / 2`` per axis.
"""
from __future__ import annotations

import numpy as np


def crop_to_image(keypoints: np.ndarray, center: np.ndarray, box_size: np.ndarray,
                  input_size: tuple[int, int]) -> np.ndarray:
    """Map crop keypoints back to the image.

    keypoints: (N, K, 2) crop pixels; center: (N, 2) image pixels; box_size: (N, 2) box (w, h) in image
    pixels (padded and aspect-fixed, as used for the warp); input_size: crop (w, h).
    Returns (N, K, 2) float32 image pixels.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    center = np.asarray(center, dtype=np.float64).reshape(-1, 2)
    box_size = np.asarray(box_size, dtype=np.float64).reshape(-1, 2)
    if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
        raise ValueError(f"keypoints must be (N, K, 2), got {keypoints.shape}")
    if len(center) != len(keypoints) or len(box_size) != len(keypoints):
        raise ValueError(f"center {center.shape} and box_size {box_size.shape} must have one row per "
                         f"instance of keypoints {keypoints.shape}")
    size = np.asarray(input_size, dtype=np.float64)
    out = keypoints / size * box_size[:, None] + center[:, None] - box_size[:, None] / 2
    return out.astype(np.float32)


def image_to_crop(keypoints: np.ndarray, center: np.ndarray, box_size: np.ndarray,
                  input_size: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`crop_to_image`: (N, K, 2) image pixels -> (N, K, 2) float32 crop pixels."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    center = np.asarray(center, dtype=np.float64).reshape(-1, 2)
    box_size = np.asarray(box_size, dtype=np.float64).reshape(-1, 2)
    size = np.asarray(input_size, dtype=np.float64)
    out = (keypoints - center[:, None] + box_size[:, None] / 2) / box_size[:, None] * size
    return out.astype(np.float32)
