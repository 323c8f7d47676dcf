"""Heatmap codecs (MSRA, UDP): exact values by hand, weights, round trips, flip, build_codec."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from rtmposelib.codecs import MSRAHeatmapCodec, SimCCCodec, UDPHeatmapCodec, build_codec, flip_back_heatmaps
from rtmposelib.codecs.heatmap import gaussian_blur
from rtmposelib.config import CodecConfig


def msra() -> MSRAHeatmapCodec:
    return MSRAHeatmapCodec(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)


def udp() -> UDPHeatmapCodec:
    return UDPHeatmapCodec(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)


def test_msra_values_by_hand():
    hm = msra().encode(np.array([[[10.0, 20.0]]]), np.ones((1, 1)))["heatmaps"][0, 0]
    # (10, 20) / 4 = (2.5, 5.0) -> centre int(3.0), int(5.5) = (3, 5); window 3 +- 6
    assert hm.shape == (64, 48) and hm[5, 3] == 1.0
    assert hm[5, 4] == pytest.approx(math.exp(-1 / 8))
    assert hm[7, 9] == pytest.approx(math.exp(-(36 + 4) / 8))
    assert hm[5, 10] == 0.0 and hm[12, 3] == 0.0                 # outside the 13 x 13 window


def test_udp_values_by_hand():
    kp = np.array([[[100.0, 150.0]]])
    hm = udp().encode(kp, np.ones((1, 1)))["heatmaps"][0, 0]
    px, py = 100.0 * 47 / 191, 150.0 * 63 / 255                   # exact sub-pixel centre (24.61, 37.06)
    for x, y in [(24, 37), (25, 37), (28, 40), (19, 32)]:
        assert hm[y, x] == pytest.approx(math.exp(-((x - px) ** 2 + (y - py) ** 2) / 8), rel=1e-5)
    assert hm[37, 31] > 0 and hm[37, 18] == 0.0 and hm[37, 32] == 0.0   # window 25 +- 6 (int(24.61 + 0.5))


def test_weights():
    kp = np.array([[[50.0, 50.0], [50.0, 50.0], [-20.0, 50.0], [-40.0, 50.0]]])
    for codec in (msra(), udp()):
        out = codec.encode(kp, np.array([[1, 0, 2, 1]]))
        np.testing.assert_array_equal(out["weights"][0], [1, 0, 1, 0])
        assert not out["heatmaps"][0, 1].any() and not out["heatmaps"][0, 3].any()
        assert out["heatmaps"][0, 2].any()                        # truncated Gaussian kept


def test_round_trips():
    rng = np.random.default_rng(1)
    kp = rng.uniform([12, 12], [180, 244], size=(4, 17, 2))
    vis = np.ones((4, 17))
    dec, s = udp().decode(udp().encode(kp, vis)["heatmaps"])
    err = np.abs(dec - kp)
    interior = ((kp > 32) & (kp < [160, 224])).all(-1)            # Gaussian window fully inside
    assert err[interior].max() < 0.01                              # DARK-UDP is near exact
    assert err.max() < 0.3                                         # truncated windows near the border
    np.testing.assert_allclose(s, 1.0, atol=0.05)
    dec, _ = msra().decode(msra().encode(kp, vis)["heatmaps"])
    assert np.abs(dec - kp).max() <= 2.0                           # quantised to 4 px, 1 px refinement


def test_msra_quarter_offset():
    hm = np.zeros((1, 1, 64, 48), np.float32)
    hm[0, 0, 10, 20], hm[0, 0, 10, 21], hm[0, 0, 9, 20] = 1.0, 0.5, 0.2
    kp, s = msra().decode(hm)
    np.testing.assert_allclose(kp[0, 0], [(20 + 0.25) * 4, (10 - 0.25) * 4])
    kp, s = msra().decode(np.zeros((1, 1, 64, 48), np.float32))
    assert s[0, 0] == 0 and (kp[0, 0] == -4).all()                 # sentinel -1 heatmap px


def test_gaussian_blur_matches_opencv():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(2)
    maps = rng.uniform(size=(2, 64, 48)).astype(np.float32)
    ours = gaussian_blur(maps, 11)
    for m, o in zip(maps, ours):
        dr = np.zeros((74, 58), np.float32)
        dr[5:-5, 5:-5] = m
        ref = cv2.GaussianBlur(dr, (11, 11), 0)[5:-5, 5:-5]
        ref *= m.max() / ref.max()
        np.testing.assert_allclose(o, ref, rtol=1e-4, atol=1e-5)


def test_flip_back_heatmaps():
    hm = np.arange(2 * 3 * 4, dtype=np.float32).reshape(1, 2, 3, 4)
    out = flip_back_heatmaps(hm, [1, 0])
    np.testing.assert_array_equal(out[0, 0], hm[0, 1, :, ::-1])
    shifted = flip_back_heatmaps(hm, [1, 0], shift=True)
    np.testing.assert_array_equal(shifted[0, 0, :, 1:], hm[0, 1, :, ::-1][:, :-1])
    np.testing.assert_array_equal(shifted[0, 0, :, 0], hm[0, 1, :, -1])


def test_build_codec():
    assert isinstance(build_codec(CodecConfig()), SimCCCodec)
    c = build_codec(replace(CodecConfig(), kind="udp_heatmap"))
    assert isinstance(c, UDPHeatmapCodec) and c.heatmap_size == (48, 64) and c.sigma == 2.0
    assert isinstance(build_codec(replace(CodecConfig(), kind="msra_heatmap")), MSRAHeatmapCodec)
    with pytest.raises(ValueError, match="heatmaps must be"):
        udp().decode(np.zeros((1, 17, 64, 64)))


def _loop_heatmaps(codec, keypoints: np.ndarray, visible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One keypoint at a time: the (6 sigma + 1) window at int(p + 0.5), Gaussian centred on the window's
    middle (MSRA) or on the exact sub-pixel point (UDP), as the product of its x and y profiles (float64,
    then float32), clipped to the map; zero unless visible and the window touches the map."""
    w, h = codec.heatmap_size
    n, k = visible.shape
    maps = np.zeros((n, k, h, w), np.float32)
    weights = np.minimum(visible, 1.0).astype(np.float32)
    radius = 3 * codec.sigma
    size = int(np.ceil(2 * radius + 1))
    for i in range(n):
        for j in range(k):
            if visible[i, j] < 0.5:
                continue
            p = keypoints[i, j] / codec.scale_factor
            mu = (p + 0.5).astype(np.int64)
            x0, y0 = (mu - radius).astype(np.int64)
            x1, y1 = (mu + radius + 1).astype(np.int64)
            if x0 >= w or y0 >= h or x1 < 0 or y1 < 0:
                weights[i, j] = 0.0
                continue
            c = np.floor((2 * radius + 1) / 2) + (p - mu if codec.udp else np.zeros(2))
            gx = np.exp(-((np.arange(size) - c[0]) ** 2) / (2 * codec.sigma ** 2))
            gy = np.exp(-((np.arange(size) - c[1]) ** 2) / (2 * codec.sigma ** 2))
            window = (gy[:, None] * gx[None, :]).astype(np.float32)
            for a in range(size):
                for b in range(size):
                    if 0 <= y0 + a < h and 0 <= x0 + b < w:
                        maps[i, j, y0 + a, x0 + b] = window[a, b]
    return maps, weights


@pytest.mark.parametrize("cls", [MSRAHeatmapCodec, UDPHeatmapCodec], ids=["msra", "udp"])
@pytest.mark.parametrize("sigma,heatmap_size", [(2.0, (48, 64)), (2.5, (48, 64)), (1.3, (24, 32))])
def test_vectorised_heatmaps_equal_the_per_keypoint_loop(cls, sigma, heatmap_size):
    """Windows written at once give bit-identical maps to the per-keypoint loop: inside, on and beyond the
    border (truncated windows), far outside (weight 0), invisible (NaN allowed)."""
    codec = cls(input_size=(192, 256), heatmap_size=heatmap_size, sigma=sigma)
    rng = np.random.default_rng(3)
    kp = rng.uniform([-40, -40], [232, 296], size=(3, 17, 2))
    kp[0, 0], kp[0, 1] = (1e5, 10.0), (np.nan, np.nan)
    vis = rng.choice([0.0, 1.0, 2.0], size=(3, 17), p=[0.2, 0.6, 0.2])
    vis[0, 0], vis[0, 1] = 1.0, 0.0
    out = codec.encode(kp, vis)
    maps, weights = _loop_heatmaps(codec, np.where(np.isfinite(kp), kp, 0.0), vis)
    assert out["heatmaps"].dtype == np.float32 and out["heatmaps"].flags.c_contiguous
    np.testing.assert_array_equal(out["heatmaps"], maps)
    np.testing.assert_array_equal(out["weights"], weights)
    assert out["weights"][0, 0] == 0 and out["heatmaps"][0, 1].max() == 0
