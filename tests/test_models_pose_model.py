"""build_model for every preset (official parameter counts; forward + backward) and the Table 1 baselines."""
from __future__ import annotations

import pytest
import torch

from rtmposelib.config import PRESETS, ModelConfig
from rtmposelib.models.pose_model import TopdownPoseModel, build_model
from rtmposelib.roadmap import STEP_NAMES, for_step

# official total parameter counts (docs/official-behaviour.md "RTMCC head")
OFFICIAL_PARAMS = {
    "rtmpose-t": 3_337_007, "rtmpose-s": 5_473_251, "rtmpose-m": 13_587_611, "rtmpose-l": 27_660_339,
    "rtmpose-m-384x288": 13_717_659, "rtmpose-l-384x288": 27_790_387, "rtmpose-x-384x288": 49_434_283,
    "rtmpose-t-wholebody": 5_519_779, "rtmpose-s-wholebody": 8_383_575, "rtmpose-m-wholebody": 17_953_039,
    "rtmpose-l-wholebody": 33_480_871, "rtmpose-l-wholebody-384x288": 33_610_919,
}


def _n(m):
    return sum(p.numel() for p in m.parameters())


# Presets cheap enough (< 2.5 GFLOPs) for a full-resolution forward + backward on one CPU core; the
# others run the backbone on a small image and the head on a feature map of the exact preset shape,
# which exercises every module of the preset with ~1/10 of the compute.
FULL_RUN = {"rtmpose-t", "rtmpose-s", "rtmpose-m", "rtmpose-t-wholebody", "rtmpose-s-wholebody",
            "rtmpose-m-wholebody"}


def _assert_finite_grads(module):
    grads = [p.grad for p in module.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_with_official_params_and_trains(name):
    cfg = PRESETS[name].model
    torch.manual_seed(0)
    model = build_model(cfg)
    assert isinstance(model, TopdownPoseModel)
    assert _n(model) == OFFICIAL_PARAMS[name]
    w, h = cfg.input_size
    if name in FULL_RUN:
        x_logits, y_logits = model(torch.randn(1, 3, h, w))
    else:
        (small,) = model.backbone(torch.randn(1, 3, 64, 64))
        small.mean().backward()
        assert small.shape == (1, model.backbone.out_channels[-1], 2, 2)
        feats = torch.randn(1, model.backbone.out_channels[-1], h // 32, w // 32)
        x_logits, y_logits = model.head((feats,))
    assert x_logits.shape == (1, cfg.num_keypoints, 2 * w)
    assert y_logits.shape == (1, cfg.num_keypoints, 2 * h)
    assert torch.isfinite(x_logits).all() and torch.isfinite(y_logits).all()
    (x_logits.square().mean() + y_logits.square().mean()).backward()
    _assert_finite_grads(model)


@pytest.mark.parametrize("step", STEP_NAMES)
def test_every_roadmap_step_builds(step):
    cfg = for_step(step, size="t").model
    model = build_model(cfg).eval()
    x, y = model(torch.randn(1, 3, 256, 192))
    assert x.shape == (1, 17, 384) and y.shape == (1, 17, 512)


def test_table1_baselines_on_resnet50():
    heatmap = build_model(ModelConfig(backbone="resnet50", head="heatmap")).eval()
    simcc = build_model(ModelConfig(backbone="resnet50", head="simcc")).eval()
    star = build_model(ModelConfig(backbone="resnet50", head="rtmcc", hidden_dims=None, use_gau=False,
                                   final_kernel_size=1)).eval()
    images = torch.randn(1, 3, 256, 192)
    with torch.no_grad():
        assert heatmap(images).shape == (1, 17, 64, 48)
        assert [t.shape for t in simcc(images)] == [(1, 17, 384), (1, 17, 512)]
        assert [t.shape for t in star(images)] == [(1, 17, 384), (1, 17, 512)]
    # Table 1 head params (M): 10.492 / 13.245 / 0.079, totals 34.00 / 36.75 / 23.59
    assert [round(_n(m.head) / 1e6, 3) for m in (heatmap, simcc, star)] == [10.492, 13.245, 0.079]
    assert [round(_n(m) / 1e6, 2) for m in (heatmap, simcc, star)] == [34.00, 36.75, 23.59]


def test_backbone_rejects_wrong_images():
    model = build_model(PRESETS["rtmpose-t"].model)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        model(torch.randn(1, 1, 256, 192))
    with pytest.raises(ValueError, match="feature maps"):
        model(torch.randn(1, 3, 384, 288))
