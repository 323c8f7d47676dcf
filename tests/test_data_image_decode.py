"""Image reading: three-channel BGR as cv2.imdecode(IMREAD_COLOR) gives it, errors that name the file."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from rtmposelib.data.image_decode import decode_image, read_image


def _picture(channels: int = 3) -> np.ndarray:
    noise = np.random.default_rng(0).integers(0, 256, (97, 131, channels), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (5, 5), 2).reshape(97, 131, channels)


@pytest.mark.parametrize("ext,channels", [(".jpg", 3), (".jpg", 1), (".png", 3), (".png", 1)])
def test_decodes_to_three_channel_bgr(ext, channels):
    ok, buf = cv2.imencode(ext, _picture(channels))
    got = decode_image(buf)
    assert got is not None and got.shape == (97, 131, 3) and got.dtype == np.uint8
    assert np.array_equal(got, cv2.imdecode(buf, cv2.IMREAD_COLOR))
    assert np.array_equal(decode_image(buf.tobytes()), got)


def test_undecodable_is_none_and_read_image_names_the_file(tmp_path):
    assert decode_image(b"") is None
    assert decode_image(b"\xff\xd8\xff\xe0 not really a jpeg") is None
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(ValueError, match=r"bad\.jpg \(instance 7\) is corrupt or not an image"):
        read_image(bad, what="instance 7")
    with pytest.raises(FileNotFoundError, match=r"missing\.jpg cannot be opened"):
        read_image(tmp_path / "missing.jpg")
    ok, buf = cv2.imencode(".png", _picture())
    good = tmp_path / "good.png"
    good.write_bytes(buf.tobytes())
    assert np.array_equal(read_image(good), _picture())
