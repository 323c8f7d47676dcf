"""Heatmap MSE with keypoint weights (SimpleBaseline / UDP pre-training;
docs/official-behaviour.md "Heatmap pre-training").

Matches MMPose ``KeypointMSELoss(use_target_weight=True)``: ``mean over (N, K, H, W) of
(pred - target)^2 * w_nk`` (a plain mean of squared errors without weights).
"""
from __future__ import annotations

from torch import Tensor, nn


class KeypointMSELoss(nn.Module):
    """use_target_weight: multiply the squared error of keypoint (n, k) by the codec weight w_nk."""

    def __init__(self, *, use_target_weight: bool = True) -> None:
        super().__init__()
        self.use_target_weight = use_target_weight

    def forward(self, outputs: Tensor, targets: dict[str, Tensor]) -> Tensor:
        """outputs: heatmaps (N, K, H, W); targets: heatmaps (N, K, H, W), weights (N, K). Scalar."""
        target = targets["heatmaps"].to(outputs.dtype)
        if outputs.shape != target.shape:
            raise ValueError(f"heatmaps {tuple(outputs.shape)} and targets {tuple(target.shape)} differ")
        sq = (outputs - target) ** 2
        if self.use_target_weight:
            sq = sq * targets["weights"].to(outputs.dtype)[:, :, None, None]
        return sq.mean()
