"""Scales as config deltas: data, run length and model shrink at smoke/cpu; the paper recipe is untouched."""
from __future__ import annotations

import pytest

from rtmposelib.config import BASE_AUG, CSPNEXT_FACTORS, PRESETS, STRONG_AUG, WEAK_AUG, simcc_sigma
from rtmposelib.roadmap import STEP_NAMES, for_step
from rtmposelib.suite.scales import (
    OFFICIAL_ITERS_PER_EPOCH,
    SCALES,
    at_scale,
    get_scale,
    recipe_lengths,
    recipe_ratio,
    soften_augmentation,
)


def test_paper_scale_keeps_the_official_recipe(monkeypatch):
    monkeypatch.delenv("RTMPOSE_COCO", raising=False)
    cfg = PRESETS["rtmpose-m"]
    out = at_scale(cfg, "paper")
    assert out.train == cfg.train and out.model == cfg.model and out.codec == cfg.codec
    assert out.data.source == get_scale("paper").data_source == "data/coco"
    assert recipe_ratio("paper") == 1.0
    for row in recipe_lengths("paper"):
        assert row["value"] == row["official"]


def test_paper_data_root_is_read_when_the_scale_is_resolved(monkeypatch, tmp_path):
    monkeypatch.setenv("RTMPOSE_COCO", str(tmp_path))
    assert get_scale("paper").data_source == str(tmp_path)
    assert at_scale(for_step("baseline"), "paper").data.source == str(tmp_path)
    assert SCALES["paper"].data_source == ""                            # nothing read at import


@pytest.mark.parametrize("scale", ["smoke", "cpu", "long"])
def test_recipe_lengths_scale_with_the_run(scale):
    """Warm-up, EMA gamma and EMA horizon keep their share of the run; flat and cosine halves too."""
    s = get_scale(scale)
    ratio = recipe_ratio(s)
    assert ratio == pytest.approx(s.epochs * s.iters_per_epoch / (210 * OFFICIAL_ITERS_PER_EPOCH))
    official, ours = for_step("more_epochs").train, at_scale(for_step("more_epochs"), s).train
    assert ours.ema_gamma == pytest.approx(official.ema_gamma * ratio, abs=1e-3)
    assert ours.ema_momentum == pytest.approx(min(0.5, official.ema_momentum / ratio), rel=1e-4)
    assert ours.warmup_iters == max(2, round(official.warmup_iters * ratio))
    rows = {r["length"].split(" (")[0]: r for r in recipe_lengths(s)}
    run = rows["run"]["value"]
    if scale != "smoke":                                                # smoke: 2-iteration floors
        for name in ("warm-up", "EMA gamma", "EMA horizon 1/momentum"):
            assert rows[name]["value"] / run == pytest.approx(rows[name]["fraction"], rel=0.06)
    assert rows["flat phase"]["value"] == rows["cosine"]["value"] == run / 2


def test_ema_at_cpu_scale_averages_within_the_run():
    """The official gamma (2000) in a ~150-iteration run would leave the momentum near 1 (EMA = live
    weights); scaled, it decays to the floor well before the end."""
    from torch import nn

    from rtmposelib.train.ema import ExpMomentumEMA

    t = at_scale(for_step("ema"), "cpu").train
    total = t.epochs * get_scale("cpu").iters_per_epoch
    ema = ExpMomentumEMA(nn.Linear(1, 1), momentum=t.ema_momentum, gamma=t.ema_gamma)
    assert ema.momentum_at(total - 1) < 2 * t.ema_momentum < 0.1
    official = ExpMomentumEMA(nn.Linear(1, 1))
    assert official.momentum_at(total - 1) > 0.9


@pytest.mark.parametrize("scale", ["smoke", "cpu", "long"])
def test_small_scales_shrink_model_data_and_length(scale):
    s = get_scale(scale)
    cfg = at_scale(for_step("kernel7"), scale)
    assert cfg.data.source == s.data_source
    assert (cfg.model.deepen_factor, cfg.model.widen_factor) == CSPNEXT_FACTORS[s.model_size]
    assert cfg.model.input_size == cfg.codec.input_size == s.input_size
    assert cfg.codec.sigma == simcc_sigma(s.input_size)                # separate sigma keeps Eq. 6
    assert cfg.train.epochs == s.epochs and cfg.train.batch_size == s.batch_size
    assert cfg.train.warmup_iters < for_step("kernel7").train.warmup_iters
    assert 0 <= cfg.train.stage2_epochs < max(cfg.train.epochs, 2)


def test_relative_lengths_and_shared_sigma_are_preserved():
    before, after = at_scale(for_step("kernel7"), "cpu"), at_scale(for_step("more_epochs"), "cpu")
    assert after.train.epochs == 2 * before.train.epochs
    base = at_scale(for_step("baseline"), "cpu")
    assert base.codec.sigma[0] == base.codec.sigma[1]                 # SimCC's one shared sigma stays shared
    assert base.codec.sigma[0] < 6.0                                   # and shrinks with the bin count
    assert base.train.stage2_epochs == 0                               # one stage before the two-stage step
    two = at_scale(for_step("two_stage_aug"), "cpu")
    assert two.train.stage2_epochs >= 1


def test_every_roadmap_step_and_preset_builds_at_every_scale():
    for scale in SCALES:
        for name in STEP_NAMES:
            at_scale(for_step(name), scale)          # RunConfig validation runs in __post_init__
        for cfg in PRESETS.values():
            at_scale(cfg, scale)


def test_unknown_scale_names_the_choices():
    with pytest.raises(ValueError, match="choose from"):
        get_scale("huge")
    for s in SCALES.values():
        assert s.roadmap_steps is None or set(s.roadmap_steps) <= set(STEP_NAMES)


def test_cpu_scale_softens_only_the_geometric_magnitudes():
    strength = SCALES["cpu"].aug_strength
    assert 0 < strength < 1
    cfg = at_scale(for_step("two_stage_aug"), "cpu")
    for aug, paper in ((cfg.aug_stage1, STRONG_AUG), (cfg.aug_stage2, WEAK_AUG)):
        assert aug.rotate_factor == pytest.approx(paper.rotate_factor * strength)
        assert aug.shift_factor == pytest.approx(paper.shift_factor * strength)
        lo, hi = aug.scale_factor
        assert (1 - lo, hi - 1) == pytest.approx(((1 - paper.scale_factor[0]) * strength,
                                                   (paper.scale_factor[1] - 1) * strength))
        # probabilities, flips, colour, blur and cutout are the paper's
        for name in ("flip_prob", "half_body_prob", "shift_prob", "scale_prob", "rotate_prob", "hsv_gains",
                     "blur_prob", "median_blur_prob", "cutout_prob"):
            assert getattr(aug, name) == getattr(paper, name)
    assert cfg.aug_stage1.rotate_factor > cfg.aug_stage2.rotate_factor      # strong stays stronger than weak
    assert soften_augmentation(BASE_AUG, 1.0) is BASE_AUG
    assert at_scale(for_step("baseline"), "paper").aug_stage1 == for_step("baseline").aug_stage1


def test_cpu_scale_sets_the_learning_rate_of_every_run_and_paper_keeps_the_official_one():
    for step in STEP_NAMES:
        assert at_scale(for_step(step), "cpu").train.base_lr == SCALES["cpu"].base_lr
        assert at_scale(for_step(step), "paper").train.base_lr == for_step(step).train.base_lr
    assert at_scale(for_step("baseline"), "smoke").train.base_lr == for_step("baseline").train.base_lr


def test_jobs_default_to_the_cores_except_at_paper_scale(monkeypatch):
    import os

    from rtmposelib.suite.runner import default_jobs

    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert default_jobs("cpu") == default_jobs("long") == 6 and default_jobs("paper") == 1
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert default_jobs("smoke") == 1


@pytest.mark.parametrize("scale", ["cpu", "long"])
def test_iterations_per_epoch_match_the_scales_data(scale):
    """The recipe lengths are computed from Scale.iters_per_epoch: it must be the loader's real length
    (checked where the scale's SynthPose set is already generated; generating it takes minutes)."""
    from rtmposelib.data.sources import build_datasets
    from rtmposelib.data.synthetic import cache_dir, synthpose_params
    from rtmposelib.train.distributed import iters_per_epoch

    s = get_scale(scale)
    size = s.data_source.split(":", 1)[1]
    params = synthpose_params(size)
    label = f"n{params['n_train']}v{params['n_val']}"
    if not (cache_dir() / f"{label}-s0-{params['hash']}").is_dir():
        pytest.skip(f"SynthPose {size} is not generated in {cache_dir()} (the suite generates it)")
    cfg = at_scale(for_step("kernel7"), scale)
    train_set, _ = build_datasets(cfg)
    assert iters_per_epoch(len(train_set), s.batch_size, drop_last=cfg.train.drop_last) == s.iters_per_epoch
