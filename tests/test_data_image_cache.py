"""The decoded-image cache: bounded, least recently used out first, read-only, same crops as without."""
from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pytest
import torch

from rtmposelib.data.image_cache import DecodedImageCache


def test_bounded_lru_and_read_only():
    cache = DecodedImageCache(max_bytes=3 * 100)
    images = {name: np.full((10, 10), i, np.uint8) for i, name in enumerate("abcd")}
    for name in "abc":
        cache.put(name, images[name])
    assert cache.get("a") is images["a"]                     # a is now the most recent
    cache.put("d", images["d"])                             # evicts b, the least recently used
    assert cache.get("b") is None and len(cache) == 3 and cache.nbytes == 300
    assert (cache.hits, cache.misses) == (1, 1)
    with pytest.raises(ValueError):
        cache.get("a")[0, 0] = 7                            # cached arrays are read-only
    big = np.zeros((20, 20), np.uint8)
    assert cache.put("big", big) is big and cache.get("big") is None   # larger than the budget: not kept
    clone = pickle.loads(pickle.dumps(cache))               # a spawned worker starts empty
    assert len(clone) == 0 and clone.max_bytes == 300


def test_synthpose_training_set_reads_through_the_cache_with_identical_crops():
    from rtmposelib.config import preset
    from rtmposelib.data.sources import build_datasets

    cfg = preset("rtmpose-t")
    cfg = replace(cfg, data=replace(cfg.data, source="synth:smoke"))
    cached, _ = build_datasets(cfg)
    plain, _ = build_datasets(replace(cfg, data=replace(cfg.data, image_cache_mb=0)))
    assert cached.image_cache is not None and plain.image_cache is None
    for epoch in (0, 1):                                      # the second pass is served from the cache
        cached.set_epoch(epoch)
        plain.set_epoch(epoch)
        for i in range(0, len(cached), 9):
            assert torch.equal(cached[i]["image"], plain[i]["image"]), (epoch, i)
    assert cached.image_cache.hits > 0
