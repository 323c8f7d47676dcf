"""A bounded cache of decoded images, so that a small training set is decoded once, not once per crop.

A person crop needs its whole image decoded (a 640x480 JPEG: ~5 ms on one core, most of the cost of a
crop at 96x128); SynthPose has about three people per image and a run reads every image three times per
epoch, for many epochs. The cache keeps decoded images up to ``max_bytes`` and evicts the least
recently used. Cached arrays are read-only, so a transform that wrote into its input would fail loudly
instead of corrupting later crops. Each process (each loader worker) holds its own cache.
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np


class DecodedImageCache:
    """Least-recently-used decoded images keyed by path, at most ``max_bytes`` of pixels in total."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"image cache size must be >= 0 bytes, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self.nbytes = 0
        self.hits = self.misses = 0
        self._images: OrderedDict[str, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._images)

    def get(self, path: str | Path) -> np.ndarray | None:
        """The cached image of ``path`` (read-only), or None."""
        image = self._images.get(str(path))
        if image is None:
            self.misses += 1
            return None
        self._images.move_to_end(str(path))
        self.hits += 1
        return image

    def put(self, path: str | Path, image: np.ndarray) -> np.ndarray:
        """Keep ``image`` (made read-only) unless it alone exceeds the budget; returns it."""
        image.setflags(write=False)
        if image.nbytes > self.max_bytes or str(path) in self._images:
            return image
        self._images[str(path)] = image
        self.nbytes += image.nbytes
        while self.nbytes > self.max_bytes:
            _, old = self._images.popitem(last=False)
            self.nbytes -= old.nbytes
        return image

    def __getstate__(self) -> dict:
        """Pickled (e.g. into a spawned loader worker) empty: each process fills its own."""
        state = dict(self.__dict__)
        state.update(_images=OrderedDict(), nbytes=0, hits=0, misses=0)
        return state
