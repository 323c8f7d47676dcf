"""Losses: KL divergence over SimCC distributions, keypoint heatmap MSE.

Every loss is called as ``loss(outputs, targets)``: ``outputs`` is what the model returns and
``targets`` a dict of batched tensors with the codec's encode keys.
"""
from __future__ import annotations

from torch import nn

from rtmposelib.config import LossConfig
from rtmposelib.losses.keypoint_mse import KeypointMSELoss
from rtmposelib.losses.kl_discret import KLDiscretLoss

__all__ = ["KLDiscretLoss", "KeypointMSELoss", "build_loss"]


def build_loss(cfg: LossConfig) -> nn.Module:
    """The loss named by ``cfg.kind``: "kl_discret" (SimCC heads) or "keypoint_mse" (heatmap heads)."""
    if cfg.kind == "kl_discret":
        return KLDiscretLoss(beta=cfg.beta, label_softmax=cfg.label_softmax, label_beta=cfg.label_beta,
                             use_target_weight=cfg.use_target_weight)
    if cfg.kind == "keypoint_mse":
        return KeypointMSELoss(use_target_weight=cfg.use_target_weight)
    raise ValueError(f"loss kind must be 'kl_discret' or 'keypoint_mse', got {cfg.kind!r}")
