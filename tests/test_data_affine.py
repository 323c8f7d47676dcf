"""Affine warp: parity with hand-computed matrices, crop -> inverse round trip, UDP centre."""
from __future__ import annotations

import numpy as np
import pytest

from rtmposelib.data.affine import apply_affine, compose_affine, hflip_matrix, invert_affine, warp_image, warp_matrix


def test_no_rotation_matches_hand_computation():
    m = warp_matrix((300.0, 200.0), (96.0, 128.0), 0.0, (192, 256))
    k = 192 / 96
    assert np.allclose(m, [[k, 0, 96 - k * 300], [0, k, 128 - k * 200]])


def test_rotation_direction_matches_mmpose():
    # MMPose get_warp_matrix: the image point at centre + R(rot) @ (-w/2, 0) lands at the crop's left edge
    center, box_size = np.array([320.0, 240.0]), np.array([150.0, 200.0])
    m = warp_matrix(center, box_size, 90.0, (192, 256))
    above = center + np.array([0.0, -75.0])                   # R(90deg) @ (-75, 0) = (0, -75)
    assert np.allclose(apply_affine(above, m), [0.0, 128.0], atol=1e-4)


def test_udp_maps_centre_to_pixel_grid_centre_and_corners_to_corners():
    center, box_size = np.array([100.0, 80.0]), np.array([48.0, 64.0])
    m = warp_matrix(center, box_size, 0.0, (48, 64), udp=True)
    assert np.allclose(apply_affine(center, m), [23.5, 31.5])
    corner = center - box_size / 2
    assert np.allclose(apply_affine(corner, m), [0.0, 0.0])
    assert np.allclose(apply_affine(center + box_size / 2, m), [47.0, 63.0])


@pytest.mark.parametrize("udp", [False, True])
def test_crop_inverse_round_trip_below_1e_3_px(udp):
    rng = np.random.default_rng(0)
    for _ in range(50):
        center = rng.uniform(0, 640, 2)
        w = rng.uniform(10, 500)
        m = warp_matrix(center, (w, w / 0.75), rng.uniform(-180, 180), (192, 256), udp=udp)
        pts = rng.uniform(-100, 700, (17, 2))
        back = apply_affine(apply_affine(pts, m), invert_affine(m))
        assert np.abs(back - pts).max() < 1e-3


def test_bad_box_size_is_a_clear_error():
    with pytest.raises(ValueError, match="must be positive"):
        warp_matrix((0, 0), (0.0, 10.0), 0.0, (192, 256))


def test_warp_samples_the_right_pixels_and_folded_flip_equals_image_flip():
    image = np.zeros((240, 320, 3), np.uint8)
    image[100:110, 40:50] = 255                                # a bright square left of centre
    m = warp_matrix((160.0, 120.0), (320.0, 320 / 0.75), 0.0, (192, 256))
    crop = warp_image(image, m, (192, 256))
    ys, xs = np.nonzero(crop[..., 0] > 128)
    centre = apply_affine(np.array([44.5, 104.5]), m)
    assert abs(xs.mean() - centre[0]) < 0.6 and abs(ys.mean() - centre[1]) < 0.6
    folded = warp_image(image, compose_affine(m, hflip_matrix(320)), (192, 256))
    flipped_first = warp_image(np.ascontiguousarray(image[:, ::-1]), m, (192, 256))
    assert np.abs(folded.astype(int) - flipped_first.astype(int)).max() <= 1
