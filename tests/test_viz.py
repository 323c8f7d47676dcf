"""Figures: they draw our points and the paper's reference layer, and reject missing columns."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rtmposelib.roadmap import STEPS
from rtmposelib.suite import viz


def _summary():
    n = len(STEPS)
    return pd.DataFrame({"label": [s.label for s in STEPS], "ap_mean": np.linspace(10, 30, n),
                         "ap_std": np.full(n, 0.5), "paper_ap": [s.paper_ap for s in STEPS],
                         "significant": [False] + [True] * (n - 1)})


def test_roadmap_figure_has_both_series_and_gains(tmp_path):
    fig = viz.roadmap_figure(_summary())
    ax_ap, ax_gain = fig.axes
    assert len(ax_ap.patches) == 2 * len(STEPS)
    heights = [p.get_height() for p in ax_ap.patches[:len(STEPS)]]
    assert heights == [s.paper_ap for s in STEPS]
    fig.savefig(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000


def test_scatter_figures_draw_ours_and_the_paper_layer():
    ours = pd.DataFrame({"name": ["t", "s"], "latency_ms": [2.0, 3.0], "ap": [40.0, 45.0], "gflops": [0.1, 0.2],
                         "params_m": [3.3, 5.5]})
    fig = viz.speed_accuracy_figure(ours)
    ax = fig.axes[0]
    paper_pts, our_pts = ax.collections[0].get_offsets(), ax.collections[1].get_offsets()
    assert len(paper_pts) == 7 and [3.204, 67.1] in paper_pts.tolist()     # Table 11 COCO rows
    assert our_pts.tolist() == [[2.0, 40.0], [3.0, 45.0]]
    for table, n in ((4, 34), (5, 8)):
        ax = viz.gflops_accuracy_figure(ours, reference_table=table).axes[0]
        assert len(ax.collections[0].get_offsets()) == n                    # rows with both GFLOPs and AP
    with pytest.raises(ValueError, match="missing \\['latency_ms'\\]"):
        viz.speed_accuracy_figure(ours.drop(columns="latency_ms"))
    with pytest.raises(ValueError, match="reference_table"):
        viz.gflops_accuracy_figure(ours, reference_table=11)


def test_sweep_figure():
    sweep = pd.DataFrame({"row": ["1x1", "7x7"], "kernel": [1, 7], "ap_mean": [20.0, 25.0], "ap_std": [1.0, np.nan]})
    fig = viz.sweep_figure(sweep, x="kernel", paper_table=2, title="Table 2")
    assert fig.axes[1].lines[0].get_ydata().tolist() == [72.8, 73.3]
