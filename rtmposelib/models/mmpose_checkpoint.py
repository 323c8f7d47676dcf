"""Import official MMPose checkpoints into our models, and export ours under the official key names
(the official key list is test data: ``tests/data/mmpose_rtmpose_state_dict.json``).

Our modules carry MMPose's / MMDetection's attribute names, so the key mapping is explicit but almost
the identity: ``backbone.*`` (CSPNeXt, and timm's ResNet-50 = MMPose's ResNet) and ``head.*``
(RTMCCHead, HeatmapHead, SimCCHead) keep their names. The one rename: SimCC* (our RTMCCHead with
``hidden_dims=None``) is MMPose's ``SimCCHead`` without deconvolutions, whose classifiers are named
``mlp_head_x`` / ``mlp_head_y`` instead of ``cls_x`` / ``cls_y``.

Checkpoint layouts understood (``torch.load(weights_only=True)``, never executes pickled code):
- a bare state_dict, or ``{'state_dict': ..., 'meta': ...}``; a ``module.`` prefix (DataParallel) is stripped;
- mmcv 1.x EMA (``EMAHook``): averaged copies inside the state_dict as ``ema_<key with . -> _>``;
- mmengine EMA (``EMAHook``, MMPose 1.x): ``checkpoint['ema_state_dict']`` with ``module.<key>``
  entries. mmengine *swaps* the two at save time, so its ``state_dict`` holds the averaged weights and
  ``ema_state_dict`` the raw training weights.
``use_ema=True`` loads the averaged weights (the ``ema_`` entries, or mmengine's ``state_dict``);
``use_ema=False`` loads the raw weights (the plain entries, or mmengine's ``ema_state_dict``). A
released checkpoint usually carries no EMA copy; it then loads with ``use_ema=False``.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from rtmposelib.models.rtmcc_head import RTMCCHead

_MAX_LISTED = 10


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


def read_checkpoint(source, name: str) -> dict:
    """A checkpoint path read with ``weights_only=True`` (or a dict passed through); errors name ``name``."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint file not found: {path}")
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:   # noqa: BLE001 - re-raised with the file named
            raise ValueError(f"{name}: not a loadable PyTorch checkpoint ({type(err).__name__}: {err})") from err
    if isinstance(source, dict):
        return source
    raise ValueError(f"checkpoint source must be a path or a dict, got {type(source).__name__}")


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


def load_mmpose_checkpoint(model: nn.Module, source, *, use_ema: bool = False) -> nn.Module:
    """Load an official MMPose checkpoint (path or already loaded dict) into ``model``, in place.

    Every model entry must be present with the same shape and no checkpoint entry may be left over;
    otherwise a ValueError names the file, the first mismatching key (in model order) and lists the
    missing / unexpected / shape-mismatched keys. Returns ``model``.
    """
    name = str(source) if isinstance(source, (str, Path)) else "<state_dict>"
    state = select_weights(read_checkpoint(source, name), name, use_ema)
    return load_mapped(model, state, official_keys(model), name)


def load_mapped(model: nn.Module, state: dict, mapping: dict[str, str] | None, name: str, *,
                what: str = "this model") -> nn.Module:
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
