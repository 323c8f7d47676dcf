"""evaluate(): the official val protocol end to end on SynthPose smoke (targets-as-outputs oracle, and a
real RTMPose-t forward with the flip test)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from rtmposelib.codecs import build_codec
from rtmposelib.config import preset
from rtmposelib.data.coco import TopdownCocoDataset
from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.data.synthetic import make_synthpose
from rtmposelib.eval.evaluate import evaluate

CFG = replace(preset("rtmpose-t"), flip_test=False)


@pytest.fixture(scope="module")
def val_dataset():
    root = make_synthpose("smoke")
    return TopdownCocoDataset(ann_file=root / "annotations/person_keypoints_val2017.json",
                              image_dir=root / "val2017", metainfo=get_metainfo("coco"),
                              codec=build_codec(CFG.codec), input_size=CFG.codec.input_size)


class Oracle(nn.Module):
    """Replays the dataset's encoded targets in order, as if it had predicted them."""

    def __init__(self, dataset):
        super().__init__()
        self.targets = [dataset[i] for i in range(len(dataset))]
        self.pos = 0

    def forward(self, images):
        items = self.targets[self.pos:self.pos + len(images)]
        self.pos += len(images)
        return (torch.from_numpy(np.stack([t["target_x"] for t in items])),
                torch.from_numpy(np.stack([t["target_y"] for t in items])))


def test_oracle_scores_ap_099(val_dataset):
    oracle = Oracle(val_dataset)
    m = evaluate(oracle, CFG, datasets=(None, val_dataset), batch_size=16)
    assert m["AP"] >= 0.99 and m["num_instances"] == len(val_dataset) and m["flip_test"] is False
    assert len(m["per_keypoint"]) == 17 and m["per_keypoint"]["mean_similarity"].min() > 0.9
    assert isinstance(m["skipped"], dict)


class FirstItems(list):
    """The first few items of a dataset, with the attributes evaluate() reads (keeps the test fast)."""

    def __init__(self, dataset, n):
        super().__init__(dataset[i] for i in range(n))
        self.ann_file, self.metainfo, self.skipped = dataset.ann_file, dataset.metainfo, dataset.skipped


def test_real_model_with_flip(val_dataset):
    from rtmposelib.models.pose_model import build_model
    torch.manual_seed(0)
    model = build_model(CFG.model).train()
    m = evaluate(model, CFG, datasets=(None, FirstItems(val_dataset, 4)), flip_test=True, batch_size=4)
    assert m["num_results"] == 4
    assert model.training                                       # mode restored
    assert m["flip_test"] is True and 0.0 <= m["AP"] < 0.5      # untrained: low, but a valid number
    with pytest.raises(ValueError, match="split"):
        evaluate(model, CFG, split="test", datasets=(None, val_dataset))
