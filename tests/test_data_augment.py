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
    assert np.allclose(v.box_size, [187.5, 250.0])                  # aspect fixed to 0.75
    assert np.allclose(v.keypoints[8], (kpts[8] - [200, 150]) * 192 / 187.5 + [96, 128], atol=1e-4)


def test_one_warp_per_crop_equals_flip_then_warp_step_by_step(monkeypatch):
    """The geometric steps compose into one warpAffine per crop. Replaying the same draws step by step
    as the official pipeline (flip the whole image, half-body, random box, aspect fix, warp) gives the same
    keypoints and the same pixels up to one grey level (the folded flip), and the crop stays uint8."""
    import cv2

    from rtmposelib.data.affine import apply_affine, warp_image, warp_matrix
    from rtmposelib.data.bbox import fix_aspect_ratio
    from rtmposelib.data.transforms import flip_instance, half_body, random_bbox_transform

    image = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    _, kpts, vis = _scene()
    cfg = STRONG_AUG
    pipe = _pipeline(cfg)
    calls = []
    warp = cv2.warpAffine
    monkeypatch.setattr(cv2, "warpAffine", lambda *a, **k: calls.append(1) or warp(*a, **k))
    center, box_size = np.array([200.0, 150.0]), np.array([150.0, 250.0])
    flips = 0
    for index in range(30):
        calls.clear()
        s = pipe(image, kpts, vis, center, box_size, sample_rng(0, 0, index))
        assert len(calls) == 1 and s.crop.dtype == np.uint8 and s.crop.shape == (256, 192, 3)

        rng = sample_rng(0, 0, index)                            # the same draws, one step at a time
        img, k, v, c, sc = image, kpts, vis, center, box_size
        if rng.random() < cfg.flip_prob:
            img = np.ascontiguousarray(image[:, ::-1])
            k, v, c = flip_instance(k, v, c, image.shape[1], META.flip_indices)
            flips += 1
        half = half_body(k, v, META.upper_body_ids, META.lower_body_ids, rng, prob=cfg.half_body_prob)
        if half is not None:
            c, sc = half
        c, sc, rot = random_bbox_transform(c, sc, rng, shift_factor=cfg.shift_factor, shift_prob=cfg.shift_prob,
                                           scale_factor=cfg.scale_factor, scale_prob=cfg.scale_prob,
                                           rotate_factor=cfg.rotate_factor, rotate_prob=cfg.rotate_prob)
        m = warp_matrix(c, fix_aspect_ratio(sc, 192 / 256), rot, (192, 256))
        np.testing.assert_array_equal(s.keypoints, apply_affine(k, m))
        calls.clear()
        crop = warp_image(img, m, (192, 256))
        geometric_only = warp_image(image, s.matrix, (192, 256))
        assert np.abs(geometric_only.astype(int) - crop.astype(int)).max() <= 1
    assert 5 <= flips <= 25


def test_set_worker_threads():
    import cv2
    import pytest

    from rtmposelib.data.augment import set_worker_threads

    before = cv2.getNumThreads()
    try:
        set_worker_threads()
        assert cv2.getNumThreads() == 1
        set_worker_threads(2)
        assert cv2.getNumThreads() == 2
        with pytest.raises(ValueError, match="cv2_threads"):
            set_worker_threads(0)
    finally:
        cv2.setNumThreads(before)
