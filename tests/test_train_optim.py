"""AdamW parameter groups on the real RTMPose model match MMEngine's norm/bias rule
(docs/official-behaviour.md "Training recipe")."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from rtmposelib.config import preset
from rtmposelib.models.pose_model import build_model
from rtmposelib.train.optim import build_optimizer, param_groups


@pytest.fixture(scope="module")
def model():
    return build_model(preset("rtmpose-t").model)


def test_official_grouping_on_rtmpose_t(model):
    decay, no_decay = param_groups(model, weight_decay=0.05, decay_norm_and_bias=False)
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    # counted independently: every BatchNorm weight and bias, and every other module's bias
    bn = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    biases = [m for m in model.modules() if not isinstance(m, nn.BatchNorm2d)
              and isinstance(getattr(m, "bias", None), nn.Parameter)]
    assert len(no_decay["params"]) == 2 * len(bn) + len(biases)
    assert {"head.final_layer.bias", "backbone.stage1.1.attention.fc.bias"} <= set(no_decay["names"])
    # the GAU's gamma/beta, ScaleNorm's g and res_scale are neither norm layers nor biases: they decay
    gau_like = [n for n in decay["names"] if n.split(".")[-1] in ("gamma", "beta", "g", "scale")]
    assert {n.split(".")[-1] for n in gau_like} >= {"gamma", "beta", "g"}
    assert not any(n.split(".")[-1] in ("gamma", "beta", "g") for n in no_decay["names"])
    n_params = len(list(model.parameters()))
    assert len(decay["params"]) + len(no_decay["params"]) == n_params


def test_decay_everything_switch(model):
    groups = param_groups(model, weight_decay=0.05, decay_norm_and_bias=True)
    assert len(groups) == 1 and len(groups[0]["params"]) == len(list(model.parameters()))


def test_adamw_defaults_and_no_decay_group_is_untouched_by_decay():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2))
    cfg = preset("rtmpose-m").train                                 # wd 0.05
    opt = build_optimizer(net, cfg)
    assert isinstance(opt, torch.optim.AdamW)
    g = opt.param_groups[0]
    assert g["betas"] == (0.9, 0.999) and g["eps"] == 1e-8 and g["lr"] == 4e-3
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    opt.step()                                                      # zero gradients: only decay moves weights
    for p in net.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    after = dict(net.named_parameters())
    assert torch.allclose(after["0.weight"], before["0.weight"] * (1 - 4e-3 * 0.05))
    for name in ("0.bias", "1.weight", "1.bias"):
        assert torch.equal(after[name], before[name]), name
