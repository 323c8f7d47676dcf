"""fuse_for_inference: folded BatchNorm + channels_last gives the unfused outputs (max |dlogit| <= 1e-4)
with non-trivial BatchNorm statistics, and leaves the source model untouched."""
from __future__ import annotations

import shutil

import pytest
import torch
from torch import nn

from rtmposelib.config import PRESETS, ModelConfig
from rtmposelib.models.conv_module import ConvModule
from rtmposelib.models.fuse import InferenceModel, fold_batchnorm, fuse_for_inference, prepack_convolutions
from rtmposelib.models.pose_model import build_model
from rtmposelib.models.prepacked_conv import PrepackedConv2d, prepack_available


def _randomise(model: nn.Module, seed: int = 0) -> nn.Module:
    """Random BN statistics and affine terms (so folding changes every weight), and a head whose
    logits are O(1) rather than the init's ~1e-3 (so the tolerance means something)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.5)
                m.running_var.copy_(torch.rand(c, generator=g) * 1.5 + 0.25)
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.randn(c, generator=g) * 0.2)
        head = model.head
        for m in head.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0.0, 0.02, generator=g)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 1.0 / m.in_features ** 0.5, generator=g)
        for cls in (getattr(head, "cls_x", None), getattr(head, "cls_y", None)):
            if cls is not None:                                    # trained SimCC logits are O(1)
                cls.weight.mul_(0.03)
    return model


def _outputs(model, x):
    with torch.inference_mode():
        out = model(x)
    return (out,) if isinstance(out, torch.Tensor) else tuple(out)


@pytest.mark.parametrize("prepack", [True, False])
@pytest.mark.parametrize("name", ["rtmpose-t", "rtmpose-s"])
def test_fused_model_matches_unfused_logits(name, prepack):
    torch.manual_seed(0)
    model = _randomise(build_model(PRESETS[name].model).eval())
    x = torch.randn(2, 3, 256, 192, generator=torch.Generator().manual_seed(1))
    ref = _outputs(model, x)
    fused = fuse_for_inference(model, prepack=prepack)
    assert isinstance(fused, InferenceModel)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
    if prepack and prepack_available():        # every convolution prepacked, every ConvModule's SiLU inside it
        assert not any(type(m) is nn.Conv2d for m in fused.modules())
        assert all(isinstance(m.activate, nn.Identity) for m in fused.modules() if isinstance(m, ConvModule))
    got = _outputs(fused, x)
    assert 1.0 < max(r.abs().max().item() for r in ref) < 50.0     # logits are O(1), not trivially small
    for r, o in zip(ref, got):
        assert o.shape == r.shape and o.is_contiguous()
        assert (o - r).abs().max().item() <= 1e-4


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("c++") is None and shutil.which("g++") is None,
                    reason="torch.compile's CPU backend needs a C++ compiler")
def test_compiled_frozen_model_matches_unfused_logits():
    """compile=True (Inductor with frozen weights, conv + activation fused by oneDNN) keeps the outputs."""
    torch.manual_seed(0)
    model = _randomise(build_model(PRESETS["rtmpose-t"].model).eval())
    x = torch.randn(1, 3, 256, 192, generator=torch.Generator().manual_seed(1))
    ref = _outputs(model, x)
    got = _outputs(fuse_for_inference(model, compile=True), x)
    for r, o in zip(ref, got):
        assert o.shape == r.shape
        assert (o - r).abs().max().item() <= 1e-4


def test_source_model_is_untouched():
    torch.manual_seed(0)
    model = _randomise(build_model(PRESETS["rtmpose-t"].model)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fused = fuse_for_inference(model)
    assert model.training and not fused.training
    after = model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.requires_grad for p in model.parameters())
    assert not any(p.requires_grad for p in fused.parameters())
    assert all(p.is_contiguous() for p in model.parameters())


def test_fold_counts_every_conv_bn_pair_and_needs_eval_mode():
    torch.manual_seed(0)
    model = build_model(PRESETS["rtmpose-t"].model)
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    with pytest.raises(ValueError, match="eval mode"):
        fold_batchnorm(model)
    assert fold_batchnorm(model.eval()) == n_bn


def test_heatmap_head_deconvolutions_fold():
    cfg = ModelConfig(deepen_factor=0.167, widen_factor=0.375, head="heatmap", input_size=(64, 96))
    torch.manual_seed(0)
    model = _randomise(build_model(cfg).eval())
    x = torch.randn(1, 3, *cfg.input_size[::-1])
    ref, = _outputs(model, x)
    got, = _outputs(fuse_for_inference(model, channels_last=False), x)
    assert (got - ref).abs().max().item() <= 1e-4 * max(1.0, ref.abs().max().item())


@pytest.mark.skipif(not prepack_available(), reason="this PyTorch build has no oneDNN kernel")
def test_prepack_fuses_silu_only_where_it_follows_the_convolution():
    torch.manual_seed(0)
    model = build_model(PRESETS["rtmpose-t"].model).eval()
    fold_batchnorm(model)
    n_conv = sum(type(m) is nn.Conv2d for m in model.modules())
    n_silu = sum(isinstance(m, ConvModule) and isinstance(m.activate, nn.SiLU) for m in model.modules())
    assert prepack_convolutions(model) == n_conv
    packed = [m for m in model.modules() if isinstance(m, PrepackedConv2d)]
    assert sum(m.activation == "silu" for m in packed) == n_silu
    with pytest.raises(ValueError, match="eval mode"):
        prepack_convolutions(model.train())
