"""SimCC codec: exact label values, weights, round trip, flip fusion, image-space mapping
(docs/official-behaviour.md "SimCC codec")."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rtmposelib.codecs.image_space import image_to_crop
from rtmposelib.codecs.simcc import SimCCCodec, crop_to_image, flip_back

SIGMA = (4.9, 5.66)   # the official 256x192 per-axis sigma


def codec(**kw) -> SimCCCodec:
    return SimCCCodec(input_size=(192, 256), sigma=kw.pop("sigma", SIGMA), **kw)


def test_label_values_by_hand():
    kp = np.array([[[10.3, 20.75]]])          # bins 20.6 -> 21 ; 41.5 -> 42 (np.around: half to even)
    out = codec().encode(kp, np.ones((1, 1)))
    tx, ty = out["target_x"][0, 0], out["target_y"][0, 0]
    assert tx.shape == (384,) and ty.shape == (512,) and tx.dtype == np.float32
    assert tx.argmax() == 21 and ty.argmax() == 42
    assert tx[21] == 1.0 and ty[42] == 1.0
    assert tx[23] == pytest.approx(math.exp(-4 / (2 * 4.9 ** 2)), rel=1e-6)
    assert tx[16] == pytest.approx(math.exp(-25 / (2 * 4.9 ** 2)), rel=1e-6)
    assert ty[39] == pytest.approx(math.exp(-9 / (2 * 5.66 ** 2)), rel=1e-6)
    assert ty[43] == pytest.approx(math.exp(-1 / (2 * 5.66 ** 2)), rel=1e-6)
    # 20.25 px -> bin 40.5 rounds to 40 (even), 20.75 px -> 41.5 rounds to 42
    half = codec().encode(np.array([[[20.25, 0.0]]]), np.ones((1, 1)))
    assert half["target_x"][0, 0].argmax() == 40
    assert out["weights"][0, 0] == 1.0


def test_normalize_and_shared_sigma():
    c = codec(sigma=6.0, normalize=True)
    out = c.encode(np.array([[[50.0, 60.0]]]), np.ones((1, 1)))
    assert out["target_x"][0, 0, 100] == pytest.approx(1 / (6.0 * math.sqrt(2 * math.pi)), rel=1e-6)
    assert out["target_y"][0, 0, 121] == pytest.approx(
        math.exp(-1 / 72) / (6.0 * math.sqrt(2 * math.pi)), rel=1e-6)


def test_weights_invisible_and_out_of_range():
    kp = np.array([[[50.0, 50.0],      # visible, inside
                    [50.0, 50.0],      # invisible
                    [-5.0, 50.0],      # just outside: bin -10, window right -10+14.7+1 >= 0 -> kept
                    [-10.0, 50.0],     # far outside: bin -20, right -20+14.7+1 < 0 -> weight 0
                    [199.0, 50.0],     # bin 398 left 398-14.7 = 383.3 < 384 -> kept
                    [200.0, 50.0],     # bin 400, left 385.3 >= 384 -> weight 0
                    [50.0, 265.0]]])   # bin 530, top 530-16.98 = 513.02 >= 512 -> weight 0
    vis = np.array([[2, 0, 1, 1, 1, 1, 1]])
    out = codec().encode(kp, vis)
    np.testing.assert_array_equal(out["weights"][0], [1, 0, 1, 0, 1, 0, 0])
    assert not out["target_x"][0, 1].any() and not out["target_y"][0, 1].any()
    assert not out["target_x"][0, 3].any()
    # a truncated Gaussian for the point just outside
    assert out["target_x"][0, 2, 0] == pytest.approx(math.exp(-100 / (2 * 4.9 ** 2)), rel=1e-6)


def test_round_trip_within_half_pixel():
    rng = np.random.default_rng(0)
    kp = rng.uniform([0, 0], [191.74, 255.74], size=(8, 17, 2))
    c = codec()
    out = c.encode(kp, np.ones((8, 17)))
    dec, scores = c.decode(out["target_x"], out["target_y"])
    assert dec.shape == (8, 17, 2) and scores.shape == (8, 17)
    assert np.abs(dec - kp).max() <= 0.25 + 1e-6
    np.testing.assert_array_equal(scores, 1.0)


def test_decode_confidence_and_sentinel():
    sx = np.zeros((1, 2, 384), np.float32)
    sy = np.zeros((1, 2, 512), np.float32)
    sx[0, 0, 30], sy[0, 0, 40] = 0.8, 0.4
    sy[0, 1] = -1.0                          # all y logits negative, max -0.2 at bin 20
    sx[0, 1, 10], sy[0, 1, 20] = 0.5, -0.2
    kp, s = codec().decode(sx, sy)
    np.testing.assert_allclose(kp[0, 0], [15.0, 20.0])
    assert s[0, 0] == pytest.approx(0.4)
    assert s[0, 1] == pytest.approx(-0.2) and (kp[0, 1] == -0.5).all()   # bin -1 / split 2
    kp_mean, s_mean = codec(confidence="mean").decode(sx, sy)
    assert s_mean[0, 0] == pytest.approx(0.6) and s_mean[0, 1] == pytest.approx(0.15)
    assert (kp_mean[0, 1] == [5.0, 10.0]).all()
    with pytest.raises(ValueError, match="bins"):
        codec().decode(sx[..., :100], sy)


def test_flip_back_hand_built():
    # flipped-crop outputs for K=2 (a left/right pair), 4 x bins, 3 y bins
    fx = np.array([[[0, 1, 2, 3], [4, 5, 6, 7]]], np.float32)
    fy = np.array([[[0, 1, 2], [3, 4, 5]]], np.float32)
    bx, by = flip_back(fx, fy, [1, 0])
    np.testing.assert_array_equal(bx, [[[7, 6, 5, 4], [3, 2, 1, 0]]])
    np.testing.assert_array_equal(by, [[[3, 4, 5], [0, 1, 2]]])
    # fusion as official: 0.5 / 0.5 of raw logits, then decode
    px = np.array([[[0, 0, 9, 0], [0, 0, 0, 0]]], np.float32)
    fused = 0.5 * (px + bx)
    np.testing.assert_array_equal(fused, [[[3.5, 3, 7, 2], [1.5, 1, 0.5, 0]]])
    with pytest.raises(ValueError, match="permutation"):
        flip_back(fx, fy, [0, 0])


def test_flip_back_one_bin_asymmetry():
    """A point at x maps to bin W-1-2x after flip_back: 0.5 px right of the pixel flip (official)."""
    c = codec()
    x = 40.0
    flipped = np.array([[[191 - x, 100.0], [191 - x, 100.0]]])     # the pixel flip x -> w-1-x
    out = c.encode(flipped, np.ones((1, 2)))
    bx, by = flip_back(out["target_x"], out["target_y"], [1, 0])
    kp, _ = c.decode(bx, by)
    np.testing.assert_allclose(kp[0, :, 0], x + 0.5)


def test_crop_to_image_and_back():
    kp = np.array([[[0.0, 0.0], [96.0, 128.0], [192.0, 256.0]]])
    center, box_size = np.array([[300.0, 200.0]]), np.array([[150.0, 200.0]])
    img = crop_to_image(kp, center, box_size, (192, 256))
    np.testing.assert_allclose(img[0], [[225, 100], [300, 200], [375, 300]])
    np.testing.assert_allclose(image_to_crop(img, center, box_size, (192, 256)), kp, atol=1e-4)


def test_bad_input():
    with pytest.raises(ValueError, match="instance 0"):
        codec().encode(np.array([[[np.nan, 1.0]]]), np.ones((1, 1)))
    # invisible NaNs are fine
    out = codec().encode(np.array([[[np.nan, 1.0]]]), np.zeros((1, 1)))
    assert out["weights"][0, 0] == 0
    with pytest.raises(ValueError, match="visible"):
        codec().encode(np.zeros((1, 2, 2)), np.ones((1, 3)))
    with pytest.raises(ValueError, match="sigma"):
        SimCCCodec(input_size=(192, 256), sigma=0.0)


def test_flip_test_average_by_hand():
    """The shared flip test (eval.predict and infer.topdown): SimCC x bins reversed, channels swapped,
    0.5 / 0.5; MSRA heatmaps also shifted one column, UDP ones not."""
    from rtmposelib.codecs import MSRAHeatmapCodec, SimCCCodec, UDPHeatmapCodec, flip_test_average

    rng = np.random.default_rng(0)
    flip = [1, 0, 2]
    x, y, fx, fy = (rng.random((1, 3, n)) for n in (8, 10, 8, 10))
    codec = SimCCCodec(input_size=(4, 5), sigma=1.0)
    ax, ay = flip_test_average(codec, (x, y), (fx, fy), flip)
    assert np.allclose(ax[0, 0], 0.5 * (x[0, 0] + fx[0, 1, ::-1]))
    assert np.allclose(ay[0, 2], 0.5 * (y[0, 2] + fy[0, 2]))
    h, fh = rng.random((1, 3, 4, 6)), rng.random((1, 3, 4, 6))
    (udp,) = flip_test_average(UDPHeatmapCodec(input_size=(24, 16), heatmap_size=(6, 4), sigma=2.0), (h,), (fh,), flip)
    assert np.allclose(udp[0, 0], 0.5 * (h[0, 0] + fh[0, 1, :, ::-1]))
    (msra,) = flip_test_average(MSRAHeatmapCodec(input_size=(24, 16), heatmap_size=(6, 4), sigma=2.0), (h,), (fh,),
                                flip)
    assert np.allclose(msra[0, 0, :, 1:], 0.5 * (h[0, 0, :, 1:] + fh[0, 1, :, ::-1][:, :-1]))


def _loop_labels(codec: SimCCCodec, keypoints: np.ndarray, visible: np.ndarray) -> tuple[np.ndarray, ...]:
    """The label formula one keypoint at a time: bin mu = around(x * split), the Gaussian over every bin
    (float64, then float32), zero unless visible and the 3-sigma window touches the bins."""
    n, k = visible.shape
    out = [np.zeros((n, k, b), np.float32) for b in codec.bins]
    weights = np.minimum(visible, 1.0).astype(np.float32)
    for i in range(n):
        for j in range(k):
            if visible[i, j] < 0.5:
                continue
            mu = [np.around(v * codec.split_ratio) for v in keypoints[i, j]]
            if any(m - 3 * s >= b or m + 3 * s + 1 < 0 for m, s, b in zip(mu, codec.sigma, codec.bins)):
                weights[i, j] = 0.0
                continue
            for axis in (0, 1):
                sigma = codec.sigma[axis]
                label = np.exp(-((np.arange(codec.bins[axis], dtype=np.float64) - mu[axis]) ** 2) / (2 * sigma ** 2))
                if codec.normalize:
                    label /= sigma * np.sqrt(2 * np.pi)
                out[axis][i, j] = label.astype(np.float32)
    return out[0], out[1], weights


@pytest.mark.parametrize("kw", [{}, {"normalize": True}, {"sigma": 6.0}, {"split_ratio": 3.0},
                                {"sigma": (2.3, 7.1), "input_size": (288, 384)}],
                         ids=["official", "normalize", "shared-sigma", "split-3", "384x288"])
def test_vectorised_labels_equal_the_per_keypoint_loop(kw):
    """The precomputed label rows give bit-identical labels to the formula, bin by bin, for points inside,
    near and far outside the crop, invisible ones and half-bin positions."""
    c = SimCCCodec(input_size=kw.pop("input_size", (192, 256)), sigma=kw.pop("sigma", SIGMA), **kw)
    rng = np.random.default_rng(7)
    w, h = c.input_size
    kp = rng.uniform([-0.3 * w, -0.3 * h], [1.3 * w, 1.3 * h], size=(6, 17, 2))
    kp[0, :8] = rng.integers(-20, 2 * w, (8, 2)) / (2 * c.split_ratio)    # exact half bins (round to even)
    kp[1, 0] = (1e6, -1e6)                                                # far outside both ways
    vis = rng.choice([0.0, 1.0, 2.0], size=(6, 17), p=[0.2, 0.6, 0.2])
    vis[1, 0] = 1.0
    out = c.encode(kp, vis)
    tx, ty, weights = _loop_labels(c, kp, vis)
    for got, want in ((out["target_x"], tx), (out["target_y"], ty), (out["weights"], weights)):
        assert got.dtype == np.float32 and got.flags.writeable
        np.testing.assert_array_equal(got, want)
