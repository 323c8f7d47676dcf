"""Reading checkpoint files and fitting their weights into a model: shared by every loader (our training
checkpoints, MMPose's and MMDetection's releases, backbones).

Files are read with ``torch.load(weights_only=True)``: nothing in a file is executed. Layouts understood
by :func:`select_weights`:
- a bare state_dict, or ``{'state_dict': ..., 'meta': ...}``; a ``module.`` prefix (DataParallel) is stripped;
- mmcv 1.x EMA (``EMAHook``): averaged copies inside the state_dict as ``ema_<key with . -> _>``;
- mmengine EMA (``EMAHook``, MMPose 1.x): ``checkpoint['ema_state_dict']`` with ``module.<key>``
  entries. mmengine *swaps* the two at save time, so its ``state_dict`` holds the averaged weights and
  ``ema_state_dict`` the raw training weights.
``use_ema=True`` selects the averaged weights (the ``ema_`` entries, or mmengine's ``state_dict``);
``use_ema=False`` the raw weights (the plain entries, or mmengine's ``ema_state_dict``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import torch
from torch import nn

_MAX_LISTED = 10
ModuleT = TypeVar("ModuleT", bound=nn.Module)


def read_checkpoint(source, name: str | None = None) -> dict:
    """A checkpoint file read with ``weights_only=True`` (never runs pickled code), or a dict passed through.

    A missing file is a FileNotFoundError; a file that is not a readable checkpoint (not a PyTorch file,
    damaged, or holding objects other than tensors and plain containers) a one-line ValueError naming it.
    """
    if isinstance(source, dict):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(f"checkpoint source must be a path or a dict, got {type(source).__name__}")
    path = Path(source)
    name = name or str(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {name} does not exist")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:   # noqa: BLE001 - PyTorch's message suggests weights_only=False; never pass that on
        raise ValueError(f"checkpoint {name} cannot be read: it is not a readable PyTorch checkpoint "
                         f"({type(err).__name__})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"checkpoint {name} holds a {type(obj).__name__}, not a dict")
    return obj


def _strip_module(state: dict) -> dict:
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def select_weights(obj: dict, name: str, use_ema: bool) -> dict[str, torch.Tensor]:
    """The state_dict to load, after choosing between raw and EMA weights (module docstring)."""
    state = obj.get("state_dict", obj)
    if not isinstance(state, dict) or not state:
        raise ValueError(f"{name}: no state_dict found (top-level keys: {sorted(obj)[:_MAX_LISTED]})")
    state = _strip_module(state)
    ema_state = obj.get("ema_state_dict")
    if isinstance(ema_state, dict):                                   # mmengine layout (swapped)
        if use_ema:
            return state
        return {k[len("module."):]: v for k, v in ema_state.items() if k.startswith("module.")}
    ema_keys = [k for k in state if k.startswith("ema_")]
    if not use_ema:
        return {k: v for k, v in state.items() if not k.startswith("ema_")}
    if not ema_keys:
        raise ValueError(f"{name}: use_ema=True but the checkpoint has no EMA copy "
                         "(no 'ema_' entries and no 'ema_state_dict')")
    # mmcv 1.x names: 'ema_' + key with '.' -> '_'. Map them back through the plain keys.
    plain = [k for k in state if not k.startswith("ema_")]
    by_flat = {"ema_" + k.replace(".", "_"): k for k in plain} | {"ema_" + k: k for k in plain}
    selected = {}
    for k in ema_keys:
        if k not in by_flat:
            raise ValueError(f"{name}: EMA entry {k!r} matches no model entry of the checkpoint")
        selected[by_flat[k]] = state[k]
    for k in plain:                          # buffers that the EMA hook did not average stay as they are
        selected.setdefault(k, state[k])
    return selected


def load_mapped(model: ModuleT, state: dict, mapping: dict[str, str] | None, name: str, *,
                what: str = "this model") -> ModuleT:
    """Load ``state`` (checkpoint key -> tensor) into ``model`` through ``mapping`` (our key -> checkpoint
    key; None = the same names). The one fit check of every loader (MMPose, MMDetection, our checkpoints,
    backbones).

    Every mapped entry must be present with the model's shape and no entry of ``state`` may be left over;
    otherwise a one-line ValueError names the checkpoint ``name``, the first mismatching key (in model order)
    and the missing / wrong-shape / unexpected keys. Returns ``model``.
    """
    ours = model.state_dict()
    mapping = {k: k for k in ours} if mapping is None else mapping
    missing, mismatched, first = [], [], None
    for key, official in mapping.items():                   # model order
        if official not in state:
            missing.append(official)
        elif not isinstance(state[official], torch.Tensor):
            mismatched.append(f"{official}: checkpoint holds a {type(state[official]).__name__}, not a tensor")
        elif tuple(state[official].shape) != tuple(ours[key].shape):
            mismatched.append(f"{official}: checkpoint {tuple(state[official].shape)} "
                              f"vs model {tuple(ours[key].shape)}")
        else:
            continue
        first = first or official
    unexpected = sorted(set(state) - set(mapping.values()))
    if missing or mismatched or unexpected:
        first = first or unexpected[0]
        parts = [f"checkpoint {name} does not fit {what}; first mismatching key: {first!r}"]
        for label, keys in (("missing", missing), ("wrong shape", mismatched), ("unexpected", unexpected)):
            if keys:
                more = f" ... (+{len(keys) - _MAX_LISTED} more)" if len(keys) > _MAX_LISTED else ""
                parts.append(f"{label} ({len(keys)}): " + ", ".join(keys[:_MAX_LISTED]) + more)
        raise ValueError("; ".join(parts))
    model.load_state_dict({key: state[official] for key, official in mapping.items()}, strict=True)
    return model
