"""Roadmap and sweep summaries from fabricated run records (no training): mean/std, gains, significance."""
from __future__ import annotations

import math

import pytest

from rtmposelib import experiments, results
from rtmposelib.roadmap import for_step


def _run(root, name, step, seed, ap, kernel=0, tau=0.0):
    k = kernel or for_step(step).model.final_kernel_size
    t = tau or for_step(step).loss.beta
    results.write(results.run_dir(root, "cpu", "train_step", name), config={},
                  metrics={"AP": ap, "step": step, "seed": seed, "kernel_size": k, "inv_temperature": t})


def test_roadmap_summary_mean_std_and_significance(tmp_path):
    for seed, (a, b, c) in enumerate([(10.0, 20.0, 20.5), (11.0, 21.0, 20.0), (12.0, 22.0, 21.5)]):
        _run(tmp_path, f"baseline-seed{seed}", "baseline", seed, a)
        _run(tmp_path, f"pretrain-seed{seed}", "pretrain", seed, b)
        _run(tmp_path, f"ema-seed{seed}", "ema", seed, c)
    _run(tmp_path, "kernel1-seed0", "ema", 0, 99.0, kernel=3)        # a sweep point: not a roadmap run
    s = experiments.roadmap_summary(tmp_path / "cpu").set_index("step")
    assert list(s.index) == ["baseline", "pretrain", "ema"]
    assert s.loc["baseline", "ap_mean"] == 11.0 and s.loc["baseline", "ap_std"] == 1.0 and s.loc["ema", "n"] == 3
    assert s.loc["pretrain", "gain"] == 10.0 and s.loc["pretrain", "paper_gain"] == pytest.approx(0.6)
    se = math.sqrt(1 / 3 + 1 / 3)
    assert s.loc["pretrain", "gain_se"] == pytest.approx(se)
    assert bool(s.loc["pretrain", "significant"]) and not bool(s.loc["ema", "significant"])
    assert not bool(s.loc["baseline", "significant"])
    m = experiments.roadmap_metrics(s.reset_index())
    assert m["final_ap"] == pytest.approx(62 / 3) and m["significant_steps"] == 1 and m["seeds"] == 3


def test_sweep_summary_reuses_the_roadmap_runs_of_the_final_step(tmp_path):
    _run(tmp_path, "kernel7-seed0", "kernel7", 0, 30.0)               # roadmap run: kernel 7, 1/tau 10
    _run(tmp_path, "kernel7-seed1", "kernel7", 1, 32.0)
    _run(tmp_path, "kernel3-seed0", "kernel7", 0, 28.0, kernel=3)
    _run(tmp_path, "tau5-seed0", "kernel7", 0, 25.0, tau=5.0)
    k = experiments.sweep_summary(tmp_path / "cpu", "kernel").set_index("row")
    assert list(k.index) == ["3x3", "7x7"] and k.loc["7x7", "ap_mean"] == 31.0 and k.loc["7x7", "n"] == 2
    assert k.loc["3x3", "paper"] == 73.2
    t = experiments.sweep_summary(tmp_path / "cpu", "temperature").set_index("row")
    assert list(t.index) == ["5", "10"] and t.loc["5", "ap_mean"] == 25.0 and t.loc["10", "paper"] == 73.3
    assert experiments.sweep_metrics(k.reset_index(), t.reset_index())["best_kernel"] == 7.0
    with pytest.raises(ValueError, match="kind"):
        experiments.sweep_summary(tmp_path / "cpu", "beta")


def test_step_config_overrides_and_pretrain_requirement(tmp_path):
    cfg = experiments.step_config("baseline", scale="smoke", seed=3, kernel_size=5, inv_temperature=15.0)
    assert cfg.model.final_kernel_size == 5 and cfg.loss.beta == cfg.loss.label_beta == 15.0
    assert cfg.train.seed == 3
    with pytest.raises(ValueError, match="pass pretrain_dir"):
        experiments.step_config("ema", scale="smoke")
    with pytest.raises(FileNotFoundError):
        experiments.step_config("ema", scale="smoke", pretrain_dir=str(tmp_path))


def test_plan_dependencies():
    entries = {e.name: e for e in experiments.plan("cpu")}
    assert len([n for n in entries if n.startswith("train_step/")]) == 11 * 3 + 4 + 3
    assert entries["train_step/baseline-seed0"].after == ()
    assert entries["train_step/gau-seed2"].after == ("pretrain_heatmap/heatmap",)
    assert "train_step/kernel7-seed0" in entries["sweeps/summary"].after
    assert "train_step/kernel9-seed0" in entries["sweeps/summary"].after
    assert "train_step/kernel9-seed0" not in entries["roadmap/summary"].after
    assert not entries["explorer/all"].requires_success
