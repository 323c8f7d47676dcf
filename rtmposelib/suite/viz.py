"""The paper's figures redrawn from our measurements, and the figures the notebooks show inline.

* Fig. 3 -- the roadmap as gains: per step our mean paired gain with its 95 % interval beside the
  paper's gain (absolute APs differ in dataset and scale, so they go in a table, not on this axis).
* Fig. 1 / Fig. 5 -- latency / GFLOPs vs AP, one curve per model family; the paper's numbers in their own
  panel (another dataset, so other axes), and the ratios between sizes side by side, ours vs the paper's.
* Tables 2 / 3 -- the sweeps, ours and the paper's on twin axes.
* Training curves, per-keypoint accuracy, a gallery of val predictions, the demo's frame and jitter.

Every function returns a matplotlib Figure and changes no global state (no backend is forced: figures
show inline in Jupyter, and pyplot picks a headless backend elsewhere); callers save it
(``results.write(..., figures=...)``). seaborn draws the statistical plots, in a local style context.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns

from rtmposelib.suite import paper

OURS_COLOR, PAPER_COLOR, GT_COLOR = "#1f77b4", "#7f7f7f", "#2ca02c"
STYLE = "whitegrid"


def _require(df: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs columns {columns}; missing {missing} (have {list(df.columns)})")


def roadmap_figure(summary: pd.DataFrame, *, title: str = "Roadmap (Fig. 3)") -> plt.Figure:
    """The roadmap's gains, one row per step after the first: ours (mean paired gain over seeds, with
    its 95 % t-interval ``ci_low`` .. ``ci_high``; filled when ``resolved``, i.e. the interval excludes 0)
    in the left panel, the paper's gain (COCO) in the right one, on their own axes.

    summary: one row per step in roadmap order with ``label``, ``gain``, ``paper_gain``; optional
    ``ci_low``, ``ci_high`` (NaN with one seed) and ``resolved``. Gains in AP points.
    """
    _require(summary, ["label", "gain", "paper_gain"], "roadmap_figure")
    steps = summary.iloc[1:].reset_index(drop=True)
    y = np.arange(len(steps))[::-1]
    low = steps["ci_low"].to_numpy(float) if "ci_low" in steps else np.full(len(steps), np.nan)
    high = steps["ci_high"].to_numpy(float) if "ci_high" in steps else np.full(len(steps), np.nan)
    resolved = (steps["resolved"].fillna(False).astype(bool).to_numpy() if "resolved" in steps
                else np.zeros(len(steps), bool))
    gain = steps["gain"].to_numpy(float)
    with sns.axes_style(STYLE):
        fig, (ax, ax_paper) = plt.subplots(1, 2, figsize=(11, 0.45 * len(steps) + 2.2), sharey=True,
                                           gridspec_kw={"width_ratios": [3, 2]})
        has_ci = np.isfinite(low) & np.isfinite(high)
        ax.hlines(y[has_ci], low[has_ci], high[has_ci], color=OURS_COLOR, linewidth=2.5, alpha=0.6,
                  label="95 % interval over seeds")
        ax.scatter(gain[resolved], y[resolved], color=OURS_COLOR, s=50, zorder=3, label="mean gain, resolved")
        ax.scatter(gain[~resolved], y[~resolved], facecolor="white", edgecolor=OURS_COLOR, s=50, zorder=3,
                   label="mean gain, not resolved")
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(y, steps["label"])
        ax.set_xlabel("ours: gain over the previous step (AP)")
        ax.set_title(title)
        ax.legend(loc="best", fontsize=8)
        ax_paper.barh(y, steps["paper_gain"], color=PAPER_COLOR, height=0.5)
        ax_paper.axvline(0.0, color="black", linewidth=0.8)
        ax_paper.set_xlabel("paper: gain over the previous step (COCO AP)")
        ax_paper.set_title("paper (Fig. 3)")
        fig.tight_layout()
    return fig


def keypoint_heatmap(per_keypoint: pd.DataFrame, *, index: str, value: str = "frac_ks50",
                     title: str = "Per-keypoint accuracy") -> plt.Figure:
    """A heatmap of ``value`` per keypoint (columns) and ``index`` (rows, e.g. roadmap step)."""
    _require(per_keypoint, [index, "keypoint", value], "keypoint_heatmap")
    table = per_keypoint.pivot_table(index=index, columns="keypoint", values=value, sort=False)
    with sns.axes_style("white"):
        fig, ax = plt.subplots(figsize=(0.55 * table.shape[1] + 3, 0.4 * table.shape[0] + 2))
        if table.size:
            sns.heatmap(table, ax=ax, cmap="viridis", vmin=0, vmax=1, cbar_kws={"label": value})
        else:                                            # no run matched an instance
            ax.text(0.5, 0.5, f"no {value} measured", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(title)
        ax.set_xlabel("")
        fig.tight_layout()
    return fig


def _family_panel(ax, points: pd.DataFrame, x: str, y: str, label: str, color: str, marker: str) -> None:
    ax.plot(points[x], points[y], marker=marker, color=color, label=label, zorder=3)
    for _, row in points.iterrows():
        ax.annotate(str(row["name"]).replace("RTMPose-", ""), (row[x], row[y]), textcoords="offset points",
                    xytext=(6, -4), fontsize=9, color=color)


def _paper_family(table: int, x: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's RTMPose-t/s/m/l rows (family) and its other models of the same table."""
    ref = paper.paper_table(table).dropna(subset=[x, "AP"])
    if table == 11:
        ref = ref[[str(i).startswith("COCO / ") for i in ref.index]]
        names = [str(i).removeprefix("COCO / ") for i in ref.index]
    else:
        ref = ref[[str(i).endswith("Faster-RCNN / AIC+COCO") or not str(i).startswith("RTMPose") for i in ref.index]]
        names = [str(i).split(" / ")[0] for i in ref.index]
    ref = ref.assign(name=names)
    family = ref[ref["name"].str.fullmatch(r"RTMPose-[tsml]")]
    return family, ref.drop(index=family.index)


def _plain_log_axis(ax) -> None:
    """A log x axis labelled with plain numbers at the major ticks only (no overlapping minor labels)."""
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(mticker.NullFormatter())


def _size_ratios(ax, points: pd.DataFrame, ours: str, theirs: str, ylabel: str) -> None:
    sizes = [str(s) for s in points["size"]]
    x = np.arange(len(sizes))
    ax.bar(x - 0.2, points[ours], 0.4, color=OURS_COLOR, label="ours")
    ax.bar(x + 0.2, points[theirs], 0.4, color=PAPER_COLOR, label="paper")
    ax.set_xticks(x, sizes)
    ax.set_xlabel("model size")
    ax.set_ylabel(ylabel)
    ax.set_title("between sizes: ours vs paper")
    ax.legend(fontsize=8)


def speed_accuracy_figure(points: pd.DataFrame, *, latency_label: str = "CPU latency (ms)",
                          title: str = "Speed vs accuracy (Fig. 1)") -> plt.Figure:
    """Latency vs AP of the model family, three panels: ours (one curve through the sizes), the paper's
    Table 11 (COCO, i7-11700, ONNX Runtime; RTMPose as a curve, other models as points), and the latency
    ratio of each size to the smallest, ours beside the paper's.

    points: :func:`rtmposelib.experiments.speed.speed_accuracy_frame` -- ``name``, ``size``,
    ``latency_ms``, ``ap``; optional ``latency_ratio``, ``paper_latency_ratio``.
    """
    _require(points, ["name", "size", "latency_ms", "ap"], "speed_accuracy_figure")
    family, others = _paper_family(11, "CPU(ms)")
    with sns.axes_style(STYLE):
        fig, (ax, ax_paper, ax_ratio) = plt.subplots(1, 3, figsize=(15, 4.6), gridspec_kw={"width_ratios": [3, 3, 2]})
        _family_panel(ax, points, "latency_ms", "ap", "RTMPose (ours, SynthPose val)", OURS_COLOR, "o")
        ax.set_xlabel(latency_label)
        ax.set_ylabel("AP (%)")
        ax.set_title(title)
        ax.legend(loc="lower right", fontsize=8)
        ax_paper.scatter(others["CPU(ms)"], others["AP"], marker="s", color=PAPER_COLOR, alpha=0.6,
                         label="other models")
        for _, row in others.iterrows():
            ax_paper.annotate(row["name"], (row["CPU(ms)"], row["AP"]), textcoords="offset points", xytext=(4, 4),
                              fontsize=7, color=PAPER_COLOR)
        _family_panel(ax_paper, family, "CPU(ms)", "AP", "RTMPose (paper, COCO val)", "black", "s")
        _plain_log_axis(ax_paper)
        ax_paper.set_xlabel("paper: CPU latency, i7-11700, ONNX Runtime (ms)")
        ax_paper.set_ylabel("COCO AP (%)")
        ax_paper.set_title("paper (Table 11)")
        ax_paper.legend(loc="upper left", fontsize=8)
        if {"latency_ratio", "paper_latency_ratio"} <= set(points.columns):
            _size_ratios(ax_ratio, points, "latency_ratio", "paper_latency_ratio",
                         "latency / smallest size's (256x192)")
        else:
            ax_ratio.set_axis_off()
        fig.tight_layout()
    return fig


def gflops_accuracy_figure(points: pd.DataFrame, *, reference_table: int = 4,
                           title: str = "GFLOPs vs accuracy (Fig. 5)") -> plt.Figure:
    """GFLOPs vs AP of the model family: ours, and the paper's Table 4 (COCO, Fig. 5 left) or Table 5
    (COCO-SinglePerson, Fig. 5 right) in its own panel, RTMPose as a curve and other models as points.

    points: columns ``name``, ``size``, ``gflops``, ``ap`` (percent).
    """
    if reference_table not in (4, 5):
        raise ValueError(f"reference_table must be 4 (Fig. 5 left) or 5 (Fig. 5 right), got {reference_table}")
    _require(points, ["name", "size", "gflops", "ap"], "gflops_accuracy_figure")
    family, others = _paper_family(reference_table, "GFLOPs")
    with sns.axes_style(STYLE):
        fig, (ax, ax_paper) = plt.subplots(1, 2, figsize=(12, 4.6))
        _family_panel(ax, points, "gflops", "ap", "RTMPose (ours, SynthPose val)", OURS_COLOR, "o")
        ax.set_xlabel("GFLOPs at the run's crop")
        ax.set_ylabel("AP (%)")
        ax.set_title(title)
        ax.legend(loc="lower right", fontsize=8)
        ax_paper.scatter(others["GFLOPs"], others["AP"], marker="s", color=PAPER_COLOR, alpha=0.6, label="other models")
        if len(family):
            _family_panel(ax_paper, family, "GFLOPs", "AP", "RTMPose (paper)", "black", "s")
        _plain_log_axis(ax_paper)
        ax_paper.set_xlabel("GFLOPs (256x192)")
        ax_paper.set_ylabel("AP (%)")
        ax_paper.set_title(f"paper (Table {reference_table})")
        ax_paper.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
    return fig


def sweep_figure(sweep: pd.DataFrame, *, x: str, paper_table: int, title: str) -> plt.Figure:
    """Line plot of a sweep (Table 2 kernel sizes, Table 3 temperatures): ours (mean +- std) and the paper.

    sweep: columns ``row`` (the paper table's row name, e.g. "7x7" or "10"), ``x`` (numeric), ``ap_mean``,
    ``ap_std``.
    """
    _require(sweep, ["row", x, "ap_mean", "ap_std"], "sweep_figure")
    ref = paper.paper_table(paper_table).iloc[:, 0]
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.errorbar(sweep[x], sweep["ap_mean"], yerr=sweep["ap_std"].fillna(0.0), marker="o", color=OURS_COLOR,
                    capsize=3, label="ours")
        paper_y = [ref.get(str(r), np.nan) for r in sweep["row"]]
        ax2 = ax.twinx()
        ax2.plot(sweep[x], paper_y, marker="s", linestyle="--", color=PAPER_COLOR, label="paper (COCO, right axis)")
        ax2.grid(False)
        ax.set_xlabel(x)
        ax.set_ylabel("AP (%) ours")
        ax2.set_ylabel("mAP (%) paper")
        ax.set_title(title)
        handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
        ax.legend(handles, [str(h.get_label()) for h in handles], loc="lower center")
        fig.tight_layout()
    return fig


def training_curves(history: pd.DataFrame, *, title: str = "Training") -> plt.Figure:
    """Loss (with a running mean) and learning rate per iteration; validation AP where it was measured.

    history: the run's ``history.csv`` -- ``iteration``, ``loss``, ``lr``, optional ``val_AP`` (fraction).
    """
    _require(history, ["iteration", "loss", "lr"], "training_curves")
    with sns.axes_style(STYLE):
        fig, (ax_loss, ax_lr) = plt.subplots(1, 2, figsize=(11, 3.6))
        ax_loss.plot(history["iteration"], history["loss"], color=OURS_COLOR, alpha=0.35, label="loss")
        window = max(1, len(history) // 20)
        ax_loss.plot(history["iteration"], history["loss"].rolling(window, min_periods=1).mean(), color=OURS_COLOR,
                     label=f"running mean ({window})")
        ax_loss.set_xlabel("iteration")
        ax_loss.set_ylabel("training loss")
        ax_loss.set_title(title)
        val = history.dropna(subset=["val_AP"]) if "val_AP" in history else history.iloc[:0]
        if len(val):
            ax_ap = ax_loss.twinx()
            ax_ap.plot(val["iteration"], 100.0 * val["val_AP"], "o-", color="#d62728", label="val AP (right)")
            ax_ap.set_ylabel("val AP (%)")
            ax_ap.grid(False)
        ax_loss.legend(loc="upper right", fontsize=8)
        ax_lr.plot(history["iteration"], history["lr"], color=PAPER_COLOR)
        ax_lr.set_xlabel("iteration")
        ax_lr.set_ylabel("learning rate")
        ax_lr.set_title("schedule")
        fig.tight_layout()
    return fig


def learning_curves(histories: dict[str, pd.DataFrame], *, column: str = "loss", smooth: int = 5,
                    title: str = "Learning curves") -> plt.Figure:
    """Several runs' ``column`` per iteration on one axis (running mean of ``smooth`` iterations)."""
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.2))
        for name, h in histories.items():
            _require(h, ["iteration", column], f"learning_curves ({name})")
            data = h.dropna(subset=[column])
            ax.plot(data["iteration"], data[column].rolling(max(1, smooth), min_periods=1).mean(), label=name)
        ax.set_xlabel("iteration")
        ax.set_ylabel(column)
        ax.set_title(title)
        if histories:
            ax.legend(fontsize=8)
        fig.tight_layout()
    return fig


def per_keypoint_figure(per_keypoint: pd.DataFrame, *, title: str = "Per-keypoint accuracy") -> plt.Figure:
    """Per keypoint, the share of matched instances whose keypoint similarity exceeds 0.5 and 0.75 (the
    keypoint's contribution to AP50 / AP75), as grouped bars.

    per_keypoint: ``keypoint``, ``frac_ks50``, ``frac_ks75`` (fractions), as the evaluation's breakdown.
    """
    if per_keypoint.empty:                              # no instance matched: nothing to break down
        per_keypoint = pd.DataFrame(columns=["keypoint", "frac_ks50", "frac_ks75"])
    _require(per_keypoint, ["keypoint", "frac_ks50", "frac_ks75"], "per_keypoint_figure")
    long = per_keypoint.melt(id_vars="keypoint", value_vars=["frac_ks50", "frac_ks75"], var_name="threshold",
                             value_name="share")
    long["threshold"] = long["threshold"].map({"frac_ks50": "KS > 0.5", "frac_ks75": "KS > 0.75"})
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(10, 3.8))
        if len(long):
            sns.barplot(long, x="keypoint", y="share", hue="threshold", ax=ax, palette=[OURS_COLOR, "#aec7e8"])
        else:
            ax.text(0.5, 0.5, "no matched instance", ha="center", va="center", transform=ax.transAxes)
        ax.set_ylim(0, 1)
        ax.set_xlabel("")
        ax.set_ylabel("share of matched instances")
        ax.set_title(title)
        ax.tick_params(axis="x", rotation=45)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
        fig.tight_layout()
    return fig


def _draw_pose(ax, kpts: np.ndarray, skeleton: Sequence[tuple[int, int]], color: str, mask: np.ndarray,
               marker: str, label: str) -> None:
    for i, j in skeleton:
        if mask[i] and mask[j]:
            ax.plot(kpts[[i, j], 0], kpts[[i, j], 1], color=color, linewidth=1.2, alpha=0.8)
    ax.scatter(kpts[mask, 0], kpts[mask, 1], s=14, color=color, marker=marker, label=label, zorder=3)


def gallery_figure(picks: pd.DataFrame, images: Sequence[np.ndarray], skeleton: Sequence[tuple[int, int]], *,
                   title: str = "Val predictions by OKS") -> plt.Figure:
    """A grid of val instances, one row per group (best, median, worst by OKS): the crop around the
    person with the ground truth (green) and the prediction (blue).

    picks: :func:`rtmposelib.experiments.tables.gallery_picks` -- ``group``, ``oks``, ``crop_x0``,
    ``crop_y0``, ``pred`` and ``gt`` ((K, 2) arrays, image px), ``visible`` ((K,) bool); images: the
    crops (H, W, 3) RGB uint8, in the order of ``picks``.
    """
    _require(picks, ["group", "oks", "crop_x0", "crop_y0", "pred", "gt", "visible"], "gallery_figure")
    if len(images) != len(picks):
        raise ValueError(f"gallery_figure: {len(picks)} picks but {len(images)} images")
    groups = list(dict.fromkeys(picks["group"]))
    cols = max(int((picks["group"] == g).sum()) for g in groups) if groups else 1
    fig, axes = plt.subplots(max(1, len(groups)), cols, figsize=(2.6 * cols, 3.0 * max(1, len(groups))), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for r, g in enumerate(groups):
        rows = [i for i, v in enumerate(picks["group"]) if v == g]
        for c, i in enumerate(rows):
            row, ax = picks.iloc[i], axes[r, c]
            offset = np.array([row["crop_x0"], row["crop_y0"]], float)
            ax.imshow(images[i])
            vis = np.asarray(row["visible"], bool)
            _draw_pose(ax, np.asarray(row["gt"], float) - offset, skeleton, GT_COLOR, vis, "o", "ground truth")
            _draw_pose(ax, np.asarray(row["pred"], float) - offset, skeleton, OURS_COLOR,
                       np.ones(len(vis), bool), "x", "prediction")
            ax.set_xlim(-0.5, images[i].shape[1] - 0.5)        # predictions outside the crop are cut off
            ax.set_ylim(images[i].shape[0] - 0.5, -0.5)
            ax.set_title(f"{g}: OKS {row['oks']:.2f}", fontsize=9)
    if len(picks):
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def image_figure(image: np.ndarray, *, title: str = "") -> plt.Figure:
    """One RGB image (H, W, 3) uint8 at its aspect ratio, without axes."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image_figure: image must be (H, W, 3), got {image.shape}")
    h, w = image.shape[:2]
    fig, ax = plt.subplots(figsize=(7, 7 * h / max(w, 1)))
    ax.imshow(image)
    ax.set_axis_off()
    ax.set_title(title)
    fig.tight_layout()
    return fig


def jitter_figure(jitter: pd.DataFrame, *, title: str = "Keypoint jitter (Sec. 3.5)") -> plt.Figure:
    """Per frame, the mean keypoint acceleration (px / frame^2) of the tracked people, raw and
    One-Euro smoothed; lower is steadier.

    jitter: :func:`rtmposelib.experiments.demo.jitter_frame` -- ``frame``, ``track_id``, ``raw``, ``smoothed``.
    """
    _require(jitter, ["frame", "track_id", "raw", "smoothed"], "jitter_figure")
    long = jitter.melt(id_vars=["frame", "track_id"], value_vars=["raw", "smoothed"], var_name="keypoints",
                       value_name="acceleration")
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(9, 3.6))
        if len(long.dropna()):
            sns.lineplot(long.dropna(), x="frame", y="acceleration", hue="keypoints", errorbar=("ci", 95), ax=ax,
                         palette=[PAPER_COLOR, OURS_COLOR])
        ax.set_xlabel("frame")
        ax.set_ylabel("keypoint acceleration (px / frame²)")
        ax.set_title(title)
        fig.tight_layout()
    return fig


def ratio_figure(table: pd.DataFrame, *, label: str, ours: str = "ratio_to_t", theirs: str = "paper_ratio_to_t",
                 ylabel: str = "latency / RTMPose-t's", title: str = "Latency ratios (Table 11)") -> plt.Figure:
    """Grouped bars of a ratio per row, ours beside the paper's (e.g. each preset's latency over RTMPose-t's:
    ratios compare across machines where milliseconds do not)."""
    _require(table, [label, ours, theirs], "ratio_figure")
    x = np.arange(len(table))
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(table) + 2), 3.6))
        ax.bar(x - 0.2, table[ours], 0.4, color=OURS_COLOR, label="ours (this machine)")
        ax.bar(x + 0.2, table[theirs], 0.4, color=PAPER_COLOR, label="paper")
        ax.set_xticks(x, [str(v) for v in table[label]], rotation=15 if len(table) > 3 else 0)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=8)
        fig.tight_layout()
    return fig
