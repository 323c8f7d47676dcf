"""The lr schedule equals MMEngine's LinearLR -> CosineAnnealingLR: their closed forms, and their
step-by-step update rules, over a paper-length run. The references are computed here from the formulas."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest

from rtmposelib.config import TrainConfig
from rtmposelib.train.schedule import effective_warmup, lr_at, lr_factor

# the official run shape: 420 epochs; 100 iterations per epoch keeps numbers readable
TOTAL = 42_000
PAPER = TrainConfig()     # base 4e-3, warm-up 1000 from 1e-5, flat-cosine over the second half to 0.05x


@pytest.mark.parametrize("iteration, expected", [
    (0, 4e-3 * 1e-5),                                   # warm-up start
    (500, 4e-3 * (1e-5 + (1 - 1e-5) * 500 / 999)),      # LinearLR(end=1000) ramps over 999 steps
    (998, 4e-3 * (1e-5 + (1 - 1e-5) * 998 / 999)),
    (999, 4e-3),                                        # full rate one iteration before `end`
    (1000, 4e-3),                                       # flat
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
    warm = 1e-5 + (1 - 1e-5) * 300 / 999
    cos = 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * 300 / TOTAL))
    assert lr_at(300, cfg, TOTAL) == pytest.approx(4e-3 * warm * cos, rel=1e-12)


def test_short_run_keeps_the_shape():
    # a 3-epoch, 300-iteration smoke run: warm-up capped at 10 % of the run, cosine over the second half
    assert effective_warmup(1000, 300) == 30
    assert lr_at(30, PAPER, 300) == pytest.approx(4e-3)
    assert lr_at(150, PAPER, 300) == pytest.approx(4e-3)
    assert lr_at(300, PAPER, 300) == pytest.approx(2e-4)
    assert lr_at(29, PAPER, 300) == pytest.approx(4e-3)
    assert lr_at(15, PAPER, 300) == pytest.approx(4e-3 * (1e-5 + (1 - 1e-5) * 15 / 29))


# the paper-length run: 420 epochs of 74 iterations (149,813 COCO instances at 8 x 256, last batch kept)
EPOCHS, PER_EPOCH, WARMUP, BASE, ETA_MIN = 420, 74, 1000, 4e-3, 0.05 * 4e-3


def _closed_form(i: int) -> float:
    """LinearLR(start_factor=1e-5, begin=0, end=1000) then CosineAnnealingLR(begin=210, end=420,
    T_max=210 epochs, converted to iterations), written from their definitions."""
    begin, end = EPOCHS // 2 * PER_EPOCH, EPOCHS * PER_EPOCH
    t_max = end - begin
    total = WARMUP - 1                                   # MMEngine: total_iters = end - begin - 1
    lr = BASE * (1e-5 + (1 - 1e-5) * min(i, total) / total)
    if i >= begin:
        lr = ETA_MIN + (BASE - ETA_MIN) * (1 + math.cos(math.pi * (i - begin) / t_max)) / 2
    return lr


def _stepped() -> list[float]:
    """The same schedulers as MMEngine applies them: chained multiplicative updates of the group lr,
    one per iteration while ``begin <= i < end``; returns the lr of every iteration."""
    begin, end = EPOCHS // 2 * PER_EPOCH, EPOCHS * PER_EPOCH
    t_max, total, start = end - begin, WARMUP - 1, 1e-5
    lrs, lr = [], BASE
    for i in range(end):
        if i < WARMUP:                                   # LinearLR, step i of [0, 1000)
            lr = lr * start if i == 0 else lr * (1 + (1 - start) / (total * start + (i - 1) * (1 - start)))
        if begin <= i:                                   # CosineAnnealingLR, step i - begin of [begin, end)
            t = i - begin
            if t > 0:
                lr = (1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max)) \
                    * (lr - ETA_MIN) + ETA_MIN
        lrs.append(lr)
    return lrs


def test_paper_length_run_equals_mmengine_at_every_iteration():
    total = EPOCHS * PER_EPOCH
    assert total == 31_080
    ours = [lr_at(i, PAPER, total) for i in range(total)]
    for reference in ([_closed_form(i) for i in range(total)], _stepped()):
        worst = max(abs(a - b) / b for a, b in zip(ours, reference))
        assert worst < 1e-12, worst
    # the anchors of the recipe
    assert ours[0] == pytest.approx(4e-8, rel=1e-12)
    assert ours[500] == pytest.approx(4e-3 * (1e-5 + (1 - 1e-5) * 500 / 999), rel=1e-12)
    assert all(lr == pytest.approx(4e-3, rel=1e-12) for lr in ours[999:15_541])
    assert ours[998] < 4e-3 * (1 - 1e-4)
    assert ours[-1] > ETA_MIN and ours[-1] == pytest.approx(ETA_MIN, rel=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    (dict(iteration=5, total_iters=0, warmup_iters=0), "total_iters"),
    (dict(iteration=11, total_iters=10, warmup_iters=0), "iteration"),
    (dict(iteration=1, total_iters=10, warmup_iters=0, schedule="step"), "schedule"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lr_factor(**kwargs)
