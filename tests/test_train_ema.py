"""ExpMomentumEMA after N steps equals a hand computation of MMDetection's rule
(docs/official-behaviour.md "Training recipe")."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rtmposelib.train.ema import ExpMomentumEMA, weight_difference


def test_momentum_values_of_the_official_setting():
    ema = ExpMomentumEMA(nn.Linear(1, 1), momentum=2e-4, gamma=2000)
    assert ema.momentum_at(0) == 1.0                                   # first update copies
    assert ema.momentum_at(1) == pytest.approx(0.9990007, abs=1e-7)    # 0.9998 * e^-0.001 + 0.0002
    assert ema.momentum_at(2000) == pytest.approx(0.3678220, abs=1e-7)  # 0.9998 * e^-1.0005 + 0.0002
    assert ema.momentum_at(10**7) == pytest.approx(2e-4)


def test_parameters_and_buffers_after_n_steps_equal_hand_computation():
    model = nn.Sequential(nn.Linear(1, 1, bias=False), nn.BatchNorm1d(1))
    ema = ExpMomentumEMA(model, momentum=0.1, gamma=2.0)
    weights = [0.5, 2.0, -1.0, 3.0, 0.25]
    means = [1.0, 0.0, 4.0, -2.0, 8.0]
    for w, mu in zip(weights, means):
        with torch.no_grad():
            model[0].weight.fill_(w)
            model[1].running_mean.fill_(mu)
        model[1].num_batches_tracked += 1
        ema.update(model)
    # by hand: e_0 = x_0; e_t = e_{t-1} + m_t (x_t - e_{t-1}), m_t = 0.9 exp(-(1+t)/2) + 0.1
    m = [0.9 * math.exp(-(1 + t) / 2.0) + 0.1 for t in range(5)]
    for values, got in ((weights, ema.module[0].weight), (means, ema.module[1].running_mean)):
        e = values[0]
        for t in range(1, 5):
            e = e + m[t] * (values[t] - e)
        assert got.item() == pytest.approx(e, rel=1e-6)
    assert ema.module[1].num_batches_tracked.item() == 5              # integer buffer copied
    assert ema.steps == 5
    assert not any(p.requires_grad for p in ema.module.parameters())


def test_state_dict_round_trip():
    model = nn.Linear(2, 2)
    ema = ExpMomentumEMA(model)
    for _ in range(3):
        with torch.no_grad():
            model.weight.add_(1.0)
        ema.update(model)
    other = ExpMomentumEMA(nn.Linear(2, 2))
    other.load_state_dict(ema.state_dict())
    assert other.steps == 3
    assert torch.equal(other.module.weight, ema.module.weight)


@pytest.mark.parametrize("kwargs", [dict(momentum=0.0), dict(momentum=1.5), dict(gamma=0.0)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        ExpMomentumEMA(nn.Linear(1, 1), **kwargs)


def test_weight_difference_of_the_average_and_the_live_model():
    torch.manual_seed(0)
    live = nn.Linear(4, 3)
    ema = ExpMomentumEMA(live, momentum=0.1, gamma=2.0)
    ema.update(live)
    assert weight_difference(ema.module, live) == {"mean_abs_diff": 0.0, "rel_diff": 0.0}
    with torch.no_grad():
        for p in live.parameters():
            p.add_(1.0)
    ema.update(live)
    d = weight_difference(ema.module, live)
    m = ema.momentum_at(1)
    assert d["mean_abs_diff"] == pytest.approx(1.0 - m, rel=1e-5) and d["rel_diff"] > 0
    with pytest.raises(ValueError, match="parameter names"):
        weight_difference(nn.Linear(4, 3), nn.Sequential(nn.Linear(4, 3)))
