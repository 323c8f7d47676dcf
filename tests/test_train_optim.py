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


def test_adamw_kernels_give_the_same_update_and_groups(model):
    """for-loop (the official, torch's CPU default), foreach and fused AdamW: same decay groups and values,
    and after 4 steps on the same gradients the same weights (foreach exactly, fused to float rounding)."""
    from dataclasses import replace

    cfg = preset("rtmpose-t").train
    generator = torch.Generator().manual_seed(0)
    grads = [[torch.randn(p.shape, generator=generator) * 1e-2 for p in model.parameters()] for _ in range(4)]
    weights, groups = {}, {}
    for impl in ("for_loop", "foreach", "fused"):
        net = build_model(preset("rtmpose-t").model)
        net.load_state_dict(model.state_dict())
        opt = build_optimizer(net, replace(cfg, optimizer_impl=impl))
        groups[impl] = [(g["names"], g["weight_decay"], g["lr"], g["betas"], g["eps"]) for g in opt.param_groups]
        for step in grads:
            for p, g in zip(net.parameters(), step):
                p.grad = g.clone()
            opt.step()
        weights[impl] = [p.detach() for p in net.parameters()]
    assert groups["foreach"] == groups["for_loop"] == groups["fused"]
    for a, b, c in zip(weights["for_loop"], weights["foreach"], weights["fused"]):
        assert torch.equal(a, b)
        torch.testing.assert_close(c, a, rtol=1e-6, atol=1e-6)
