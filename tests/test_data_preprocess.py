"""Box -> centre/size (padding, aspect fix, clipping), normalisation and the val crop."""
from __future__ import annotations

import numpy as np
import pytest

from rtmposelib.data.bbox import center_size_to_xyxy, fix_aspect_ratio, xywh_to_clipped_xyxy
from rtmposelib.data.preprocess import MEAN, STD, box_to_center_size, crop_box, normalize, warp_crop


def test_mean_std_are_the_official_rgb_values():
    assert MEAN.tolist() == pytest.approx([123.675, 116.28, 103.53])
    assert STD.tolist() == pytest.approx([58.395, 57.12, 57.375])


def test_normalize_swaps_bgr_to_rgb():
    crop = np.zeros((4, 3, 3), np.uint8)
    crop[..., 0] = 10                                          # blue
    crop[..., 2] = 200                                         # red
    out = normalize(crop)
    assert out.shape == (3, 4, 3) and out.dtype == np.float32
    assert out[0, 0, 0] == pytest.approx((200 - 123.675) / 58.395)   # channel 0 is red
    assert out[2, 0, 0] == pytest.approx((10 - 103.53) / 57.375)
    with pytest.raises(ValueError, match="BGR image"):
        normalize(np.zeros((4, 3), np.uint8))


def test_box_to_center_size_pads_and_fixes_aspect():
    c, s = box_to_center_size([10, 20, 100, 100], padding=1.25)
    assert c.tolist() == [60, 70] and s.tolist() == [125, 125]
    c, s = box_to_center_size([10, 20, 100, 100], padding=1.25, aspect=0.75)
    assert s.tolist() == pytest.approx([125, 125 / 0.75])      # w = 0.75 h kept, h grown
    _, s = box_to_center_size([0, 0, 40, 200], padding=1.0, aspect=0.75)
    assert s.tolist() == pytest.approx([150, 200])             # narrow box: w grown
    with pytest.raises(ValueError, match="non-positive"):
        box_to_center_size([0, 0, 0, 10])
    assert fix_aspect_ratio([30, 40], 0.75).tolist() == [30, 40]


def test_clipping_matches_mmpose_parser():
    assert xywh_to_clipped_xyxy([-5, 10, 700, 30], (640, 480)).tolist() == [0, 10, 639, 40]
    assert center_size_to_xyxy([5, 5], [4, 2]).tolist() == [3, 4, 7, 6]


def test_crop_box_centres_the_box():
    image = np.zeros((200, 300, 3), np.uint8)
    image[90:110, 140:160] = (0, 0, 255)                       # red square at (150, 100)
    inp, c, s, m = crop_box(image, [130, 80, 40, 40], (192, 256))
    assert inp.shape == (3, 256, 192)
    assert c.tolist() == [150, 100] and s[0] / s[1] == pytest.approx(0.75)
    assert inp[0, 128, 96] == pytest.approx((255 - MEAN[0]) / STD[0], abs=1e-5)
    crop, m2 = warp_crop(image, c, s, (192, 256))
    assert np.allclose(m, m2) and crop.shape == (256, 192, 3)


def test_normalize_equals_the_plain_formula():
    crop = np.random.default_rng(0).integers(0, 256, (37, 23, 3), dtype=np.uint8)
    ref = ((crop[:, :, ::-1].astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)
    assert np.array_equal(normalize(crop), ref)


def test_batch_normalisation_of_packed_crops_equals_numpy_normalize_bit_for_bit():
    import torch

    from rtmposelib.data.preprocess import normalize_images, pack_crop
    crops = np.random.default_rng(3).integers(0, 256, (4, 16, 12, 3), dtype=np.uint8)
    packed = torch.stack([pack_crop(c) for c in crops])
    assert packed.dtype == torch.uint8 and packed.shape == (4, 3, 16, 12)
    assert np.array_equal(packed[0].numpy(), crops[0].transpose(2, 0, 1))          # BGR, channels first
    got = normalize_images(packed)
    assert got.dtype == torch.float32
    assert np.array_equal(got.numpy(), np.stack([normalize(c) for c in crops]))     # RGB, (x - MEAN) / STD
    assert np.array_equal(normalize_images(packed[1]).numpy(), normalize(crops[1]))  # one crop alike
    assert normalize_images(got) is got                                              # normalised already
    with pytest.raises(ValueError, match="uint8"):
        normalize_images(packed[:, :2])
    with pytest.raises(ValueError, match="uint8"):
        pack_crop(crops[0].astype(np.float32))
