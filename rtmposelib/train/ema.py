"""Exponential moving average of the weights with an exponential momentum warm-up (paper Table 7, "EMA").

Matches MMDetection's ``ExpMomentumEMA`` as the RTMPose configs use it (docs/official-behaviour.md "Training recipe"):
momentum 2e-4,
gamma 2000, interval 1, ``update_buffers=True`` (BatchNorm running statistics are averaged too).
MMEngine's averaged model copies the live weights at its first update (step 0); at every later step
``t`` (counting updates from 0) it moves each floating-point entry of the state dict towards the live
one::

    m_t = (1 - momentum) * exp(-(1 + t) / gamma) + momentum
    ema <- ema + m_t * (theta - ema)

Integer buffers (BatchNorm's ``num_batches_tracked``) cannot be averaged; MMEngine leaves them at their
first copy, we copy them from the live model at every update (they do not affect the forward pass
because BatchNorm uses a fixed momentum). timm's ``ModelEmaV3`` warms up with a power law, not this
exponential, so it cannot reproduce the official numbers and is not used.
"""
from __future__ import annotations

import copy
import math
from typing import Generic, TypeVar

import torch
from torch import nn

ModuleT = TypeVar("ModuleT", bound=nn.Module)


class ExpMomentumEMA(Generic[ModuleT]):
    """An averaged copy ``.module`` of a model, updated after every optimiser step with :meth:`update`."""

    def __init__(self, model: ModuleT, *, momentum: float = 2e-4, gamma: float = 2000.0) -> None:
        if not 0.0 < momentum < 1.0:
            raise ValueError(f"EMA momentum must be in (0, 1), got {momentum}")
        if gamma <= 0:
            raise ValueError(f"EMA gamma must be positive, got {gamma}")
        self.momentum = momentum
        self.gamma = gamma
        self.steps = 0                                   # number of updates so far
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    def momentum_at(self, step: int) -> float:
        """m_t of the ``step``-th update (0-based); step 0 is a plain copy, i.e. momentum 1."""
        if step == 0:
            return 1.0
        return (1.0 - self.momentum) * math.exp(-(1.0 + step) / self.gamma) + self.momentum

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards ``model``'s current weights and buffers (one EMA step)."""
        live = model.state_dict()
        averaged = self.module.state_dict()
        if live.keys() != averaged.keys():
            raise ValueError("EMA update: the model's state-dict keys differ from the averaged copy's")
        m = self.momentum_at(self.steps)
        for name, avg in averaged.items():
            src = live[name].detach().to(avg.device)
            if avg.dtype.is_floating_point and self.steps > 0:
                avg.lerp_(src.to(avg.dtype), m)
            else:
                avg.copy_(src)
        self.steps += 1

    def state_dict(self) -> dict:
        return {"module": self.module.state_dict(), "steps": self.steps,
                "momentum": self.momentum, "gamma": self.gamma}

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["module"])
        self.steps = int(state["steps"])


@torch.no_grad()
def weight_difference(averaged: nn.Module, live: nn.Module) -> dict[str, float]:
    """How far the averaged weights are from the live ones, over all parameters (not buffers):
    ``mean_abs_diff`` = mean |ema - live| and ``rel_diff`` = that over mean |live|."""
    a, b = dict(averaged.named_parameters()), dict(live.named_parameters())
    if a.keys() != b.keys():
        raise ValueError("weight_difference: the two models have different parameter names")
    diff = sum(float((a[k].detach().float() - b[k].detach().float().to(a[k].device)).abs().sum()) for k in a)
    size = sum(p.numel() for p in b.values())
    scale = sum(float(p.detach().float().abs().sum()) for p in b.values())
    mean = diff / max(1, size)
    return {"mean_abs_diff": mean, "rel_diff": diff / scale if scale > 0 else 0.0}
