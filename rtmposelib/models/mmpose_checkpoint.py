"""Import official MMPose checkpoints into our models, and export ours under the official key names
(the official key list is test data: ``tests/data/mmpose_rtmpose_state_dict.json``).

Our modules carry MMPose's / MMDetection's attribute names, so the key mapping is explicit but almost
the identity: ``backbone.*`` (CSPNeXt, and timm's ResNet-50 = MMPose's ResNet) and ``head.*``
(RTMCCHead, HeatmapHead, SimCCHead) keep their names. The one rename: SimCC* (our RTMCCHead with
``hidden_dims=None``) is MMPose's ``SimCCHead`` without deconvolutions, whose classifiers are named
``mlp_head_x`` / ``mlp_head_y`` instead of ``cls_x`` / ``cls_y``.

Files are read and fitted by :mod:`rtmposelib.checkpoint_io` (``weights_only=True``; raw or EMA weights,
see there). A released checkpoint usually carries no EMA copy; it then loads with ``use_ema=False``.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from rtmposelib.checkpoint_io import load_mapped, read_checkpoint, select_weights
from rtmposelib.models.rtmcc_head import RTMCCHead


def _renames(model: nn.Module) -> list[tuple[str, str]]:
    """(our key prefix, official key prefix) pairs for ``model``; every other key keeps its name."""
    head = getattr(model, "head", None)
    if isinstance(head, RTMCCHead) and head.mlp is None:          # SimCC* = MMPose SimCCHead, no deconvs
        return [("head.cls_x.", "head.mlp_head_x."), ("head.cls_y.", "head.mlp_head_y.")]
    return []


def official_keys(model: nn.Module) -> dict[str, str]:
    """Our state_dict key -> the official MMPose key, for every entry of ``model.state_dict()``."""
    renames = _renames(model)
    mapping = {}
    for key in model.state_dict():
        official = key
        for ours, theirs in renames:
            if key.startswith(ours):
                official = theirs + key[len(ours):]
        mapping[key] = official
    return mapping


def export_mmpose_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model``'s weights under the official MMPose key names (save as ``{'state_dict': ...}`` for MMPose)."""
    state = model.state_dict()
    return {official: state[ours].detach().clone() for ours, official in official_keys(model).items()}


def load_mmpose_checkpoint(model: nn.Module, source, *, use_ema: bool = False) -> nn.Module:
    """Load an official MMPose checkpoint (path or already loaded dict) into ``model``, in place.

    Every model entry must be present with the same shape and no checkpoint entry may be left over;
    otherwise a ValueError names the file, the first mismatching key (in model order) and lists the
    missing / unexpected / shape-mismatched keys. Returns ``model``.
    """
    name = str(source) if isinstance(source, (str, Path)) else "<state_dict>"
    state = select_weights(read_checkpoint(source, name), name, use_ema)
    return load_mapped(model, state, official_keys(model), name)
