"""Import official MMDetection RTMDet checkpoints, export ours under MMDetection's key names, and load
a detector from either kind of file.

Our modules carry MMDetection's attribute names (``backbone.*`` = CSPNeXt, ``neck.*`` = CSPNeXtPAFPN,
``bbox_head.*`` = RTMDetSepBNHead: ``cls_convs.<level>.<i>``, ``reg_convs``, ``rtm_cls.<level>``,
``rtm_reg.<level>``; ConvModule ``conv`` / ``bn``; depthwise-separable ``depthwise_conv`` /
``pointwise_conv``), so the explicit key map below is the identity on every model entry; what it adds is
the checking (every entry present with its shape, nothing left over) and the official checkpoint layouts.
The checkpoint layouts (bare state_dict, ``{'state_dict', 'meta'}``, mmcv ``ema_`` entries, mmengine's
swapped ``ema_state_dict``) are read by the same code as the MMPose import
(``rtmposelib.models.mmpose_checkpoint``). ``data_preprocessor.*`` entries (mean / std buffers of
some MMDetection versions) are dropped: normalisation is outside the model here.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from rtmposelib.checkpoint_io import load_mapped, read_checkpoint, select_weights
from rtmposelib.detect.rtmdet import RTMDet, RTMDetConfig, build_rtmdet

PREFIXES = ("backbone.", "neck.", "bbox_head.")


def mmdet_keys(model: nn.Module) -> dict[str, str]:
    """Our state_dict key -> MMDetection's key, for every entry of ``model.state_dict()``."""
    mapping = {}
    for key in model.state_dict():
        if not key.startswith(PREFIXES):
            raise ValueError(f"{key!r} is not under {PREFIXES}: not an RTMDet with MMDetection's layout")
        mapping[key] = key
    return mapping


def export_mmdet_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model``'s weights under MMDetection's key names (save as ``{'state_dict': ...}`` for mmdet)."""
    state = model.state_dict()
    return {official: state[ours].detach().clone() for ours, official in mmdet_keys(model).items()}


def load_mmdet_checkpoint(model: RTMDet, source, *, use_ema: bool = False) -> RTMDet:
    """Load an MMDetection RTMDet checkpoint (path or loaded dict) into ``model`` in place.

    Raises ValueError naming the file, the first mismatching key and the missing / unexpected /
    shape-mismatched entries when the checkpoint does not fit. Returns ``model``.
    """
    name = str(source) if isinstance(source, (str, Path)) else "<state_dict>"
    state = select_weights(read_checkpoint(source, name), name, use_ema)
    state = {k: v for k, v in state.items() if not k.startswith("data_preprocessor.")}
    return load_mapped(model, state, mmdet_keys(model), name, what="the RTMDet model")


def load_detector(source: str | Path | dict, *, use_ema: bool = False) -> RTMDet:
    """An RTMDet in eval mode from our ``detector.pth`` (``fit.py``: weights + ``model_config``) or from an
    official MMDetection checkpoint (assumed RTMDet-nano, one class, unless the file says otherwise)."""
    name = str(source) if isinstance(source, (str, Path)) else "<state_dict>"
    obj = read_checkpoint(source, name)
    cfg = RTMDetConfig()
    if isinstance(obj, dict) and isinstance(obj.get("model_config"), dict):
        fields = dict(obj["model_config"])
        fields["strides"] = tuple(fields.get("strides", cfg.strides))
        fields["input_size"] = tuple(fields.get("input_size", cfg.input_size))
        try:
            cfg = RTMDetConfig(**fields)
        except TypeError as err:
            raise ValueError(f"{name}: model_config does not describe an RTMDet ({err})") from None
        obj = {"state_dict": obj["state_dict"]}
    return load_mmdet_checkpoint(build_rtmdet(cfg), obj, use_ema=use_ema).eval()
