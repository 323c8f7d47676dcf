"""The speed settings of the training step change kernels and layouts, not the update (float32)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from rtmposelib.codecs import build_codec
from rtmposelib.config import preset, simcc_sigma
from rtmposelib.losses import build_loss
from rtmposelib.models.pose_model import build_model
from rtmposelib.train.loop import optimisation_step
from rtmposelib.train.optim import build_optimizer
from rtmposelib.train.speed import check_bf16, cpu_has_bf16, flushing_denormals, prepare_model

REFERENCE = {"channels_last": False, "optimizer_impl": "for_loop", "flush_denormal": False, "bf16": False}


@pytest.fixture(scope="module")
def setup():
    """RTMPose-t at 64x64 (stage 4 still 2x2), lr 1e-4, a fixed batch of 8 random crops."""
    size = (64, 64)
    cfg = preset("rtmpose-t")
    cfg = replace(cfg, model=replace(cfg.model, input_size=size),
                  codec=replace(cfg.codec, input_size=size, sigma=simcc_sigma(size)),
                  train=replace(cfg.train, base_lr=1e-4))
    rng = np.random.default_rng(0)
    kpts = rng.uniform(0, 64, size=(8, 17, 2)).astype(np.float32)
    enc = build_codec(cfg.codec).encode(kpts, np.ones((8, 17), np.float32))
    targets = {k: torch.from_numpy(v) for k, v in enc.items()}
    images = torch.from_numpy(rng.standard_normal((8, 3, 64, 64)).astype(np.float32))
    return cfg, images, targets


def train(cfg, images, targets, steps=3, **settings):
    cfg = replace(cfg, train=replace(cfg.train, **settings))
    torch.manual_seed(0)
    model = prepare_model(build_model(cfg.model).train(), cfg.train)
    optimizer, loss_fn = build_optimizer(model, cfg.train), build_loss(cfg.loss)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    with flushing_denormals(cfg.train.flush_denormal):
        losses = [float(optimisation_step(model, model, loss_fn, optimizer, images, targets, cfg=cfg, scaler=scaler))
                  for _ in range(steps)]
    return model, losses


def test_optimised_step_follows_the_reference_settings(setup):
    """channels_last + fused AdamW + flushed denormals against contiguous + for-loop AdamW, 3 steps: the
    same losses to float rounding, and every parameter's distance to the reference is a small fraction
    of how far the step moved it (Adam's first steps turn rounding-level gradients into +-lr moves, so
    single elements are not compared)."""
    cfg, images, targets = setup
    torch.manual_seed(0)
    init = build_model(cfg.model).state_dict()
    ref, ref_losses = train(cfg, images, targets, **REFERENCE)
    new, new_losses = train(cfg, images, targets)
    assert new.backbone.stem[0].conv.weight.is_contiguous(memory_format=torch.channels_last)
    np.testing.assert_allclose(new_losses, ref_losses, rtol=1e-4)
    a, b = ref.state_dict(), new.state_dict()
    for name, _ in ref.named_parameters():
        moved = (a[name] - init[name]).norm()
        assert (b[name] - a[name]).norm() <= 0.1 * moved, name


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has neither AVX512-BF16 nor AMX")
def test_bf16_autocast_trains_close_to_float32(setup):
    cfg, images, targets = setup
    _, fp32 = train(cfg, images, targets, steps=2)
    model, bf16 = train(cfg, images, targets, steps=2, bf16=True)
    assert all(p.dtype == torch.float32 for p in model.parameters())          # weights stay float32
    np.testing.assert_allclose(bf16, fp32, rtol=0.05)


def test_bf16_is_refused_on_cpus_without_it(monkeypatch):
    import rtmposelib.train.speed as speed
    monkeypatch.setattr(speed, "cpu_has_bf16", lambda: False)
    cfg = replace(preset("rtmpose-t").train, bf16=True)
    with pytest.raises(ValueError, match="neither AVX512-BF16 nor AMX"):
        speed.check_bf16(cfg, torch.device("cpu"))
    check_bf16(replace(cfg, bf16=False), torch.device("cpu"))
