"""The top-down affine warp: box (centre, size, rotation) -> fixed-size crop, and its inverse.

Two conventions, as MMPose's ``TopdownAffine`` (docs/official-behaviour.md "Training recipe"):

* standard (``get_warp_matrix``): the box centre maps to the crop centre (w/2, h/2), scale w_crop / S_w,
  the image rotated by ``rotation`` degrees counter-clockwise about the centre (a similarity transform;
  S is assumed aspect-fixed);
* UDP (``get_udp_warp_matrix``, Huang et al. CVPR 2020, used for heatmap pre-training): the unbiased
  mapping in which pixel *intervals* scale, so the centre maps to ((w-1)/2, (h-1)/2) with scale
  (w_crop - 1) / S_w per axis. MMPose rotates by the opposite sign here; we keep its convention.

Matrices are 2x3 float64 acting on column vectors (x, y, 1) in image pixels and give crop pixels.
"""
from __future__ import annotations

import math

import cv2
import numpy as np


def warp_matrix(center, box_size, rotation: float, output_size: tuple[int, int], *,
                udp: bool = False) -> np.ndarray:
    """2x3 affine matrix image px -> crop px for a box (centre (2,), size (w, h)) and rotation (deg).

    output_size: crop (w, h) pixels.
    """
    cx, cy = (float(v) for v in np.asarray(center).reshape(2))
    sw, sh = (float(v) for v in np.asarray(box_size).reshape(2))
    out_w, out_h = output_size
    if not (sw > 0 and sh > 0):
        raise ValueError(f"box size (w, h) = {(sw, sh)} must be positive")
    theta = math.radians(rotation)
    cos, sin = math.cos(theta), math.sin(theta)
    if udp:
        kx, ky = (out_w - 1) / sw, (out_h - 1) / sh
        lin = np.array([[cos * kx, -sin * kx], [sin * ky, cos * ky]])
        dst = np.array([(out_w - 1) / 2.0, (out_h - 1) / 2.0])
    else:
        k = out_w / sw                                       # one scale: the standard warp is a similarity
        lin = k * np.array([[cos, sin], [-sin, cos]])
        dst = np.array([out_w / 2.0, out_h / 2.0])
    t = dst - lin @ np.array([cx, cy])
    return np.hstack([lin, t[:, None]])


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine matrix (crop px -> image px for a warp matrix)."""
    full = np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def compose_affine(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The 2x3 matrix of ``outer(inner(p))``."""
    return (np.vstack([outer, [0, 0, 1]]) @ np.vstack([inner, [0, 0, 1]]))[:2]


def hflip_matrix(image_width: int) -> np.ndarray:
    """The pixel flip of RandomFlip: x -> W - 1 - x (a permutation of pixel columns)."""
    return np.array([[-1.0, 0.0, image_width - 1.0], [0.0, 1.0, 0.0]])


def apply_affine(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Transform points (..., 2) by a 2x3 matrix; returns float32 of the same shape."""
    pts = np.asarray(points, dtype=np.float64)
    out = pts @ matrix[:, :2].T + matrix[:, 2]
    return out.astype(np.float32)


def warp_image(image: np.ndarray, matrix: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
    """cv2.warpAffine with bilinear sampling and a zero border (MMPose's TopdownAffine)."""
    return cv2.warpAffine(image, np.asarray(matrix, dtype=np.float64), (int(output_size[0]), int(output_size[1])),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
