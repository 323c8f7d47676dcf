"""Reading images as (H, W, 3) uint8 BGR arrays: ``cv2.imdecode(..., IMREAD_COLOR)`` (grayscale expanded
to three channels, EXIF orientation applied, as MMPose's loader), with errors that name the file."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

__all__ = ["decode_image", "read_image"]


def decode_image(data: np.ndarray | bytes) -> np.ndarray | None:
    """Encoded image bytes -> (H, W, 3) uint8 BGR; None if they are empty or not a decodable image."""
    buf = np.frombuffer(data, np.uint8) if isinstance(data, bytes) else np.asarray(data, np.uint8).reshape(-1)
    if buf.size == 0:
        return None
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def read_image(path: str | Path, *, what: str = "") -> np.ndarray:
    """The image at ``path`` as (H, W, 3) uint8 BGR; FileNotFoundError / ValueError naming the file
    (and ``what``, e.g. the instance it was read for) when it is missing or not a readable image."""
    where = f"image {path}" + (f" ({what})" if what else "")
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as err:
        raise FileNotFoundError(f"{where} cannot be opened: {err}") from None
    image = decode_image(data)
    if image is None:
        raise ValueError(f"{where} is corrupt or not an image")
    return image
