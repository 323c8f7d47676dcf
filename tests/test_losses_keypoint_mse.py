"""KeypointMSELoss: weighted mean of squared errors, as MMPose's with use_target_weight."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from rtmposelib.config import LossConfig
from rtmposelib.losses import KeypointMSELoss, build_loss


def test_matches_hand_computation():
    rng = np.random.default_rng(0)
    out, tgt = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 4, 5))
    w = np.array([[1.0, 0.0, 2.0], [1.0, 1.0, 0.0]])
    total = 0.0
    for n in range(2):
        for k in range(3):
            for y in range(4):
                for x in range(5):
                    total += (out[n, k, y, x] - tgt[n, k, y, x]) ** 2 * w[n, k]
    want = total / out.size
    loss = build_loss(replace(LossConfig(), kind="keypoint_mse"))
    assert isinstance(loss, KeypointMSELoss)
    got = loss(torch.tensor(out), {"heatmaps": torch.tensor(tgt), "weights": torch.tensor(w)})
    assert got.item() == pytest.approx(want, rel=1e-12)
    plain = KeypointMSELoss(use_target_weight=False)(torch.tensor(out), {"heatmaps": torch.tensor(tgt),
                                                                          "weights": torch.tensor(w)})
    assert plain.item() == pytest.approx(((out - tgt) ** 2).mean(), rel=1e-12)


def test_shape_mismatch():
    with pytest.raises(ValueError, match="differ"):
        KeypointMSELoss()(torch.zeros(1, 2, 4, 4), {"heatmaps": torch.zeros(1, 2, 4, 5), "weights": torch.ones(1, 2)})
