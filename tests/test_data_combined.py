"""COCO + AIC: the official keypoint mapping and the 3x COCO repeat with independent augmentation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rtmposelib.codecs import SimCCCodec
from rtmposelib.config import STRONG_AUG
from rtmposelib.data.coco import TopdownCocoDataset
from rtmposelib.data.combined import AIC_TO_COCO, CombinedDataset
from rtmposelib.data.metainfo import get_metainfo

CODEC = SimCCCodec(input_size=(192, 256), sigma=(4.9, 5.66))


def test_aic_to_coco_mapping_matches_names():
    aic, coco = get_metainfo("aic"), get_metainfo("coco")
    for src, dst in AIC_TO_COCO.pairs:
        assert aic.keypoint_names[src] == coco.keypoint_names[dst]
    dropped = set(range(14)) - {s for s, _ in AIC_TO_COCO.pairs}
    assert {aic.keypoint_names[i] for i in dropped} == {"head_top", "neck"}
    kpts = np.arange(28, dtype=np.float32).reshape(14, 2)
    out_k, out_v = AIC_TO_COCO.apply(kpts, np.ones(14, np.float32))
    assert out_v[:5].sum() == 0 and out_v[5:].all()                     # face points absent
    assert np.array_equal(out_k[6], kpts[0]) and np.array_equal(out_k[15], kpts[11])
    with pytest.raises(ValueError, match="expected 14 source keypoints"):
        AIC_TO_COCO.apply(np.zeros((17, 2)), np.zeros(17))


def _parts(shared_data):
    kw = dict(metainfo=get_metainfo("coco"), codec=CODEC, input_size=(192, 256), augment=STRONG_AUG)
    coco = TopdownCocoDataset(ann_file=shared_data / "coco" / "test_coco.json", image_dir=shared_data / "coco", **kw)
    aic = TopdownCocoDataset(ann_file=shared_data / "aic" / "test_aic.json", image_dir=shared_data / "aic",
                             keypoint_mapping=AIC_TO_COCO, **kw)
    return coco, aic


def test_combined_repeat_and_items(shared_data):
    coco, aic = _parts(shared_data)
    ds = CombinedDataset([coco, aic], [3, 1], ["coco", "aic"])
    assert len(ds) == 3 * 12 + 9
    assert ds.locate(12) == (0, 0) and ds.locate(36) == (1, 0) and ds.locate(44) == (1, 8)
    first, repeat = ds[0], ds[12]                                       # the same COCO instance twice
    assert first["id"] == repeat["id"] and not torch.equal(first["image"], repeat["image"])
    item = ds[40]
    assert item["target_x"].shape == (17, 384)
    assert item["weights"][:5].sum() == 0 and item["visible"][:5].sum() == 0
    ds.set_augment(None)
    ds.set_epoch(2)
    assert coco.augment is None and aic.epoch == 2
    assert dict(ds.skipped) == {"coco/no_keypoints": 2}
    with pytest.raises(IndexError):
        ds[45]


def test_combined_rejects_unmapped_keypoints(shared_data):
    coco, _ = _parts(shared_data)
    raw_aic = TopdownCocoDataset(ann_file=shared_data / "aic" / "test_aic.json", image_dir=shared_data / "aic",
                                 metainfo=get_metainfo("aic"), codec=CODEC, input_size=(192, 256))
    with pytest.raises(ValueError, match="different keypoint counts"):
        CombinedDataset([coco, raw_aic])
