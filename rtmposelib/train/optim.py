"""AdamW with the official parameter groups (paper Table 7: "no weight decay on norm and bias").

Matches MMEngine's ``DefaultOptimWrapperConstructor`` with ``paramwise_cfg=dict(norm_decay_mult=0,
bias_decay_mult=0, bypass_duplicate=True)`` as in the RTMPose configs (docs/official-behaviour.md "Training recipe"):

- the weight and bias of every normalisation layer (BatchNorm, SyncBN, InstanceNorm, GroupNorm,
  LayerNorm) get no decay;
- every other parameter named ``bias`` gets no decay;
- everything else decays, including the GAU's ``gamma``/``beta``, ScaleNorm's ``g`` and the residual
  ``res_scale``: they are neither norm layers nor biases to MMEngine.

With ``decay_norm_and_bias=True`` (the roadmap's step before "no decay on norm") every parameter decays.
AdamW uses PyTorch's default betas (0.9, 0.999) and eps 1e-8, as the official configs.

``TrainConfig.optimizer_impl`` picks the kernel of the same update: "for_loop" (one parameter at a time,
PyTorch's default on CPU and what the official code runs), "foreach" (all parameters of a group per
operation) or "fused" (one kernel per group). They agree to float rounding.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from rtmposelib.config import TrainConfig

NORM_LAYERS = (_BatchNorm, _InstanceNorm, nn.GroupNorm, nn.LayerNorm)


def no_decay_names(model: nn.Module) -> set[str]:
    """Qualified names of the parameters that the official recipe trains without weight decay."""
    names = set()
    for module_name, module in model.named_modules():
        is_norm = isinstance(module, NORM_LAYERS)
        for param_name, _ in module.named_parameters(recurse=False):
            if is_norm or param_name == "bias":
                names.add(f"{module_name}.{param_name}" if module_name else param_name)
    return names


def param_groups(model: nn.Module, *, weight_decay: float, decay_norm_and_bias: bool) -> list[dict]:
    """Two AdamW groups: ``decay`` and ``no_decay`` (the latter empty when everything decays).

    Each group carries ``names`` (the qualified parameter names) for inspection; shared parameters are
    listed once (MMEngine's ``bypass_duplicate``); frozen parameters are left out.
    """
    exempt = set() if decay_norm_and_bias else no_decay_names(model)
    decay: dict[str, Any] = {"params": [], "names": [], "weight_decay": weight_decay}
    no_decay: dict[str, Any] = {"params": [], "names": [], "weight_decay": 0.0}
    seen: set[int] = set()
    for name, param in model.named_parameters():
        if not param.requires_grad or id(param) in seen:
            continue
        seen.add(id(param))
        group = no_decay if name in exempt else decay
        group["params"].append(param)
        group["names"].append(name)
    return [g for g in (decay, no_decay) if g["params"]]


def build_optimizer(model: nn.Module, cfg: TrainConfig, *, lr: float | None = None) -> torch.optim.AdamW:
    """AdamW over ``model`` (unwrapped, not a DDP wrapper) with the recipe's decay groups."""
    groups = param_groups(model, weight_decay=cfg.weight_decay, decay_norm_and_bias=cfg.decay_norm_and_bias)
    if not groups:
        raise ValueError("build_optimizer: the model has no trainable parameters")
    # extra keys ('names') are kept by torch in param_groups and in the optimizer's state_dict
    return torch.optim.AdamW(groups, lr=cfg.base_lr if lr is None else lr, **implementation(cfg))


def implementation(cfg: TrainConfig) -> dict:
    """The AdamW keyword arguments selecting ``cfg.optimizer_impl``."""
    return {"foreach": cfg.optimizer_impl == "foreach", "fused": cfg.optimizer_impl == "fused"}


def set_implementation(optimizer: torch.optim.Optimizer, cfg: TrainConfig) -> None:
    """Select ``cfg.optimizer_impl`` again after ``load_state_dict`` (which restores the saved choice)."""
    for group in optimizer.param_groups:
        group.update(implementation(cfg))
