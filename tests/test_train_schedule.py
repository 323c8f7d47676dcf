"""The lr schedule equals its closed form and PyTorch's own schedulers composed as in MMEngine."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from rtmposelib.config import TrainConfig
from rtmposelib.train.schedule import effective_warmup, lr_at, lr_factor

# the official run shape: 420 epochs; 100 iterations per epoch keeps numbers readable
TOTAL = 42_000
PAPER = TrainConfig()     # base 4e-3, warm-up 1000 from 1e-5, flat-cosine over the second half to 0.05x


@pytest.mark.parametrize("iteration, expected", [
    (0, 4e-3 * 1e-5),                                   # warm-up start
    (500, 4e-3 * (1e-5 + (1 - 1e-5) * 0.5)),            # half-way through warm-up
    (1000, 4e-3),                                       # end of warm-up: flat
    (21_000, 4e-3),                                     # cosine starts at epoch 210 of 420 (factor 1)
    (31_500, 4e-3 * (0.05 + 0.95 * 0.5)),               # half-way through the cosine: 2.1e-3
    (42_000, 2e-4),                                     # eta_min = 0.05 * base
])
def test_flat_cosine_closed_form(iteration, expected):
    assert lr_at(iteration, PAPER, TOTAL) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_plain_cosine_anneals_over_whole_run_and_warmup_multiplies():
    cfg = replace(PAPER, lr_schedule="cosine")
    assert lr_at(TOTAL // 2, cfg, TOTAL) == pytest.approx(4e-3 * 0.525)
    # inside the warm-up both factors apply (MMEngine chains schedulers multiplicatively)
    warm = 1e-5 + (1 - 1e-5) * 0.3
    cos = 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * 300 / TOTAL))
    assert lr_at(300, cfg, TOTAL) == pytest.approx(4e-3 * warm * cos, rel=1e-12)


def test_short_run_keeps_the_shape():
    # a 3-epoch, 300-iteration smoke run: warm-up capped at 10 % of the run, cosine over the second half
    assert effective_warmup(1000, 300) == 30
    assert lr_at(30, PAPER, 300) == pytest.approx(4e-3)
    assert lr_at(150, PAPER, 300) == pytest.approx(4e-3)
    assert lr_at(300, PAPER, 300) == pytest.approx(2e-4)
    assert lr_at(15, PAPER, 300) == pytest.approx(4e-3 * (1e-5 + (1 - 1e-5) * 0.5))


def test_matches_torch_schedulers():
    """Parity with torch's LinearLR -> flat -> CosineAnnealingLR stepped per iteration."""
    total, warm, start = 400, 40, 200
    cfg = TrainConfig(base_lr=1.0, warmup_iters=warm)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=1e-5, total_iters=warm),
        torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0),
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - start, eta_min=0.05),
    ], milestones=[warm, start])
    for it in range(total + 1):
        assert lr_at(it, cfg, total) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9), it
        opt.step()
        sched.step()


@pytest.mark.parametrize("kwargs, message", [
    (dict(iteration=5, total_iters=0, warmup_iters=0), "total_iters"),
    (dict(iteration=11, total_iters=10, warmup_iters=0), "iteration"),
    (dict(iteration=1, total_iters=10, warmup_iters=0, schedule="step"), "schedule"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lr_factor(**kwargs)
