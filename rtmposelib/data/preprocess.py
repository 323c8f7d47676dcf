"""Test-time preprocessing of boxes: padding + aspect fix, the affine crop, and normalisation (of one
crop in numpy here, of a batch of the datasets' uint8 crops in torch on the model's side).

Matches MMPose's val pipeline ``GetBBoxCenterScale(1.25) -> TopdownAffine`` and the data
preprocessor (mean/std in RGB order, ``bgr_to_rgb=True``): images are loaded BGR, cropped in BGR,
then swapped to RGB and normalised (docs/official-behaviour.md "Model sizes"). rtmlib and the official ONNX
Runtime example skip the swap (docs/official-behaviour.md "Deployment"); we do not by default
(``bgr_to_rgb=False`` mimics them). :func:`preprocess_boxes` does all of it for a batch of boxes; the
ONNX runner, the top-down pipeline and the latency benchmark share it.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from rtmposelib.data.affine import warp_image, warp_matrix
from rtmposelib.data.bbox import box_to_center_size, fix_aspect_ratio

__all__ = ["MEAN", "STD", "normalize", "normalize_images", "pack_crop", "normalize_crop", "box_to_center_size",
           "fix_aspect_ratio", "warp_crop", "crop_box", "preprocess_boxes"]

MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)   # RGB order, 0..255 pixel values
STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)


def normalize(crop_bgr: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 BGR crop -> (3, H, W) float32 RGB, (x - MEAN) / STD."""
    if crop_bgr.ndim != 3 or crop_bgr.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) BGR image, got shape {crop_bgr.shape}")
    out = np.empty((3, *crop_bgr.shape[:2]), dtype=np.float32)
    for c in range(3):                                         # channel c of the output is RGB, input BGR
        np.subtract(crop_bgr[:, :, 2 - c], MEAN[c], out=out[c], dtype=np.float32)
        np.divide(out[c], STD[c], out=out[c])
    return out


def pack_crop(crop_bgr: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 BGR crop -> (3, H, W) uint8 BGR tensor, the form a dataset item carries (as
    MMPose's ``PackPoseInputs``); :func:`normalize_images` turns a batch of them into model input."""
    if crop_bgr.ndim != 3 or crop_bgr.shape[2] != 3 or crop_bgr.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 BGR image, got {crop_bgr.dtype} {crop_bgr.shape}")
    planes = np.empty((3, *crop_bgr.shape[:2]), np.uint8)
    cv2.split(crop_bgr, [planes[0], planes[1], planes[2]])    # de-interleaves into the planes (SIMD)
    return torch.from_numpy(planes)


def normalize_images(images: torch.Tensor) -> torch.Tensor:
    """Model input from packed crops: uint8 (..., 3, H, W) BGR -> float32 RGB, (x - MEAN) / STD, the
    values :func:`normalize` gives, bit for bit. Done on the batch, on the model's device (MMPose's data
    preprocessor does the same). A floating-point tensor is taken as normalised already and returned
    as it is."""
    if images.is_floating_point():
        return images
    if images.dtype != torch.uint8 or images.ndim < 3 or images.shape[-3] != 3:
        raise ValueError(f"expected uint8 (..., 3, H, W) BGR crops or a normalised float batch, got "
                         f"{images.dtype} {tuple(images.shape)}")
    mean = torch.from_numpy(MEAN).to(images.device).view(3, 1, 1)
    std = torch.from_numpy(STD).to(images.device).view(3, 1, 1)
    return images.flip(-3).to(torch.float32).sub_(mean).div_(std)


def warp_crop(image: np.ndarray, center, box_size, input_size: tuple[int, int], rotation: float = 0.0,
              *, udp: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Crop a box out of an image: returns (crop (h, w, C) same dtype, 2x3 matrix image px -> crop px).

    center: (2,) image px; box_size: box (w, h) image px, used as given (aspect-fix it first);
    input_size: crop (w, h); rotation: degrees.
    """
    matrix = warp_matrix(center, box_size, rotation, input_size, udp=udp)
    return warp_image(image, matrix, input_size), matrix


def crop_box(image: np.ndarray, xywh, input_size: tuple[int, int], *, padding: float = 1.25
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The whole val-time preprocessing of one COCO box.

    Returns (input (3, h, w) float32 normalised RGB, centre (2,), box size (w, h) aspect-fixed, matrix 2x3).
    """
    center, box_size = box_to_center_size(xywh, padding=padding, aspect=input_size[0] / input_size[1])
    crop, matrix = warp_crop(image, center, box_size, input_size)
    return normalize(crop), center, box_size, matrix


def normalize_crop(crop_bgr: np.ndarray, *, bgr_to_rgb: bool = True) -> np.ndarray:
    """(H, W, 3) uint8 BGR crop -> (3, H, W) float32 normalised with the RGB-ordered mean / std.

    bgr_to_rgb=True: swap to RGB first (MMPose, our models); False: keep BGR (rtmlib, ORT example).
    """
    if bgr_to_rgb:
        return normalize(crop_bgr)
    chw = (crop_bgr.astype(np.float32) - MEAN) / STD
    return np.ascontiguousarray(chw.transpose(2, 0, 1))


def preprocess_boxes(image_bgr: np.ndarray, boxes_xyxy: np.ndarray, *, input_size: tuple[int, int],
                     bgr_to_rgb: bool = True, bbox_padding: float = 1.25
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crops for every box: (batch (N, 3, h, w) float32, centers (N, 2), box_sizes (N, 2) image px).

    image_bgr: (H, W, 3) uint8 as cv2.imread gives. boxes_xyxy: (N, 4) image px. input_size: (w, h).
    Each box is padded by ``bbox_padding``, aspect-fixed to w/h and warped bilinearly (no rotation).
    """
    if image_bgr is None or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3) BGR, got "
                         f"{None if image_bgr is None else image_bgr.shape}")
    boxes = np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4)
    w, h = input_size
    batch = np.zeros((len(boxes), 3, h, w), np.float32)
    centers = np.zeros((len(boxes), 2), np.float32)
    box_sizes = np.zeros((len(boxes), 2), np.float32)
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        if not (x1 > x0 and y1 > y0):
            raise ValueError(f"box {i} {boxes[i].tolist()} has zero or negative area (xyxy expected)")
        center, box_size = box_to_center_size(np.array([x0, y0, x1 - x0, y1 - y0], np.float32),
                                              padding=bbox_padding, aspect=w / h)
        crop, _ = warp_crop(image_bgr, center, box_size, (w, h))
        batch[i] = normalize_crop(crop, bgr_to_rgb=bgr_to_rgb)
        centers[i], box_sizes[i] = center, box_size
    return batch, centers, box_sizes
