"""KLDiscretLoss equals an explicit hand computation (numpy loops) for 1/tau in {1, 5, 10, 15}."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from rtmposelib.codecs.simcc import SimCCCodec
from rtmposelib.config import LossConfig
from rtmposelib.losses import KLDiscretLoss, build_loss


def softmax_row(v: np.ndarray, t: float) -> list[float]:
    e = [math.exp(t * x) for x in v]
    s = sum(e)
    return [x / s for x in e]


def hand_loss(px, py, lx, ly, w, beta, label_softmax, label_beta):
    n, k = w.shape
    total = 0.0
    for pred, label in ((px, lx), (py, ly)):
        for i in range(n):
            for j in range(k):
                q = softmax_row(pred[i, j], beta)
                p = softmax_row(label[i, j], label_beta) if label_softmax else list(label[i, j])
                bins = len(q)
                kl = sum(p[b] * (math.log(p[b]) - math.log(q[b])) for b in range(bins) if p[b] > 0) / bins
                total += w[i, j] * kl
    return total / k


@pytest.mark.parametrize("inv_tau", [1.0, 5.0, 10.0, 15.0])
@pytest.mark.parametrize("label_softmax", [True, False])
def test_matches_hand_computation(inv_tau, label_softmax):
    rng = np.random.default_rng(int(inv_tau))
    n, k, wb, hb = 2, 3, 7, 5
    px, py = rng.normal(size=(n, k, wb)), rng.normal(size=(n, k, hb))
    lx, ly = rng.uniform(size=(n, k, wb)), rng.uniform(size=(n, k, hb))
    if not label_softmax:                      # a label used as given: a distribution with zeros
        lx[..., :2] = 0
        lx /= lx.sum(-1, keepdims=True)
        ly /= ly.sum(-1, keepdims=True)
    w = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 0.5]])
    loss = KLDiscretLoss(beta=inv_tau, label_softmax=label_softmax, label_beta=inv_tau)
    got = loss((torch.tensor(px), torch.tensor(py)),
               {"target_x": torch.tensor(lx), "target_y": torch.tensor(ly), "weights": torch.tensor(w)})
    want = hand_loss(px, py, lx, ly, w, inv_tau, label_softmax, inv_tau)
    assert got.item() == pytest.approx(want, rel=1e-9)


def test_summed_over_batch_and_weights_off():
    rng = np.random.default_rng(3)
    px, py = torch.tensor(rng.normal(size=(1, 2, 6))), torch.tensor(rng.normal(size=(1, 2, 4)))
    t = {"target_x": torch.rand(1, 2, 6, dtype=torch.float64), "target_y": torch.rand(1, 2, 4, dtype=torch.float64),
         "weights": torch.zeros(1, 2, dtype=torch.float64)}
    loss = KLDiscretLoss()
    one = loss((px, py), {**t, "weights": torch.ones(1, 2, dtype=torch.float64)})
    doubled = {k: torch.cat([v, v]) for k, v in {**t, "weights": torch.ones(1, 2, dtype=torch.float64)}.items()}
    two = loss((torch.cat([px, px]), torch.cat([py, py])), doubled)
    assert two.item() == pytest.approx(2 * one.item())          # a sum over the batch, not a mean
    assert loss((px, py), t).item() == 0.0
    assert KLDiscretLoss(use_target_weight=False)((px, py), t).item() == pytest.approx(one.item())


def test_build_loss_and_gradient_on_codec_labels():
    codec = SimCCCodec(input_size=(192, 256), sigma=(4.9, 5.66))
    enc = codec.encode(np.array([[[50.0, 70.0], [100.0, 200.0]]]), np.array([[1, 0]]))
    targets = {k: torch.from_numpy(v) for k, v in enc.items()}
    loss = build_loss(LossConfig())
    assert isinstance(loss, KLDiscretLoss) and loss.beta == 10.0 and loss.label_beta == 10.0
    px = torch.zeros(1, 2, 384, requires_grad=True)
    py = torch.zeros(1, 2, 512, requires_grad=True)
    value = loss((px, py), targets)
    value.backward()
    assert value.item() > 0 and torch.isfinite(px.grad).all()
    assert px.grad[0, 1].abs().sum() == 0                      # weight 0 -> no gradient
    assert px.grad[0, 0].argmin() == 100                       # pulls the logit up at the label peak
    with pytest.raises(ValueError, match="kind"):
        build_loss(replace(LossConfig(), kind="l1"))
