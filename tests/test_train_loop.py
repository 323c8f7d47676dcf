"""fit() end to end on SynthPose: exact resume after a signal, NaN stop, pre-train -> fine-tune, AP rise.

Runs use RTMPose-t with tiny crops so that a step takes well under a second on one core; the
mechanics (schedule, EMA, stage switch, checkpoints) do not depend on the crop size.
"""
from __future__ import annotations

import json
import os
import random
import signal
from dataclasses import replace

import pytest
import torch

from rtmposelib.config import preset, simcc_sigma
from rtmposelib.train import loop
from rtmposelib.train.checkpoint import load_training_state
from rtmposelib.train.interrupt import TrainingInterrupted
from rtmposelib.train.pretrain import finetune_config, heatmap_pretrain_config


def tiny(size=(32, 32), *, batch_size=16, epochs=2, **train):
    """RTMPose-t on synth:smoke (138 people: whole batches only) with an EMA and weight decay on (to
    exercise both), no validation."""
    cfg = preset("rtmpose-t")
    train = {"stage2_epochs": 1, "warmup_iters": 3, "ema": True, "weight_decay": 0.05, "drop_last": True, **train}
    t = replace(cfg.train, epochs=epochs, batch_size=batch_size, val_interval=epochs, **train)
    return replace(cfg, model=replace(cfg.model, input_size=size),
                   codec=replace(cfg.codec, input_size=size, sigma=simcc_sigma(size)),
                   data=replace(cfg.data, source="synth:smoke", num_workers=0), train=t)


def weights(state_dict):
    return {k: v.clone() for k, v in state_dict.items()}


@pytest.mark.slow
def test_signal_at_random_iteration_then_resume_is_exact(tmp_path, monkeypatch):
    """SIGINT at a random iteration, resume: model, EMA and optimiser equal an uninterrupted run's.
    The run crosses an epoch boundary (8 iterations per epoch) and the stage-2 pipeline switch."""
    cfg, stop_at = tiny(), 10
    straight = loop.fit(cfg, out_dir=tmp_path / "straight", max_iters=stop_at, progress=False)
    assert straight.metrics["total_iters"] == 16 and straight.history["stage"].tolist()[-1] == 2

    k = random.randint(1, stop_at - 1)
    original = loop._step

    def step_then_signal(state, *args):
        loss = original(state, *args)
        if state.iteration == k:
            os.kill(os.getpid(), signal.SIGINT)                 # a real signal through the real handler
        return loss
    monkeypatch.setattr(loop, "_step", step_then_signal)
    with pytest.raises(TrainingInterrupted, match=f"after iteration {k}"):
        loop.fit(cfg, out_dir=tmp_path / "split", max_iters=stop_at, progress=False)
    assert load_training_state(tmp_path / "split" / "last.pth")["position"]["iteration"] == k
    monkeypatch.setattr(loop, "_step", original)
    resumed = loop.fit(cfg, out_dir=tmp_path / "split", resume=True, max_iters=stop_at, progress=False)

    for name, a, b in (("model", straight.model, resumed.model), ("ema", straight.ema_model, resumed.ema_model)):
        for key, value in a.state_dict().items():
            assert torch.equal(value, b.state_dict()[key]), f"{name}.{key} differs (signal after iteration {k})"
    assert resumed.history["loss"].tolist() == straight.history["loss"].tolist()
    a, b = (load_training_state(tmp_path / d / "last.pth")["optimizer"] for d in ("straight", "split"))
    for key in a["state"]:
        assert torch.equal(a["state"][key]["exp_avg_sq"], b["state"][key]["exp_avg_sq"])


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    import rtmposelib.losses as losses
    real = losses.build_loss

    def nan_from_iteration_6(cfg):
        inner, calls = real(cfg), []

        def loss(outputs, targets):
            calls.append(1)
            value = inner(outputs, targets)
            return value * float("nan") if len(calls) > 5 else value
        return loss
    monkeypatch.setattr(losses, "build_loss", lambda cfg: _Wrap(nan_from_iteration_6(cfg)))
    cfg = tiny(batch_size=32)                                      # 4 iterations per epoch
    with pytest.raises(FloatingPointError, match=r"non-finite loss nan at epoch 1, iteration 5"):
        loop.fit(cfg, out_dir=tmp_path, progress=False)
    assert load_training_state(tmp_path / "last.pth")["position"]["iteration"] == 4   # end of epoch 0


class _Wrap(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, outputs, targets):
        return self.fn(outputs, targets)


def test_finetune_starts_from_exactly_the_pretrained_backbone(tmp_path):
    cfg = tiny()
    pre = loop.fit(heatmap_pretrain_config(cfg), out_dir=tmp_path / "pre", max_iters=2, progress=False)
    record = json.loads((tmp_path / "pre" / "train_record.json").read_text())
    assert record["config"]["model"]["head"] == "heatmap" and record["config"]["codec"]["kind"] == "udp_heatmap"
    fine = loop.fit(finetune_config(cfg, tmp_path / "pre"), out_dir=tmp_path / "fine", max_iters=0, progress=False)
    expected = pre.ema_model.backbone.state_dict()                 # the EMA weights, as the official ckpts
    got = fine.model.backbone.state_dict()
    assert expected.keys() == got.keys()
    for key, value in expected.items():
        assert torch.equal(value, got[key]), key
    assert not torch.equal(pre.model.backbone.stem[0].conv.weight, fine.model.backbone.stem[0].conv.weight)


def test_placeholder_backbone_is_refused(tmp_path):
    cfg = tiny()
    cfg = replace(cfg, train=replace(cfg.train, init_backbone="heatmap"))
    with pytest.raises(ValueError, match="placeholder 'heatmap'"):
        loop.fit(cfg, out_dir=tmp_path, progress=False)


@pytest.mark.slow
def test_a_few_hundred_cpu_iterations_raise_ap_well_above_the_untrained_model(tmp_path):
    """RTMPose-t at 96x128 on synth:smoke: 240 iterations of UDP heatmap pre-training from random init,
    then 160 iterations of RTMPose-t (SimCC, GAU, 1/tau = 10) from that backbone -- the paper's
    pre-train -> fine-tune path in 400 iterations of batch 16, horizontal flips only.

    Measured (one thread): untrained (pre-trained backbone, fresh head) AP 0.000; after the fine-tune
    val AP 0.125, AR 0.146 (heatmap pre-training alone: AP 0.059). Trained from random init for the same
    400 iterations RTMPose-t stays at AP < 0.005 (a mean-pose collapse), hence the pre-training.
    """
    from rtmposelib.config import AugmentConfig
    from rtmposelib.eval.evaluate import evaluate
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.train.checkpoint import load_backbone_into

    flips = AugmentConfig(flip_prob=0.5, half_body_prob=0.0, shift_prob=0.0, scale_factor=(1.0, 1.0),
                          rotate_prob=0.0, hsv_gains=None, blur_prob=0.0, median_blur_prob=0.0, cutout_prob=0.0)
    cfg = tiny((96, 128), epochs=20, warmup_iters=10, stage2_epochs=0, ema=False, weight_decay=0.0, base_lr=2e-3)
    cfg = replace(cfg, aug_stage1=flips, aug_stage2=flips)
    pre = heatmap_pretrain_config(cfg, epochs=30)
    pre = replace(pre, train=replace(pre.train, base_lr=1e-3, stage2_epochs=0, ema=False, val_interval=30))
    pretrained = loop.fit(pre, out_dir=tmp_path / "pre", progress=False)
    assert pretrained.metrics["iterations"] == 240

    fine = finetune_config(cfg, tmp_path / "pre")
    torch.manual_seed(0)
    untrained = build_model(fine.model)
    load_backbone_into(untrained, tmp_path / "pre" / "last.pth")
    before = evaluate(untrained, fine)
    result = loop.fit(fine, out_dir=tmp_path / "fine", progress=False)
    after = result.metrics["val"]
    assert result.metrics["iterations"] == 160
    assert before["AP"] < 0.01, before
    assert after["AP"] > 0.05 and after["AR"] > before["AR"] + 0.05, (before, after)


def test_persistent_workers_draw_each_epochs_crops():
    """One loader for the run, its worker kept across epochs: epoch 1 (stage 2) yields the crops the main
    process draws for (seed, epoch 1, index) with the weak pipeline, not epoch 0's."""
    from rtmposelib.data.sources import build_datasets
    from rtmposelib.train import distributed as D

    cfg = tiny(batch_size=4)
    cfg = replace(cfg, data=replace(cfg.data, num_workers=1, persistent_workers=True))
    train_set, _ = build_datasets(cfg)
    info = D.init_distributed("cpu")
    sampler = loop._EpochSampler(train_set, cfg=cfg, info=info)
    loader = loop._loader(train_set, sampler, cfg=cfg, info=info)
    assert loader.persistent_workers
    for epoch, stage2 in ((0, False), (1, True)):
        sampler.set_epoch(epoch, start=1, stage2=stage2)
        batch = next(iter(loader))
        train_set.set_augment(cfg.aug_stage2 if stage2 else cfg.aug_stage1)
        train_set.set_epoch(epoch)
        expected = torch.stack([train_set[i]["image"] for i, _, _ in sampler.items[:4]])
        assert torch.equal(batch["image"], expected), epoch
