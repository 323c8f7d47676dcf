"""Paired gains and t-intervals; the roadmap's pairing: a seed fixes init, data order and augmentation."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy import stats

from rtmposelib.experiments.statistics import paired_columns, paired_gain, t_half_width
from rtmposelib.roadmap import for_step
from rtmposelib.suite.scales import at_scale


def test_paired_gain_matches_scipys_paired_t_interval():
    after, before = np.array([12.0, 10.5, 11.0, 13.0, 9.0]), np.array([10.0, 10.0, 9.5, 11.0, 8.5])
    g = paired_gain(after, before)
    ci = stats.ttest_rel(after, before).confidence_interval(0.95)
    assert (g.low, g.high) == pytest.approx((ci.low, ci.high))
    assert g.n == 5 and g.mean == pytest.approx(1.3) and g.resolved
    assert g.half_width == pytest.approx(t_half_width(g.sd, 5))
    assert not paired_gain([1.0, 2.0, 3.0], [1.5, 1.0, 3.5]).resolved


def test_one_seed_or_missing_pairs_give_no_interval():
    g = paired_gain([5.0, math.nan], [4.0, 3.0])
    assert g.n == 1 and g.mean == 1.0 and math.isnan(g.half_width) and not g.resolved
    assert paired_gain([], []).n == 0
    with pytest.raises(ValueError, match="1-d arrays"):
        paired_gain([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="confidence"):
        paired_gain([1.0], [1.0], confidence=95)
    with pytest.raises(ValueError, match="n >= 2"):
        t_half_width(1.0, 1)


def test_paired_columns_one_row_per_pair():
    import pandas as pd

    ap = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [2.0, 3.5, 4.0]}, index=[0, 1, 2])
    out = paired_columns(ap, [("a", None), ("b", "a")])
    assert list(out["point"]) == ["a", "b"] and out["n_pairs"].tolist() == [0, 3]
    assert out.loc[1, "gain"] == pytest.approx(7 / 6) and bool(out.loc[1, "resolved"])


def _first_batch_and_head(step: str, seed: int):
    """What a seed fixes in a run of ``step`` at smoke scale: the epoch-0 order, the first crops and the
    freshly initialised model (the loop seeds, then builds)."""
    from rtmposelib.data.sources import build_datasets
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.train import distributed as D
    from rtmposelib.train.loop import seed_everything

    cfg = at_scale(for_step(step), "smoke")
    cfg = replace(cfg, train=replace(cfg.train, seed=seed, init_backbone=None))
    seed_everything(cfg.train.seed)
    train_set, _ = build_datasets(cfg)
    model = build_model(cfg.model)
    info = D.DistInfo(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))
    order = D.ResumableSampler(train_set, epoch=0, seed=cfg.train.seed, info=info).indices
    train_set.set_augment(cfg.aug_stage1)
    train_set.set_epoch(0)
    crops = torch.stack([train_set[i]["image"] for i in order[:4]])
    return order, crops, model.state_dict()


def test_same_seed_same_order_augmentation_and_init_across_steps():
    """"+ EMA" and "+ flat cosine" differ only in the recipe: with one seed their runs see the same
    data in the same order with the same augmentation draws, from the same initial weights."""
    order_a, crops_a, init_a = _first_batch_and_head("ema", 3)
    order_b, crops_b, init_b = _first_batch_and_head("flat_cosine", 3)
    assert order_a == order_b
    assert torch.equal(crops_a, crops_b)
    assert init_a.keys() == init_b.keys() and all(torch.equal(init_a[k], init_b[k]) for k in init_a)
    # across an architecture change the data side is still paired
    order_c, crops_c, _ = _first_batch_and_head("feature_dim", 3)
    assert order_c == order_a
    # and another seed is another draw
    order_d, crops_d, init_d = _first_batch_and_head("ema", 4)
    assert order_d != order_a and not torch.equal(crops_d, crops_a)
    assert any(not torch.equal(init_a[k], init_d[k]) for k in init_a if init_a[k].is_floating_point())
