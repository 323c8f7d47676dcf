"""The paper's figures redrawn from our measurements, with the paper's own points as a reference layer.

* Fig. 3 -- the roadmap: AP after each step, ours (mean +- std over seeds) beside the paper's, and the
  step-over-step gain of each, so that effects can be compared even when absolute APs differ (SynthPose
  at CPU scale vs COCO).
* Fig. 1 -- speed vs accuracy (latency in ms, AP), the paper's points from Table 11 (CPU, ONNX Runtime).
* Fig. 5 -- GFLOPs vs accuracy, the paper's points from Table 4 (left panel) or Table 5 (right panel).

Matplotlib with the Agg backend (no display needed); every function returns a Figure and draws nothing
else, callers save it (``results.write(..., figures=...)``).
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from rtmposelib.suite import paper  # noqa: E402

OURS_COLOR, PAPER_COLOR = "#1f77b4", "#7f7f7f"


def _require(df: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs columns {columns}; missing {missing} (have {list(df.columns)})")


def roadmap_figure(summary: pd.DataFrame, *, title: str = "Roadmap (Fig. 3)") -> plt.Figure:
    """Bar chart of the roadmap.

    summary: one row per step in roadmap order with columns ``label``, ``ap_mean``, ``ap_std`` (NaN for a
    single seed), ``paper_ap``; optional ``significant`` (bool: the gain exceeds the seed noise), marked
    with a star. APs in percent.
    """
    _require(summary, ["label", "ap_mean", "ap_std", "paper_ap"], "roadmap_figure")
    n = len(summary)
    x = np.arange(n)
    fig, (ax_ap, ax_gain) = plt.subplots(2, 1, figsize=(max(6.0, 0.9 * n + 2), 7.5), sharex=True)
    std = summary["ap_std"].fillna(0.0).to_numpy()
    ax_ap.bar(x - 0.2, summary["paper_ap"], 0.4, color=PAPER_COLOR, label="paper (COCO val)")
    ax_ap.bar(x + 0.2, summary["ap_mean"], 0.4, yerr=std, capsize=3, color=OURS_COLOR, label="ours")
    ax_ap.set_ylabel("AP (%)")
    ax_ap.set_title(title)
    ax_ap.legend(loc="lower right")
    gain_ours = summary["ap_mean"].diff().to_numpy()
    gain_paper = summary["paper_ap"].diff().to_numpy()
    gain_std = np.sqrt(std ** 2 + np.roll(std, 1) ** 2)
    ax_gain.axhline(0.0, color="black", linewidth=0.8)
    ax_gain.bar(x - 0.2, gain_paper, 0.4, color=PAPER_COLOR, label="paper")
    ax_gain.bar(x + 0.2, gain_ours, 0.4, yerr=gain_std, capsize=3, color=OURS_COLOR, label="ours")
    if "significant" in summary.columns:
        for xi, g, sig in zip(x, gain_ours, summary["significant"].fillna(False)):
            if sig and np.isfinite(g):
                ax_gain.annotate("*", (xi + 0.2, g), ha="center", va="bottom" if g >= 0 else "top", fontsize=14)
    ax_gain.set_ylabel("gain over previous step (AP)")
    ax_gain.set_xticks(x, summary["label"], rotation=35, ha="right")
    fig.tight_layout()
    return fig


def _reference_points(table: int) -> pd.DataFrame:
    wide = paper.paper_table(table)
    return wide.dropna(how="any")


def _scatter(ax, ours: pd.DataFrame, xcol: str, ycol: str, sizes: pd.Series | None, label: str) -> None:
    s = 60.0 if sizes is None else 30.0 + 400.0 * sizes / max(float(sizes.max()), 1e-9)
    ax.scatter(ours[xcol], ours[ycol], s=s, color=OURS_COLOR, alpha=0.7, label=label, zorder=3)
    for _, row in ours.iterrows():
        ax.annotate(str(row["name"]), (row[xcol], row[ycol]), textcoords="offset points", xytext=(5, 4),
                    fontsize=8, color=OURS_COLOR)


def _reference_layer(ax, ref: pd.DataFrame, xcol: str, ycol: str, label: str) -> None:
    ax.scatter(ref[xcol], ref[ycol], marker="s", s=30, color=PAPER_COLOR, alpha=0.8, label=label, zorder=2)
    for name, row in ref.iterrows():
        ax.annotate(str(name).split(" / ")[-1] if " / " in str(name) else str(name), (row[xcol], row[ycol]),
                    textcoords="offset points", xytext=(4, -9), fontsize=7, color=PAPER_COLOR)


def speed_accuracy_figure(ours: pd.DataFrame, *, latency_label: str = "CPU latency (ms)",
                          title: str = "Speed vs accuracy (Fig. 1)") -> plt.Figure:
    """Scatter of latency vs AP.

    ours: columns ``name``, ``latency_ms``, ``ap`` (percent), optional ``params_m`` (bubble size, as
    the paper's Fig. 1). Reference layer: the paper's COCO rows of Table 11 (i7-11700, ONNX Runtime).
    """
    _require(ours, ["name", "latency_ms", "ap"], "speed_accuracy_figure")
    ref = _reference_points(11)
    ref = ref[[str(i).startswith("COCO") for i in ref.index]]
    fig, ax = plt.subplots(figsize=(7, 5))
    _reference_layer(ax, ref, "CPU(ms)", "AP", "paper Table 11 (i7-11700, ORT)")
    _scatter(ax, ours, "latency_ms", "ap", ours["params_m"] if "params_m" in ours else None, "ours")
    ax.set_xscale("log")
    ax.set_xlabel(latency_label)
    ax.set_ylabel("AP (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def gflops_accuracy_figure(ours: pd.DataFrame, *, reference_table: int = 4,
                           title: str = "GFLOPs vs accuracy (Fig. 5)") -> plt.Figure:
    """Scatter of GFLOPs vs AP.

    ours: columns ``name``, ``gflops``, ``ap`` (percent). Reference layer: the paper's Table 4 (COCO,
    Fig. 5 left) or Table 5 (COCO-SinglePerson, Fig. 5 right).
    """
    if reference_table not in (4, 5):
        raise ValueError(f"reference_table must be 4 (Fig. 5 left) or 5 (Fig. 5 right), got {reference_table}")
    _require(ours, ["name", "gflops", "ap"], "gflops_accuracy_figure")
    ref = _reference_points(reference_table)
    fig, ax = plt.subplots(figsize=(7, 5))
    _reference_layer(ax, ref, "GFLOPs", "AP", f"paper Table {reference_table}")
    _scatter(ax, ours, "gflops", "ap", None, "ours")
    ax.set_xscale("log")
    ax.set_xlabel("GFLOPs (pose model)")
    ax.set_ylabel("AP (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def sweep_figure(sweep: pd.DataFrame, *, x: str, paper_table: int, title: str) -> plt.Figure:
    """Line plot of a sweep (Table 2 kernel sizes, Table 3 temperatures): ours (mean +- std) and the paper.

    sweep: columns ``row`` (the paper table's row name, e.g. "7x7" or "10"), ``x`` (numeric), ``ap_mean``,
    ``ap_std``.
    """
    _require(sweep, ["row", x, "ap_mean", "ap_std"], "sweep_figure")
    ref = paper.paper_table(paper_table).iloc[:, 0]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(sweep[x], sweep["ap_mean"], yerr=sweep["ap_std"].fillna(0.0), marker="o", color=OURS_COLOR,
                capsize=3, label="ours")
    paper_y = [ref.get(str(r), np.nan) for r in sweep["row"]]
    ax2 = ax.twinx()
    ax2.plot(sweep[x], paper_y, marker="s", linestyle="--", color=PAPER_COLOR, label="paper (COCO, right axis)")
    ax.set_xlabel(x)
    ax.set_ylabel("AP (%) ours")
    ax2.set_ylabel("mAP (%) paper")
    ax.set_title(title)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="lower center")
    fig.tight_layout()
    return fig
