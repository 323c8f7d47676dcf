"""Roadmap and sweep summaries from fabricated run records (no training): mean/std, gains, significance."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from rtmposelib import experiments
from rtmposelib.roadmap import for_step
from rtmposelib.suite import results
from rtmposelib.suite.plan import plan
from rtmposelib.suite.scales import at_scale, get_scale


def _run(root, name, step, seed, ap, kernel=0, tau=0.0, **extra):
    k = kernel or for_step(step).model.final_kernel_size
    t = tau or for_step(step).loss.beta
    results.write(results.run_dir(root, "cpu", "train_step", name), config={},
                  metrics={"AP": ap, "step": step, "seed": seed, "kernel_size": k, "inv_temperature": t, **extra})


def test_roadmap_summary_paired_gains_and_intervals(tmp_path):
    # pretrain: +10 on every seed (resolved); ema: -0.5, -1.0, +1.5 (mean 0, not resolved)
    for seed, (a, b, c) in enumerate([(10.0, 20.0, 19.5), (11.0, 21.0, 20.0), (12.0, 22.0, 23.5)]):
        _run(tmp_path, f"baseline-seed{seed}", "baseline", seed, a, ap_eval_sd=0.3)
        _run(tmp_path, f"pretrain-seed{seed}", "pretrain", seed, b, ap_eval_sd=0.4)
        _run(tmp_path, f"ema-seed{seed}", "ema", seed, c, ap_eval_sd=0.4, ap_live=c - 1, ema_mean_abs_diff=1e-3)
    _run(tmp_path, "kernel1-seed0", "ema", 0, 99.0, kernel=3)        # a sweep point: not a roadmap run
    s = experiments.roadmap_summary(tmp_path / "cpu").set_index("step")
    assert list(s.index) == ["baseline", "pretrain", "ema"]
    assert s.loc["baseline", "ap_mean"] == 11.0 and s.loc["baseline", "ap_std"] == 1.0 and s.loc["ema", "n"] == 3
    assert s.loc["pretrain", "gain"] == pytest.approx(10.0) and s.loc["pretrain", "gain_sd"] == pytest.approx(0.0)
    assert s.loc["pretrain", "paper_gain"] == pytest.approx(0.6)
    assert bool(s.loc["pretrain", "resolved"]) and not bool(s.loc["ema", "resolved"])
    d = [-0.5, -1.0, 1.5]
    half = stats.t.ppf(0.975, 2) * np.std(d, ddof=1) / math.sqrt(3)
    assert s.loc["ema", "gain"] == pytest.approx(0.0, abs=1e-12) and s.loc["ema", "half_width"] == pytest.approx(half)
    assert (s.loc["ema", "ci_low"], s.loc["ema", "ci_high"]) == pytest.approx((-half, half))
    assert math.isnan(s.loc["baseline", "gain"]) and not bool(s.loc["baseline", "resolved"])
    assert list(s["sign_vs_paper"]) == ["", "same", "unresolved"]
    assert math.isnan(s.loc["ema", "gain_eval_sd"])                   # no val matches kept by these records
    assert s.loc["ema", "ap_live_mean"] == pytest.approx(s.loc["ema", "ap_mean"] - 1)
    m = experiments.roadmap_metrics(s.reset_index())
    assert m["final_ap"] == pytest.approx(21.0) and m["resolved_steps"] == 1 and m["seeds"] == 3
    assert m["median_half_width"] == pytest.approx(half / 2)


def test_gain_eval_noise_from_the_runs_val_matches(tmp_path):
    from rtmposelib.eval.bootstrap import ImageMatches, save_matches
    from rtmposelib.experiments.runs import VAL_MATCHES_FILE

    rng = np.random.default_rng(0)
    for seed in range(3):
        for step, ap in (("baseline", 10.0), ("pretrain", 12.0)):
            _run(tmp_path, f"{step}-seed{seed}", step, seed, ap + seed)
            tp = rng.uniform(size=(10, 40)) < 0.5
            m = ImageMatches(rng.integers(0, 20, 40), tp, ~tp, np.full(20, 2), np.linspace(0, 1, 101))
            save_matches(m, tmp_path / "cpu" / "train_step" / f"{step}-seed{seed}" / VAL_MATCHES_FILE)
    s = experiments.roadmap_summary(tmp_path / "cpu").set_index("step")
    assert s.loc["pretrain", "gain_eval_sd"] > 0 and math.isnan(s.loc["baseline", "gain_eval_sd"])


def test_a_step_with_a_missing_seed_is_paired_on_the_common_seeds(tmp_path):
    for seed, (a, b) in enumerate([(10.0, 11.0), (12.0, 13.5), (9.0, None)]):
        _run(tmp_path, f"baseline-seed{seed}", "baseline", seed, a)
        if b is not None:
            _run(tmp_path, f"pretrain-seed{seed}", "pretrain", seed, b)
    s = experiments.roadmap_summary(tmp_path / "cpu").set_index("step")
    assert s.loc["pretrain", "n_pairs"] == 2 and s.loc["pretrain", "gain"] == pytest.approx(1.25)


def test_sweep_summary_pairs_every_point_with_the_base_point(tmp_path):
    for seed, (base, k3, t5) in enumerate([(30.0, 28.0, 25.0), (32.0, 29.0, 28.0)]):
        _run(tmp_path, f"kernel7-seed{seed}", "kernel7", seed, base)   # roadmap run: kernel 7, 1/tau 10
        _run(tmp_path, f"kernel3-seed{seed}", "kernel7", seed, k3, kernel=3)
        _run(tmp_path, f"tau5-seed{seed}", "kernel7", seed, t5, tau=5.0)
    k = experiments.sweep_summary(tmp_path / "cpu", "kernel").set_index("row")
    assert list(k.index) == ["3x3", "7x7"] and k.loc["7x7", "ap_mean"] == 31.0 and k.loc["7x7", "n"] == 2
    assert k.loc["3x3", "paper"] == 73.2 and k.loc["3x3", "gain"] == pytest.approx(-2.5)
    assert k.loc["3x3", "n_pairs"] == 2 and math.isnan(k.loc["7x7", "gain"])
    assert k.loc["3x3", "paper_gain"] == pytest.approx(73.2 - 73.3)
    t = experiments.sweep_summary(tmp_path / "cpu", "temperature").set_index("row")
    assert list(t.index) == ["5", "10"] and t.loc["5", "ap_mean"] == 26.5 and t.loc["10", "paper"] == 73.3
    assert t.loc["5", "gain"] == pytest.approx(-4.5) and not bool(t.loc["5", "resolved"])   # n 2: t = 12.7
    m = experiments.sweep_metrics(k.reset_index(), t.reset_index())
    assert m["best_kernel"] == 7.0 and m["resolved_points"] == 0
    with pytest.raises(ValueError, match="kind"):
        experiments.sweep_summary(tmp_path / "cpu", "beta")


def _fake_run(root, name):
    ckpt = root / name / "checkpoints"
    ckpt.mkdir(parents=True)
    (ckpt / "last.pth").write_bytes(b"x")
    return str(root / name)


def test_step_config_overrides_and_initialisation(tmp_path, monkeypatch):
    standin = _fake_run(tmp_path, "standin")
    cfg = experiments.step_config("baseline", scale="smoke", seed=3, kernel_size=5, inv_temperature=15.0,
                                  init_dir=standin)
    assert cfg.model.final_kernel_size == 5 and cfg.loss.beta == cfg.loss.label_beta == 15.0
    assert cfg.train.seed == 3 and cfg.train.init_backbone == f"{standin}/checkpoints/last.pth"
    with pytest.raises(ValueError, match="stand-in initialisation: pass init_dir"):
        experiments.step_config("baseline", scale="cpu")
    with pytest.raises(FileNotFoundError, match="no checkpoints/last.pth"):
        experiments.step_config("baseline", scale="cpu", init_dir=str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="pass pretrain_dir"):
        experiments.step_config("ema", scale="smoke")
    with pytest.raises(FileNotFoundError):
        experiments.step_config("ema", scale="smoke", pretrain_dir=str(tmp_path))
    pre = _fake_run(tmp_path, "pre")
    assert experiments.step_config("ema", scale="cpu", pretrain_dir=pre).train.init_backbone.endswith("last.pth")
    # paper scale: an ImageNet checkpoint if given, else random init; no stand-in
    assert experiments.step_config("baseline", scale="paper").train.init_backbone is None
    imagenet = tmp_path / "cspnext-m_in1k.pth"
    imagenet.write_bytes(b"x")
    assert experiments.step_config("baseline", scale="paper", imagenet_backbone=str(imagenet)).train.init_backbone \
        == str(imagenet)
    with pytest.raises(FileNotFoundError, match="ImageNet backbone checkpoint"):
        experiments.pretrain_config("paper", imagenet_backbone=str(tmp_path / "absent.pth"))
    assert experiments.pretrain_config("cpu", init_dir=standin).train.init_backbone.startswith(standin)


def test_standin_uses_its_own_synthpose_set(monkeypatch, tmp_path):
    from rtmposelib.data import synthetic

    calls = []
    monkeypatch.setattr(synthetic, "make_synthpose", lambda n, *, seed: calls.append((n, seed)) or tmp_path)
    cfg = experiments.standin_config("cpu")
    s = get_scale("cpu")
    assert calls == [(s.standin_images, s.standin_seed)] and s.standin_seed != 0
    assert cfg.data.source == str(tmp_path) != at_scale(for_step("baseline"), "cpu").data.source
    assert cfg.model.head == "heatmap" and cfg.codec.kind == "udp_heatmap" and cfg.train.init_backbone is None
    assert cfg.train.epochs == s.standin_epochs and cfg.train.base_lr == s.standin_lr
    assert cfg.model.input_size == s.input_size
    with pytest.raises(ValueError, match="no stand-in"):
        experiments.standin_config("paper")


def test_plan_dependencies():
    entries = {e.name: e for e in plan("cpu")}
    s = get_scale("cpu")
    assert set(s.sweep_seeds) <= set(s.seeds)                       # sweeps pair with the base point's runs
    n_sweep = (len(s.kernel_sizes) + len(s.inv_temperatures) - 2) * len(s.sweep_seeds)
    assert len([n for n in entries if n.startswith("train_step/")]) == 11 * len(s.seeds) + n_sweep
    assert "train_step/tau5-seed2" in entries["sweeps/summary"].after
    assert entries["train_step/baseline-seed0"].after == ("pretrain_heatmap/standin",)
    assert entries["train_step/baseline-seed0"].parameters["init_run"] == "pretrain_heatmap/standin"
    assert entries["pretrain_heatmap/heatmap"].after == ("pretrain_heatmap/standin",)
    assert entries["train_step/gau-seed1"].after == ("pretrain_heatmap/heatmap",)
    assert "train_step/kernel7-seed0" in entries["sweeps/summary"].after
    assert "train_step/kernel9-seed0" in entries["sweeps/summary"].after
    assert "train_step/kernel9-seed0" not in entries["roadmap/summary"].after
    assert not entries["explorer/all"].requires_success
    paper = {e.name: e for e in plan("paper", imagenet_backbone="in1k.pth")}
    assert "pretrain_heatmap/standin" not in paper and paper["pretrain_heatmap/heatmap"].after == ()
    assert paper["train_step/baseline-seed21"].parameters["imagenet_backbone"] == "in1k.pth"
    assert paper["train_step/ema-seed21"].parameters["imagenet_backbone"] == ""


def test_torchrun_command_and_gpu_count(monkeypatch):
    import sys

    from rtmposelib.experiments import launch

    cmd = launch.torchrun_command("r/run.json", "r/checkpoints", nproc=8)
    assert cmd[:3] == [sys.executable, "-m", "torch.distributed.run"] and "--nproc_per_node=8" in cmd
    tail = cmd[cmd.index("-m", 3):]
    assert tail == ["-m", "rtmposelib.cli", "train", "--config", "r/run.json", "--out", "r/checkpoints",
                    "--no-progress"]
    assert launch.torchrun_command("a", "b", nproc=2, max_iters=5)[-2:] == ["--max-iters", "5"]
    with pytest.raises(ValueError, match="nproc"):
        launch.torchrun_command("a", "b", nproc=0)
    monkeypatch.setenv("RTMPOSE_GPUS", "4")
    assert launch.gpu_count() == 4
    monkeypatch.setenv("RTMPOSE_GPUS", "four")
    with pytest.raises(ValueError, match="RTMPOSE_GPUS"):
        launch.gpu_count()
    monkeypatch.delenv("RTMPOSE_GPUS")
    assert launch.gpu_count() == 0                                  # no GPU on the test machine


def test_paper_scale_with_gpus_launches_torchrun(monkeypatch, tmp_path):
    """More than one GPU: the run is written as run.json and handed to torchrun; one or none: in process."""
    from rtmposelib.config_io import load_config
    from rtmposelib.experiments import launch

    launched = []

    class Done:
        returncode = 3

    monkeypatch.setattr(launch.subprocess, "run", lambda cmd, check: launched.append(cmd) or Done())
    monkeypatch.setenv("RTMPOSE_GPUS", "2")
    cfg = at_scale(for_step("kernel7"), "paper")
    with pytest.raises(RuntimeError, match="exited with code 3"):
        launch.train(cfg, tmp_path, distributed=True)
    assert load_config(tmp_path / "run.json") == cfg and "--nproc_per_node=2" in launched[0]
    monkeypatch.setattr("rtmposelib.train.loop.fit", lambda cfg, **kw: ("fit", kw["out_dir"]))
    monkeypatch.setenv("RTMPOSE_GPUS", "1")
    assert launch.train(cfg, tmp_path, distributed=True) == ("fit", tmp_path)
    monkeypatch.setenv("RTMPOSE_GPUS", "8")
    assert launch.train(cfg, tmp_path, distributed=False) == ("fit", tmp_path)     # smoke / cpu scale
    assert len(launched) == 1


def test_wholebody_oracle_scores_the_133_keypoint_path(shared_data):
    """Table 6 as an oracle: decoded targets score near 100 on every part (a broken slice or sigma would not)."""
    wb = experiments.wholebody_oracle_frame(samples_root=shared_data).set_index("part")
    assert list(wb.index) == ["body", "foot", "face", "hand", "whole-body"]
    assert (wb["AP"] > 90).all() and (wb["predictor"] == "oracle").all()
    assert wb.loc["hand", "paper_rtmpose_m_AP"] == 48.3 and wb.loc["body", "paper_rtmpose_m_AP"] == 69.1


def test_sample_tables_without_samples_say_why(tmp_path):
    wb = experiments.wholebody_oracle_frame(samples_root=tmp_path / "absent")
    assert wb["reason"].iloc[0].endswith("not present") and math.isnan(wb["AP"].iloc[0])
    rows = experiments.samples_frame(tmp_path, "smoke", samples_root=tmp_path / "absent")
    assert len(rows) == 1 and "samples not present" in rows["reason"].iloc[0]
    m = experiments.samples_metrics(rows, wb)
    assert m["sample_sets"] == 0 and math.isnan(m["wholebody_oracle_AP"])
