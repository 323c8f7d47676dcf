"""RTMPose's top-down training pipeline, driven by :class:`rtmposelib.config.AugmentConfig`.

Order as the official strong / weak pipelines (docs/official-behaviour.md "Training recipe"):
GetBBoxCenterScale (done by the dataset) -> RandomFlip -> RandomHalfBody -> RandomBBoxTransform ->
TopdownAffine (aspect fix, warp; UDP for heatmap pre-training) -> YOLOXHSVRandomAug -> Blur ->
MedianBlur -> CoarseDropout.

The geometric steps only move the box and the keypoints; their pixels are one ``cv2.warpAffine`` per
crop, straight from the decoded image. The full-image flip is folded into that matrix (a column
permutation; against flipping the image first, pixels differ by at most one grey level from OpenCV's
fixed-point sampling, keypoints not at all), so the large image is never copied or written. The crop
stays uint8 BGR through the photometric steps; normalisation to float comes after the pipeline.
Randomness comes from one generator per sample, :func:`sample_rng`, so a (seed, epoch, index) always
gives the same crop, in any DataLoader worker. :func:`set_worker_threads` is the per-worker OpenCV
threading.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from rtmposelib.config import AugmentConfig
from rtmposelib.data.affine import apply_affine, compose_affine, hflip_matrix, warp_image, warp_matrix
from rtmposelib.data.bbox import fix_aspect_ratio
from rtmposelib.data.transforms import (
    box_blur,
    coarse_dropout,
    flip_instance,
    half_body,
    hsv_jitter,
    median_blur,
    random_bbox_transform,
)


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The generator of one training sample; independent streams for every (seed, epoch, index)."""
    return np.random.default_rng([int(seed), int(epoch), int(index)])


def set_worker_threads(cv2_threads: int = 1) -> None:
    """OpenCV threading of one DataLoader worker process: ``cv2_threads`` threads (default 1).

    The loader's workers are the parallelism (PyTorch already gives each worker one torch thread);
    OpenCV's own pool, one thread per core by default, would put workers x cores threads on the cores
    for crops too small (256x192) to split well. Call it in the parent before the loader forks its workers
    (inside a forked worker it can deadlock once the parent has used the pool).
    """
    if cv2_threads < 1:
        raise ValueError(f"cv2_threads must be >= 1, got {cv2_threads}")
    cv2.setNumThreads(int(cv2_threads))


@dataclass
class TopdownSample:
    """One instance after the pipeline.

    crop: (h, w, 3) uint8 BGR; keypoints: (K, 2) float32 crop px; visible: (K,) float32;
    center / box_size: the box actually cropped (image px, box_size (w, h) aspect-fixed); rotation: degrees;
    matrix: 2x3 image px -> crop px (flip included when ``flipped``).
    """

    crop: np.ndarray
    keypoints: np.ndarray
    visible: np.ndarray
    center: np.ndarray
    box_size: np.ndarray
    rotation: float
    matrix: np.ndarray
    flipped: bool = False


def topdown_affine(image: np.ndarray, keypoints: np.ndarray, visible: np.ndarray, center, box_size,
                   input_size: tuple[int, int], *, rotation: float = 0.0, udp: bool = False,
                   pre: np.ndarray | None = None) -> TopdownSample:
    """TopdownAffine: fix the box aspect to input w/h, warp the image and move the keypoints.

    ``pre`` is an optional 2x3 matrix applied to the image before the warp (the folded flip);
    ``keypoints`` must already be in the coordinates after ``pre``.
    """
    box_size = fix_aspect_ratio(box_size, input_size[0] / input_size[1])
    matrix = warp_matrix(center, box_size, rotation, input_size, udp=udp)
    image_matrix = matrix if pre is None else compose_affine(matrix, pre)
    crop = warp_image(image, image_matrix, input_size)
    return TopdownSample(crop=crop, keypoints=apply_affine(keypoints, matrix), visible=visible.astype(np.float32),
                         center=np.asarray(center, dtype=np.float32), box_size=box_size, rotation=rotation,
                         matrix=image_matrix, flipped=pre is not None)


class TopdownAugment:
    """The random training pipeline of one stage; call it on one instance with its generator."""

    def __init__(self, cfg: AugmentConfig, *, input_size: tuple[int, int], flip_indices,
                 upper_body_ids, lower_body_ids, udp: bool = False) -> None:
        self.cfg = cfg
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.flip_indices = np.asarray(flip_indices)
        self.upper_body_ids = tuple(upper_body_ids)
        self.lower_body_ids = tuple(lower_body_ids)
        self.udp = udp

    def __call__(self, image: np.ndarray, keypoints: np.ndarray, visible: np.ndarray, center: np.ndarray,
                 box_size: np.ndarray, rng: np.random.Generator) -> TopdownSample:
        """image: (H, W, 3) uint8 BGR (not modified); keypoints (K, 2) image px; visible (K,);
        center (2,) and box_size (w, h) the padded box, image px."""
        cfg = self.cfg
        pre = None
        if rng.random() < cfg.flip_prob:
            keypoints, visible, center = flip_instance(keypoints, visible, center, image.shape[1],
                                                       self.flip_indices)
            pre = hflip_matrix(image.shape[1])
        if cfg.half_body_prob > 0:
            half = half_body(keypoints, visible, self.upper_body_ids, self.lower_body_ids, rng,
                             prob=cfg.half_body_prob)
            if half is not None:
                center, box_size = half
        center, box_size, rotation = random_bbox_transform(
            center, box_size, rng, shift_factor=cfg.shift_factor, shift_prob=cfg.shift_prob,
            scale_factor=cfg.scale_factor, scale_prob=cfg.scale_prob, rotate_factor=cfg.rotate_factor,
            rotate_prob=cfg.rotate_prob)
        sample = topdown_affine(image, keypoints, visible, center, box_size, self.input_size,
                                rotation=rotation, udp=self.udp, pre=pre)
        crop = sample.crop
        if cfg.hsv_gains is not None:
            crop = hsv_jitter(crop, cfg.hsv_gains, rng)
        if rng.random() < cfg.blur_prob:
            crop = box_blur(crop, rng)
        if rng.random() < cfg.median_blur_prob:
            crop = median_blur(crop, rng)
        if rng.random() < cfg.cutout_prob:
            crop = coarse_dropout(crop, rng)
        sample.crop = crop
        return sample
