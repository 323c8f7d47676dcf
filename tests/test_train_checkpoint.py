"""Atomic checkpoint files, clear errors on wrong files, backbone transfer, signal-safe stop requests."""
from __future__ import annotations

import os
import pickle
import signal

import pytest
import torch
from torch import nn

from rtmposelib.train.checkpoint import (
    atomic_save,
    load_backbone_into,
    load_training_state,
    restore_rng,
    rng_state,
    save_backbone,
)
from rtmposelib.train.interrupt import StopSignal


class Tiny(nn.Module):
    def __init__(self, width: int = 4):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, width, 3), nn.BatchNorm2d(width))
        self.head = nn.Linear(width, 2)


def test_atomic_save_replaces_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "last.pth"
    atomic_save({"a": 1}, path)
    atomic_save({"a": 2}, path)
    assert torch.load(path)["a"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["last.pth"]


def test_failed_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / "last.pth"
    atomic_save({"a": 1}, path)
    with pytest.raises((pickle.PicklingError, AttributeError)):   # AttributeError for a local object
        atomic_save({"bad": lambda: None}, path)             # lambdas cannot be pickled
    assert torch.load(path)["a"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pth"]


def test_wrong_files_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        load_training_state(tmp_path / "missing.pth")
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="corrupt.pth.*cannot be read"):
        load_training_state(corrupt)
    other = atomic_save({"state_dict": {}}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="not a training checkpoint.*'model'"):
        load_training_state(other)


def test_rng_round_trip(tmp_path):
    path = atomic_save({"rng": rng_state()}, tmp_path / "rng.pth")
    state = torch.load(path, weights_only=True)["rng"]            # loadable without unpickling code
    a = (torch.rand(3), __import__("numpy").random.rand(), __import__("random").random())
    restore_rng(state)
    b = (torch.rand(3), __import__("numpy").random.rand(), __import__("random").random())
    assert torch.equal(a[0], b[0]) and a[1:] == b[1:]


@pytest.mark.parametrize("kind", ["backbone_file", "training", "mmpose"])
def test_backbone_transfer_is_exact(tmp_path, kind):
    torch.manual_seed(0)
    src, dst = Tiny(), Tiny()
    src.backbone[1].running_mean.normal_()
    path = tmp_path / "ckpt.pth"
    if kind == "backbone_file":
        save_backbone(src, path)
    elif kind == "training":
        atomic_save({"model": {k: torch.zeros_like(v) for k, v in src.state_dict().items()},
                     "ema": {"module": src.state_dict(), "steps": 3}}, path)  # EMA weights are preferred
    else:
        atomic_save({"state_dict": src.state_dict(), "meta": {}}, path)
    head_before = dst.head.weight.clone()
    load_backbone_into(dst, path)
    for k, v in src.backbone.state_dict().items():
        assert torch.equal(dst.backbone.state_dict()[k], v), k
    assert torch.equal(dst.head.weight, head_before)


def test_backbone_mismatch_names_the_problem(tmp_path):
    path = save_backbone(Tiny(width=8), tmp_path / "wide.pth")
    with pytest.raises(ValueError, match="wide.pth does not fit this backbone.*wrong shape"):
        load_backbone_into(Tiny(width=4), path)
    empty = atomic_save({"state_dict": {"head.weight": torch.zeros(1)}}, tmp_path / "headonly.pth")
    with pytest.raises(ValueError, match="headonly.pth holds no 'backbone"):
        load_backbone_into(Tiny(), empty)


def test_stop_signal_defers_the_first_signal_and_restores_handlers():
    before = signal.getsignal(signal.SIGTERM)
    with StopSignal() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested == "SIGTERM"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)               # a second signal stops at once
    assert signal.getsignal(signal.SIGTERM) is before


def _pose_checkpoint(tmp_path, *, input_size=(64, 96), ema_scale=None):
    """A last.pth-like file of RTMPose-t at a non-default input size, with its saved config."""
    import json
    from dataclasses import asdict, replace

    from rtmposelib.config import preset, simcc_sigma
    from rtmposelib.models.pose_model import build_model

    base = preset("rtmpose-t")
    cfg = replace(base, model=replace(base.model, input_size=input_size),
                  codec=replace(base.codec, input_size=input_size, sigma=simcc_sigma(input_size)))
    torch.manual_seed(0)
    model = build_model(cfg.model)
    ckpt = {"model": model.state_dict(), "config": json.dumps(asdict(cfg), default=str)}
    if ema_scale is not None:
        ckpt["ema"] = {"module": {k: v * ema_scale if v.is_floating_point() else v
                                  for k, v in model.state_dict().items()}}
    torch.save(ckpt, tmp_path / "last.pth")
    return cfg, tmp_path / "last.pth"


def test_saved_config_rebuilds_the_run_config(tmp_path):
    from rtmposelib.train.checkpoint import checkpoint_run_config, saved_config

    cfg, path = _pose_checkpoint(tmp_path)
    assert saved_config(path) == cfg                    # tuples restored, nested dataclasses rebuilt
    assert checkpoint_run_config(path, "rtmpose-s") == cfg    # the saved architecture wins over --preset
    torch.save({"state_dict": {}}, tmp_path / "mmpose.pth")
    assert saved_config(tmp_path / "mmpose.pth") is None
    with pytest.raises(ValueError, match="mmpose.pth holds no config.*--preset"):
        checkpoint_run_config(tmp_path / "mmpose.pth")


def test_load_pose_weights_picks_ema_and_names_mismatches(tmp_path):
    from rtmposelib.config import preset
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.train.checkpoint import load_pose_weights

    cfg, path = _pose_checkpoint(tmp_path, ema_scale=0.5)
    ref = torch.load(path)
    name = "backbone.stem.0.conv.weight"
    for use_ema, expected in ((None, ref["ema"]["module"]), (True, ref["ema"]["module"]), (False, ref["model"])):
        model = load_pose_weights(build_model(cfg.model), path, use_ema=use_ema)
        assert torch.equal(model.state_dict()[name], expected[name])
    with pytest.raises(ValueError, match=r"last.pth does not fit.*wrong shape.*input size \(64, 96\)"):
        load_pose_weights(build_model(preset("rtmpose-t").model), path)
    del ref["ema"]
    torch.save(ref, path)
    with pytest.raises(ValueError, match="has no EMA weights"):
        load_pose_weights(build_model(cfg.model), path, use_ema=True)
