"""Random transforms: distributions of the strong / weak stages, flip involution, photometric ops."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rtmposelib.config import STRONG_AUG, WEAK_AUG
from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.data.transforms import (
    box_blur,
    coarse_dropout,
    flip_instance,
    half_body,
    hsv_jitter,
    median_blur,
    random_bbox_transform,
    truncnorm,
)

TN_STD = stats.truncnorm(-1, 1).std()                         # 0.5379...


def test_truncnorm_matches_scipy():
    t = truncnorm(np.random.default_rng(0), 20000)
    assert np.abs(t).max() <= 1.0
    assert stats.kstest(t, stats.truncnorm(-1, 1).cdf).pvalue > 1e-3


def _draws(cfg, n=4000, seed=1):
    rng = np.random.default_rng(seed)
    center, box_size = np.array([100.0, 200.0]), np.array([50.0, 80.0])
    out = [random_bbox_transform(center, box_size, rng, shift_factor=cfg.shift_factor, shift_prob=cfg.shift_prob,
                                 scale_factor=cfg.scale_factor, scale_prob=cfg.scale_prob,
                                 rotate_factor=cfg.rotate_factor, rotate_prob=cfg.rotate_prob)
           for _ in range(n)]
    shift = np.array([(c - center) / box_size for c, _, _ in out])
    factor = np.array([s[0] / box_size[0] for _, s, _ in out])
    rot = np.array([r for _, _, r in out])
    return shift, factor, rot


@pytest.mark.parametrize("cfg", [STRONG_AUG, WEAK_AUG], ids=["strong", "weak"])
def test_bbox_transform_distributions(cfg):
    shift, factor, rot = _draws(cfg)
    n = len(rot)
    lo, hi = cfg.scale_factor
    # scale: always applied, mid + t * half-range
    assert lo - 1e-6 <= factor.min() and factor.max() <= hi + 1e-6
    assert factor.mean() == pytest.approx((lo + hi) / 2, abs=0.01)
    assert factor.std() == pytest.approx((hi - lo) / 2 * TN_STD, rel=0.05)
    # rotation: applied with p 0.6, bounded by the factor
    applied = rot != 0
    assert applied.mean() == pytest.approx(cfg.rotate_prob, abs=0.03)
    assert np.abs(rot).max() <= cfg.rotate_factor
    assert rot[applied].std() == pytest.approx(cfg.rotate_factor * TN_STD, rel=0.05)
    assert abs(rot.mean()) < 2.0
    # shift: per axis, in units of the box size, with p 0.3 (none in the weak stage)
    moved = np.any(shift != 0, axis=1)
    if cfg.shift_factor == 0:
        assert not moved.any()
    else:
        assert moved.mean() == pytest.approx(cfg.shift_prob, abs=0.03)
        assert np.abs(shift).max() <= cfg.shift_factor + 1e-6
        assert shift[moved].std(axis=0) == pytest.approx([cfg.shift_factor * TN_STD] * 2, rel=0.08)
    assert n == 4000


def test_flip_twice_is_identity_with_swaps():
    meta = get_metainfo("coco")
    rng = np.random.default_rng(0)
    kpts = rng.uniform(0, 640, (17, 2)).astype(np.float32)
    vis = (rng.random(17) > 0.3).astype(np.float32)
    center = np.array([300.5, 200.0], np.float32)
    k1, v1, c1 = flip_instance(kpts, vis, center, 640, meta.flip_indices)
    assert k1[1, 0] == pytest.approx(639 - kpts[2, 0]) and v1[1] == vis[2]   # left eye <- right eye
    assert c1[0] == pytest.approx(639 - 300.5)
    k2, v2, c2 = flip_instance(k1, v1, c1, 640, meta.flip_indices)
    assert np.allclose(k2, kpts, atol=1e-4) and np.array_equal(v2, vis) and np.array_equal(c2, center)


def test_half_body_choices_and_box():
    meta = get_metainfo("coco")
    kpts = np.stack([np.linspace(0, 160, 17), np.linspace(0, 320, 17)], axis=1).astype(np.float32)
    vis = np.ones(17, np.float32)
    picks = {"upper": 0, "lower": 0, "none": 0}
    rng = np.random.default_rng(3)
    for _ in range(4000):
        out = half_body(kpts, vis, meta.upper_body_ids, meta.lower_body_ids, rng)
        if out is None:
            picks["none"] += 1
        else:
            picks["upper" if out[0][1] < 160 else "lower"] += 1
    assert picks["none"] / 4000 == pytest.approx(0.7, abs=0.03)
    assert picks["upper"] / (picks["upper"] + picks["lower"]) == pytest.approx(0.7, abs=0.04)
    # the box: mean of the chosen points, (max - min) * 1.5
    c, s = half_body(kpts, vis, meta.upper_body_ids, meta.lower_body_ids, np.random.default_rng(0), prob=1.0,
                     upper_prob=1.0)
    assert np.allclose(c, kpts[:11].mean(0)) and np.allclose(s, (kpts[10] - kpts[0]) * 1.5)
    # fewer than 9 visible keypoints: never applied; only the lower half qualifies: lower is used
    few = vis.copy()
    few[:10] = 0
    assert half_body(kpts, few, meta.upper_body_ids, meta.lower_body_ids, rng, prob=1.0) is None
    lower_only = np.zeros(17, np.float32)
    lower_only[[0]] = 1                                        # 1 upper point (< 2), 6 lower (>= 3)
    lower_only[11:] = 1
    c, _ = half_body(kpts, lower_only, meta.upper_body_ids, meta.lower_body_ids, rng, prob=1.0, min_total=7)
    assert np.allclose(c, kpts[11:].mean(0))


def test_hsv_blur_dropout_change_pixels_as_specified():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (64, 48, 3), dtype=np.uint8)
    out = coarse_dropout(img.copy(), rng)
    zero = np.all(out == 0, axis=2)
    ys, xs = np.nonzero(zero & ~np.all(img == 0, axis=2))
    hh, ww = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    assert 0.2 * 64 - 1 <= hh <= 0.4 * 64 and 0.2 * 48 - 1 <= ww <= 0.4 * 48
    assert zero.sum() == int(hh * ww)
    flat = np.full((8, 8, 3), 100, np.uint8)
    assert np.array_equal(box_blur(flat, rng), flat) and np.array_equal(median_blur(flat, rng), flat)
    assert not np.array_equal(box_blur(img, rng), img)
    changed = 0
    for _ in range(20):
        changed += not np.array_equal(hsv_jitter(img.copy(), (5, 30, 30), rng), img)
    assert 10 <= changed <= 20                                    # off only when all 3 gains are dropped (1/8)


def _hsv_reference(image, gains, rng):
    """YOLOXHSVRandomAug as the official transform writes it: int16 HSV, hue mod 180, clip, back to BGR."""
    import cv2
    delta = rng.uniform(-1, 1, 3) * np.asarray(gains, dtype=np.float64)
    delta = (delta * rng.integers(0, 2, 3)).astype(np.int16)
    if not delta.any():
        return image
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV).astype(np.int16)
    hsv[..., 0] = (hsv[..., 0] + delta[0]) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] + delta[1], 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] + delta[2], 0, 255)
    cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR, dst=image)
    return image


@pytest.mark.parametrize("gains", [(5, 30, 30), (75, 255, 255), (179, 255, 255)],
                         ids=["official", "largest-saturating-add", "lookup-table"])
def test_hsv_jitter_equals_the_int16_arithmetic(gains):
    """The HSV jitter (saturating adds, or a lookup table for hue shifts of 76 and more) is
    pixel-identical to the int16 formula, every draw of a generator."""
    img = np.random.default_rng(0).integers(0, 256, (64, 48, 3), dtype=np.uint8)
    img[0, :6] = [[0, 0, 0], [255, 255, 255], [0, 0, 255], [255, 0, 0], [0, 255, 255], [128, 128, 128]]
    a_rng, b_rng = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(80):
        np.testing.assert_array_equal(hsv_jitter(img.copy(), gains, a_rng), _hsv_reference(img.copy(), gains, b_rng))
    assert a_rng.random() == b_rng.random()                    # same number of draws


@pytest.mark.parametrize("dh", [-75, -5, -1, 1, 5, 75, 120])
def test_hsv_jitter_over_a_grid_of_colours(dh):
    """Fixed shifts (the largest the saturating adds take, and one past them) of an image built from a
    grid of HSV triples (every hue, every third saturation, every value): the int16 formula's pixels."""
    import cv2
    h, s, v = np.meshgrid(np.arange(180), np.arange(0, 256, 3), np.arange(256), indexing="ij")
    hsv = np.stack([h, s, v], -1).astype(np.uint8).reshape(-1, 256, 3)
    image = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    class Draws:                        # a generator whose draws give exactly ``shift`` for gains (1, 1, 1)
        def __init__(self, shift):
            self.shift = np.asarray(shift, np.float64)

        def uniform(self, low, high, size):
            return self.shift

        def integers(self, low, high, size):
            return np.ones(size, np.int64)

    for ds, dv in ((-30, 29), (17, -30), (0, 0)):
        got = hsv_jitter(image.copy(), (1, 1, 1), Draws((dh, ds, dv)))
        np.testing.assert_array_equal(got, _hsv_reference(image.copy(), (1, 1, 1), Draws((dh, ds, dv))))
        assert not np.array_equal(got, image) or dh == 0
