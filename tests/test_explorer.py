"""The explorer's static parts (runs, curves, config diff) and its widget panel, on a small results tree."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from rtmposelib.suite import explorer, results


@pytest.fixture
def root(tmp_path):
    for run, step, widen in (("baseline-seed0", "baseline", 0.375), ("kernel7-seed0", "kernel7", 0.5)):
        history = pd.DataFrame({"iteration": np.arange(1, 6), "loss": np.linspace(2, 1, 5), "lr": np.full(5, 1e-3)})
        results.write(tmp_path / "smoke" / "train_step" / run,
                      config={"model": {"widen_factor": widen, "head": "simcc"}},
                      metrics={"AP": 10.0, "step": step}, tables={"history": history})
    results.write(tmp_path / "smoke" / "roadmap" / "summary", config={}, metrics={"final_ap": 10.0})
    results.write(tmp_path / "cpu" / "roadmap" / "summary", config={}, metrics={"final_ap": 1.0})
    yield tmp_path / "smoke"
    plt.close("all")


def test_runs_curves_and_config_diff(root):
    table = explorer.runs(root)
    assert sorted(table["name"]) == ["roadmap/summary", "train_step/baseline-seed0", "train_step/kernel7-seed0"]
    assert explorer.training_runs(table) == ["train_step/baseline-seed0", "train_step/kernel7-seed0"]
    assert explorer.training_runs(table, step="kernel7") == ["train_step/kernel7-seed0"]
    assert explorer.steps(table) == ["baseline", "kernel7"]
    fig = explorer.learning_curves(root, explorer.training_runs(table), smooth=1)
    assert len(fig.axes[0].lines) == 2
    diff = explorer.config_diff(root, "train_step/baseline-seed0", "train_step/kernel7-seed0")
    assert diff["field"].tolist() == ["model.widen_factor"]
    assert diff.iloc[0, 1:].tolist() == ["0.375", "0.5"]
    assert explorer.runs(root.parent / "absent").empty


def test_app_builds_its_panel(root):
    pytest.importorskip("ipywidgets")
    panel = explorer.app(root)
    curves_tab, diff_tab, _ = panel.children
    scale, step, _ = curves_tab.children[0].children
    assert list(scale.options) == ["cpu", "smoke"] and scale.value == "smoke"
    picked = curves_tab.children[1]
    assert picked.value == ("train_step/baseline-seed0", "train_step/kernel7-seed0")
    step.value = "kernel7"
    assert picked.options == ("train_step/kernel7-seed0",)


def test_keypoint_table_feeds_the_heatmap(root):
    from rtmposelib.suite import viz

    per_kpt = pd.DataFrame({"keypoint": ["nose", "left_eye"], "matched": [3, 3], "frac_ks50": [0.5, 1.0],
                            "frac_ks75": [0.2, 0.4]})
    per_kpt.to_csv(root / "train_step" / "baseline-seed0" / "per_keypoint.csv", index=False)
    table = explorer.runs(root)
    kpts = explorer.keypoint_table(root, table, explorer.training_runs(table))
    assert set(kpts["step"]) == {"baseline"} and len(kpts) == 2              # the run without a breakdown left out
    ax = viz.keypoint_heatmap(kpts, index="step").axes[0]
    assert ax.collections[0].get_array().tolist() == [[0.5, 1.0]]            # keypoints in their own order
    assert viz.keypoint_heatmap(kpts.iloc[:0], index="step").axes[0].texts
