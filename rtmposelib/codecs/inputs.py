"""The checks every codec makes on its inputs, written once: keypoints to encode and flip indices.

Numpy only. Errors are one line and name the instance and keypoint at fault.
"""
from __future__ import annotations

import numpy as np


def encoder_inputs(keypoints: np.ndarray, visible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, K, 2) keypoints and (N, K) visibility, checked -> keypoints float64, visibility float32
    clipped to 1 (COCO's v = 2 counts as 1). Labelled points (visibility >= 0.5) must be finite."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    visible = np.minimum(np.asarray(visible, dtype=np.float32), 1.0)
    if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
        raise ValueError(f"keypoints must be (N, K, 2) crop pixels, got {keypoints.shape}")
    if visible.shape != keypoints.shape[:2]:
        raise ValueError(f"visible must be (N, K) = {keypoints.shape[:2]}, got {visible.shape}")
    bad = (visible >= 0.5) & ~np.isfinite(keypoints).all(-1)
    if bad.any():
        n, k = np.argwhere(bad)[0]
        raise ValueError(f"visible keypoint {k} of instance {n} is not finite: {keypoints[n, k]}")
    return keypoints, visible


def checked_flip_indices(flip_indices: list[int] | np.ndarray, num_keypoints: int) -> np.ndarray:
    """``flip_indices`` as int64, checked to be a permutation of range(num_keypoints)."""
    flip_indices = np.asarray(flip_indices, dtype=np.int64)
    if flip_indices.shape != (num_keypoints,) or sorted(flip_indices.tolist()) != list(range(num_keypoints)):
        raise ValueError(f"flip_indices must be a permutation of range({num_keypoints}), "
                         f"got {flip_indices.tolist()}")
    return flip_indices
