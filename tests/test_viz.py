"""Figures: what they draw (ours, the paper's layer, intervals), no global state on import, and bad input."""
from __future__ import annotations

import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from rtmposelib.roadmap import STEPS
from rtmposelib.suite import viz


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_import_changes_no_matplotlib_state():
    code = ("import matplotlib; before = matplotlib.rcParams['backend']; import rtmposelib.suite.viz, "
            "rtmposelib.suite.explorer, rtmposelib.suite.report; print(before == matplotlib.rcParams['backend'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"MPLBACKEND": "svg"})
    assert out.stdout.strip() == "True", out.stderr


def _summary():
    n = len(STEPS)
    gain = np.r_[np.nan, np.linspace(-1, 2, n - 1)]
    return pd.DataFrame({"label": [s.label for s in STEPS], "gain": gain, "ci_low": gain - 1.0, "ci_high": gain + 0.5,
                         "resolved": [False] + [True, False] * ((n - 1) // 2) + [True] * ((n - 1) % 2),
                         "paper_gain": pd.Series([s.paper_ap for s in STEPS]).diff()})


def test_roadmap_figure_draws_intervals_beside_the_papers_gains():
    summary = _summary()
    fig = viz.roadmap_figure(summary)
    ax, ax_paper = fig.axes
    steps = len(STEPS) - 1
    segments = ax.collections[0].get_segments()                       # one interval per step after the first
    assert len(segments) == steps
    assert [s[0][0] for s in segments] == pytest.approx(summary["ci_low"].iloc[1:].tolist())
    filled, hollow = ax.collections[1].get_offsets(), ax.collections[2].get_offsets()
    assert len(filled) == int(summary["resolved"].iloc[1:].sum()) and len(filled) + len(hollow) == steps
    widths = sorted(p.get_width() for p in ax_paper.patches)
    assert widths == pytest.approx(sorted(summary["paper_gain"].iloc[1:]))   # the paper's gains, its own axis
    assert not any("AP (%)" == a.get_ylabel() for a in fig.axes)            # absolute AP is not on this figure


def test_roadmap_figure_without_intervals_still_draws():
    fig = viz.roadmap_figure(_summary().drop(columns=["ci_low", "ci_high", "resolved"]))
    assert len(fig.axes[0].collections[0].get_segments()) == 0


def _points():
    return pd.DataFrame({"name": ["RTMPose-t", "RTMPose-s"], "size": ["t", "s"], "latency_ms": [2.0, 3.0],
                         "ap": [40.0, 45.0], "gflops": [0.1, 0.2], "latency_ratio": [1.0, 1.5],
                         "paper_latency_ratio": [1.0, 1.4]})


def test_speed_accuracy_figure_has_our_curve_the_papers_panel_and_ratios():
    fig = viz.speed_accuracy_figure(_points())
    ax, ax_paper, ax_ratio = fig.axes
    assert ax.lines[0].get_xydata().tolist() == [[2.0, 40.0], [3.0, 45.0]]
    paper_curve = ax_paper.lines[0].get_xydata().tolist()
    assert [3.204, 67.1] in paper_curve and len(paper_curve) == 4            # RTMPose-t/s/m/l of Table 11
    assert len(ax_paper.collections[0].get_offsets()) == 3                   # the other COCO models
    assert sorted(p.get_height() for p in ax_ratio.patches) == [1.0, 1.0, 1.4, 1.5]
    with pytest.raises(ValueError, match="missing \\['latency_ms'\\]"):
        viz.speed_accuracy_figure(_points().drop(columns="latency_ms"))


def test_gflops_figure_per_reference_table():
    for table in (4, 5):
        fig = viz.gflops_accuracy_figure(_points(), reference_table=table)
        assert fig.axes[0].lines[0].get_xydata().tolist() == [[0.1, 40.0], [0.2, 45.0]]
    assert [0.36, 67.1] in viz.gflops_accuracy_figure(_points()).axes[1].lines[0].get_xydata().tolist()
    with pytest.raises(ValueError, match="reference_table"):
        viz.gflops_accuracy_figure(_points(), reference_table=11)


def test_sweep_figure():
    sweep = pd.DataFrame({"row": ["1x1", "7x7"], "kernel": [1, 7], "ap_mean": [20.0, 25.0], "ap_std": [1.0, np.nan]})
    fig = viz.sweep_figure(sweep, x="kernel", paper_table=2, title="Table 2")
    assert fig.axes[1].lines[0].get_ydata().tolist() == [72.8, 73.3]


def test_training_and_keypoint_figures():
    history = pd.DataFrame({"iteration": np.arange(1, 21), "loss": np.linspace(3, 1, 20), "lr": np.full(20, 1e-3),
                            "val_AP": [np.nan] * 19 + [0.25]})
    fig = viz.training_curves(history)
    assert fig.axes[0].lines[0].get_ydata().tolist() == pytest.approx(history["loss"].tolist())
    assert fig.axes[2].lines[0].get_ydata().tolist() == [25.0]               # val AP in percent
    per_kpt = pd.DataFrame({"keypoint": ["nose", "left_eye"], "frac_ks50": [0.8, 0.5], "frac_ks75": [0.4, 0.1]})
    heights = sorted(p.get_height() for p in viz.per_keypoint_figure(per_kpt).axes[0].patches if p.get_height() > 0)
    assert heights == pytest.approx([0.1, 0.4, 0.5, 0.8])
    assert viz.per_keypoint_figure(pd.DataFrame()).axes[0].texts                # no matched instance: says so
    curves = viz.learning_curves({"a": history, "b": history.assign(loss=history["loss"] * 2)}, smooth=1)
    assert len(curves.axes[0].lines) == 2


def test_gallery_jitter_and_image_figures():
    k = 17
    row = {"group": "best", "oks": 0.9, "crop_x0": 10, "crop_y0": 5, "pred": np.full((k, 2), 20.0),
           "gt": np.full((k, 2), 21.0), "visible": np.ones(k, bool)}
    picks = pd.DataFrame([row, {**row, "group": "worst", "oks": 0.1}])
    images = [np.zeros((40, 30, 3), np.uint8)] * 2
    fig = viz.gallery_figure(picks, images, [(0, 1)])
    assert [a.get_title() for a in fig.axes if a.get_title()] == ["best: OKS 0.90", "worst: OKS 0.10"]
    gt_points = fig.axes[0].collections[0].get_offsets()
    assert gt_points[0].tolist() == [11.0, 16.0]                              # image px -> crop px
    with pytest.raises(ValueError, match="2 picks but 1 images"):
        viz.gallery_figure(picks, images[:1], [(0, 1)])
    jitter = pd.DataFrame({"frame": [1, 2, 1, 2], "track_id": [0, 0, 1, 1], "raw": [2.0, 3.0, 4.0, 5.0],
                           "smoothed": [1.0, 1.0, 2.0, 2.0]})
    ax = viz.jitter_figure(jitter).axes[0]
    assert len(ax.lines) >= 2 and ax.get_ylabel().startswith("keypoint acceleration")
    assert viz.image_figure(np.zeros((10, 20, 3), np.uint8)).axes[0].images
    with pytest.raises(ValueError, match="image_figure"):
        viz.image_figure(np.zeros((10, 20)))


def test_ratio_figure_puts_ours_beside_the_papers():
    table = pd.DataFrame({"preset": ["rtmpose-t", "rtmpose-s"], "ratio_to_t": [1.0, 1.6],
                          "paper_ratio_to_t": [1.0, 1.4]})
    ax = viz.ratio_figure(table, label="preset").axes[0]
    assert [p.get_height() for p in ax.patches] == [1.0, 1.6, 1.0, 1.4]
    with pytest.raises(ValueError, match="missing \\['paper_ratio_to_t'\\]"):
        viz.ratio_figure(table.drop(columns="paper_ratio_to_t"), label="preset")
