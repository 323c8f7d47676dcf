"""Training checkpoints that lose nothing: atomic writes, exact resume, backbone transfer.

The official runs keep a checkpoint per epoch (MMEngine ``CheckpointHook``) and initialise the SimCC
model's backbone from the heatmap (UDP) pre-training run (paper Sec. 3.2 "pre-training";
docs/official-behaviour.md "Heatmap pre-training").
A training checkpoint here holds everything needed to continue bit-for-bit on CPU: model, EMA,
optimiser, the schedule position (the lr is a pure function of the iteration), the RNG states of
python/numpy/torch, the run's history and its config. Files are written to a temporary file in the same
folder and moved into place with ``os.replace``, so a crash mid-write never leaves a truncated file.

Reading them back for use (``rtmpose eval / export / demo``): :func:`checkpoint_run_config` rebuilds the
run's architecture from the saved config (MMPose checkpoints: a named preset) and
:func:`load_pose_weights` loads the weights validation used (EMA when present), or an MMPose checkpoint.
"""
from __future__ import annotations

import json
import os
import random
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

TRAINING_KEYS = ("model", "optimizer", "position", "rng", "config")


def atomic_save(obj: object, path: str | os.PathLike) -> Path:
    """``torch.save`` to ``path`` via a temporary file and ``os.replace`` (never a partial file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def rng_state() -> dict:
    """The states of python's, numpy's and torch's global generators, as types that
    ``torch.load(..., weights_only=True)`` accepts (tensors, tuples, ints, floats, strings)."""
    state = np.random.get_state()                  # the legacy tuple (a dict only for other bit generators)
    assert isinstance(state, tuple)
    name, keys, pos, has_gauss, cached = state
    return {"python": random.getstate(), "torch": torch.get_rng_state(),
            "numpy": (name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached))}


def restore_rng(state: dict) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])


def load_training_state(path: str | os.PathLike) -> dict:
    """Read a checkpoint written by the training loop, checking it is one (clear error otherwise)."""
    path = Path(path)
    state = _read(path)
    missing = [k for k in TRAINING_KEYS if k not in state]
    if missing:
        raise ValueError(f"checkpoint {path} is not a training checkpoint of rtmposelib: missing {missing}")
    return state


def _read(path: Path) -> dict:
    from rtmposelib.checkpoint_io import read_checkpoint

    return read_checkpoint(path)


def _state_dict_from(source: str | os.PathLike | dict, *, prefer_ema: bool = True) -> dict:
    """The full-model state dict inside a checkpoint file or dict of any kind we know."""
    if not isinstance(source, dict):
        source = _read(Path(source))
    if prefer_ema and isinstance(source.get("ema"), dict) and "module" in source["ema"]:
        return source["ema"]["module"]                     # our training checkpoint, EMA weights
    for key in ("model", "state_dict"):                    # ours (last/best) and MMPose's
        if isinstance(source.get(key), dict):
            return source[key]
    return source                                          # a bare state dict


def saved_config(source: str | os.PathLike | dict):
    """The :class:`~rtmposelib.config.RunConfig` saved in one of our checkpoints (``last.pth``,
    ``best.pth``), or None for checkpoints without one (MMPose's, bare state dicts).

    Rebuilt by :func:`rtmposelib.config_io.config_from_dict`: keys the saved config lacks take today's
    defaults; a key no field has any more is an error naming it.
    """
    raw = source if isinstance(source, dict) else _read(Path(source))
    saved = raw.get("config")
    if saved is None:
        return None
    from rtmposelib.config_io import config_from_dict
    where = "<checkpoint>" if isinstance(source, dict) else f"checkpoint {source}"
    return config_from_dict(json.loads(saved) if isinstance(saved, str) else saved, where=f"{where}: config")


def checkpoint_run_config(path: str | os.PathLike, preset_name: str | None = None):
    """The RunConfig that rebuilds a checkpoint's model: the config saved in it (ours), else the preset
    ``preset_name`` (MMPose checkpoints). A named preset whose model differs from the saved one is
    reported on stderr and the saved one is used (the weights only fit it)."""
    from rtmposelib.config import preset
    saved = saved_config(path)
    if saved is None:
        if preset_name is None:
            raise ValueError(f"checkpoint {path} holds no config (an MMPose checkpoint?): name its "
                             f"architecture with --preset")
        return preset(preset_name)
    if preset_name is not None and preset(preset_name).model != saved.model:
        print(f"note: {path} was trained as {saved.name} (input size {saved.model.input_size}); using its "
              f"saved architecture rather than --preset {preset_name}", file=sys.stderr)
    return saved


def load_pose_weights(model: nn.Module, source: str | os.PathLike, *, use_ema: bool | None = None) -> nn.Module:
    """Load a whole pose model's weights from one of our checkpoints or an official MMPose one.

    use_ema: None = the weights validation used (EMA when the checkpoint has them; ``best.pth`` already
    holds them), True = the EMA weights (error if there are none), False = the raw model weights.
    Every tensor must be present with its shape; a mismatch names the file and the first differences.
    """
    path = Path(source)
    raw = _read(path)
    if not (isinstance(raw.get("model"), dict) or isinstance(raw.get("backbone"), dict)):
        from rtmposelib.models.mmpose_checkpoint import load_mmpose_checkpoint
        return load_mmpose_checkpoint(model, path, use_ema=bool(use_ema))
    has_ema = isinstance(raw.get("ema"), dict) and isinstance(raw["ema"].get("module"), dict)
    if use_ema and not has_ema:
        raise ValueError(f"checkpoint {path} has no EMA weights (trained without EMA, or a best.pth, which "
                         f"already holds the weights validation used)")
    if "model" not in raw:
        raise ValueError(f"checkpoint {path} holds a backbone only (a pre-training export); "
                         f"use it with --init-backbone")
    state = raw["ema"]["module"] if has_ema and use_ema is not False else raw["model"]
    from rtmposelib.checkpoint_io import load_mapped
    try:
        return load_mapped(model, state, None, str(path))
    except ValueError as err:                              # say which architecture the file was trained as
        config = saved_config(raw)
        if config is None:
            raise
        raise ValueError(f"{err}; it was trained as {config.name} with input size "
                         f"{config.model.input_size}") from None


def save_backbone(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write ``model.backbone``'s state dict alone (prefix-free), for a later fine-tune."""
    backbone = model.backbone
    assert isinstance(backbone, nn.Module)
    return atomic_save({"backbone": backbone.state_dict()}, path)


def load_backbone_into(model: nn.Module, path: str | os.PathLike | dict) -> nn.Module:
    """Initialise ``model.backbone`` from a checkpoint: a :func:`save_backbone` file, one of our training
    checkpoints (EMA weights when present, as the official pre-trained backbones), ``best.pth``, or an
    MMPose checkpoint (keys ``backbone.*``). Every backbone tensor must be present with its shape.
    """
    name = "<state dict>" if isinstance(path, dict) else str(path)
    raw = path if isinstance(path, dict) else _read(Path(path))
    if isinstance(raw.get("backbone"), dict):              # a save_backbone file
        backbone_state = raw["backbone"]
    else:
        full = _state_dict_from(raw)
        backbone_state = {k[len("backbone."):]: v for k, v in full.items() if k.startswith("backbone.")}
        if not backbone_state:
            raise ValueError(f"checkpoint {name} holds no 'backbone.*' weights")
    from rtmposelib.checkpoint_io import load_mapped
    backbone = model.backbone
    assert isinstance(backbone, nn.Module)
    load_mapped(backbone, backbone_state, None, name, what="this backbone")
    return model
