"""KL divergence between SimCC distributions with temperature (paper §3.3 "Temperature";
docs/official-behaviour.md "KL loss").

Matches MMPose ``KLDiscretLoss`` as configured by RTMPose (``beta=10, label_softmax=True``). For every
instance n, keypoint k and axis a in {x, y}:

* target ``P = softmax(label_beta * label)`` over the bins (``label_softmax``), else the label as given;
* ``log Q = log_softmax(beta * pred)``;
* ``KL = mean over bins of P * (log P - log Q)`` -- the mean, not the sum, over bins;
* ``loss = (1 / K) * sum_a sum_(n, k) w_nk * KL`` -- summed over the batch, divided by K only.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class KLDiscretLoss(nn.Module):
    """beta: 1/tau on the prediction; label_softmax: soften the label with softmax(label_beta * label);
    use_target_weight: multiply each (n, k) term by the codec weight."""

    def __init__(self, *, beta: float = 10.0, label_softmax: bool = True, label_beta: float = 10.0,
                 use_target_weight: bool = True) -> None:
        super().__init__()
        self.beta = beta
        self.label_softmax = label_softmax
        self.label_beta = label_beta
        self.use_target_weight = use_target_weight

    def _kl_per_row(self, pred: Tensor, label: Tensor) -> Tensor:
        """pred, label: (R, bins) -> (R,) KL averaged over bins."""
        log_q = F.log_softmax(pred * self.beta, dim=1)
        target = F.softmax(label * self.label_beta, dim=1) if self.label_softmax else label
        return F.kl_div(log_q, target, reduction="none").mean(dim=1)   # target * (log target - log_q)

    def forward(self, outputs: tuple[Tensor, Tensor], targets: dict[str, Tensor]) -> Tensor:
        """outputs: (simcc_x (N, K, Wb), simcc_y (N, K, Hb)) logits; targets: target_x (N, K, Wb),
        target_y (N, K, Hb), weights (N, K). Returns a scalar."""
        simcc_x, simcc_y = outputs
        n, k, _ = simcc_x.shape
        labels = (targets["target_x"], targets["target_y"])
        for pred, label in zip((simcc_x, simcc_y), labels):
            if pred.shape != label.shape:
                raise ValueError(f"prediction {tuple(pred.shape)} and label {tuple(label.shape)} differ")
        weight = targets["weights"].reshape(-1).to(simcc_x.dtype) if self.use_target_weight else 1.0
        loss = simcc_x.new_zeros(())
        for pred, label in zip((simcc_x, simcc_y), labels):
            rows = self._kl_per_row(pred.reshape(n * k, -1), label.reshape(n * k, -1).to(pred.dtype))
            loss = loss + (rows * weight).sum()                             # summed over the batch
        return loss / k
