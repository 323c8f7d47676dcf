"""The whole training pipeline: keypoints follow the pixels, determinism per (seed, epoch, index)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from rtmposelib.config import STRONG_AUG, WEAK_AUG
from rtmposelib.data.augment import TopdownAugment, sample_rng, topdown_affine
from rtmposelib.data.metainfo import get_metainfo

META = get_metainfo("coco")


def _scene():
    image = np.zeros((300, 400, 3), np.uint8)
    kpts = np.stack([np.linspace(150, 250, 17), np.linspace(60, 240, 17)], axis=1).astype(np.float32)
    kpts[9] = (170, 150)                                         # left wrist, drawn white
    image[148:153, 168:173] = 255
    return image, kpts, np.ones(17, np.float32)


def _pipeline(cfg, **kw):
    return TopdownAugment(cfg, input_size=(192, 256), flip_indices=META.flip_indices,
                          upper_body_ids=META.upper_body_ids, lower_body_ids=META.lower_body_ids, **kw)


def test_keypoints_follow_pixels_through_flip_rotation_scale():
    image, kpts, vis = _scene()
    geometric = replace(STRONG_AUG, hsv_gains=None, blur_prob=0.0, median_blur_prob=0.0, cutout_prob=0.0)
    pipe = _pipeline(geometric)
    flipped = checked = 0
    for index in range(40):
        s = pipe(image, kpts, vis, np.array([200.0, 150.0]), np.array([150.0, 250.0]), sample_rng(0, 0, index))
        wrist = 10 if s.flipped else 9                           # after a flip the drawn wrist is "right"
        flipped += s.flipped
        x, y = np.round(s.keypoints[wrist]).astype(int)
        if 2 <= x < 190 and 2 <= y < 254:
            assert s.crop[y, x].min() > 100, (index, s.flipped, s.rotation)
            checked += 1
    assert 8 <= flipped <= 32 and checked >= 30


def test_deterministic_per_seed_epoch_index():
    image, kpts, vis = _scene()
    pipe = _pipeline(STRONG_AUG)
    args = (image, kpts, vis, np.array([200.0, 150.0]), np.array([150.0, 250.0]))
    a = pipe(*args, sample_rng(7, 3, 11))
    b = pipe(*args, sample_rng(7, 3, 11))
    c = pipe(*args, sample_rng(7, 4, 11))
    assert np.array_equal(a.crop, b.crop) and np.array_equal(a.keypoints, b.keypoints)
    assert not (np.array_equal(a.crop, c.crop) and np.array_equal(a.keypoints, c.keypoints))
    assert image[150, 170, 0] == 255 and image.sum() == 255 * 25 * 3   # the input is untouched


def test_weak_stage_never_shifts_and_val_affine_is_exact():
    image, kpts, vis = _scene()
    pipe = _pipeline(replace(WEAK_AUG, flip_prob=0.0, half_body_prob=0.0))
    for index in range(20):
        s = pipe(image, kpts, vis, np.array([200.0, 150.0]), np.array([150.0, 250.0]), sample_rng(0, 0, index))
        assert np.allclose(s.center, [200.0, 150.0])
    v = topdown_affine(image, kpts, vis, np.array([200.0, 150.0]), np.array([150.0, 250.0]), (192, 256))
    assert np.allclose(v.scale, [187.5, 250.0])                  # aspect fixed to 0.75
    assert np.allclose(v.keypoints[8], (kpts[8] - [200, 150]) * 192 / 187.5 + [96, 128], atol=1e-4)
