"""Explore a scale's runs: pick runs and steps, overlay learning curves, diff two configs, browse
predictions on val images.

The functions return DataFrames and Figures, so they work anywhere (a script, an executed notebook, a
page where widgets are not rendered); :func:`app` puts them behind ipywidgets controls for JupyterLab.
Run names are ``"<notebook>/<run>"`` under ``results/<scale>/``.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from rtmposelib.suite import results, viz


def runs(results_root: str | Path) -> pd.DataFrame:
    """Every run of one scale (``results_root`` = results/<scale>) as one row, with a ``name`` column
    (``notebook/run``): metrics as columns, the config flattened as ``config.<part>.<field>``."""
    root = Path(results_root)
    df = results.load_all(root.parent) if root.parent.is_dir() else pd.DataFrame()
    if not len(df):
        return pd.DataFrame(columns=["scale", "notebook", "run", "path", "name"])
    df = df[df["scale"] == root.name].reset_index(drop=True)
    return df.assign(name=df["notebook"] + "/" + df["run"])


def training_runs(table: pd.DataFrame, *, step: str | None = None) -> list[str]:
    """Names of the runs that trained (they wrote ``history.csv``), optionally of one roadmap ``step``."""
    has_history = [Path(p, "history.csv").is_file() for p in table["path"]] if len(table) else []
    part = table[has_history] if len(table) else table
    if step is not None and "step" in part:
        part = part[part["step"] == step]
    return list(part["name"])


def steps(table: pd.DataFrame) -> list[str]:
    """The roadmap steps present among the runs, in the order they first appear."""
    return list(dict.fromkeys(table["step"].dropna())) if "step" in table else []


def histories(results_root: str | Path, names: Sequence[str]) -> dict[str, pd.DataFrame]:
    """``history.csv`` of each named run."""
    return {n: results.read_table(Path(results_root) / n, "history") for n in names}


def learning_curves(results_root: str | Path, names: Sequence[str], *, column: str = "loss", smooth: int = 5):
    """The named runs' ``column`` per iteration overlaid on one axis (:func:`rtmposelib.suite.viz.learning_curves`)."""
    return viz.learning_curves(histories(results_root, names), column=column, smooth=smooth,
                               title=f"{column} of {len(names)} runs")


def keypoint_table(results_root: str | Path, table: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """The named runs' ``per_keypoint.csv`` stacked, with each run's ``name`` and ``step`` (for
    :func:`rtmposelib.suite.viz.keypoint_heatmap`); runs without a breakdown are left out."""
    step = table.set_index("name")["step"] if "step" in table else pd.Series(dtype=object)
    parts = [results.read_table(Path(results_root) / n, "per_keypoint").assign(name=n, step=step.get(n))
             for n in names if (Path(results_root) / n / "per_keypoint.csv").is_file()]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["keypoint", "name", "step"])


def _flat(config: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in config.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_diff(results_root: str | Path, a: str, b: str) -> pd.DataFrame:
    """The config fields in which runs ``a`` and ``b`` differ: ``field``, ``a``, ``b`` (values as text)."""
    ca = _flat(results.read(Path(results_root) / a)["config"])
    cb = _flat(results.read(Path(results_root) / b)["config"])
    rows = [{"field": k, a: repr(ca.get(k, "<absent>")), b: repr(cb.get(k, "<absent>"))}
            for k in sorted(set(ca) | set(cb)) if ca.get(k, "<absent>") != cb.get(k, "<absent>")]
    return pd.DataFrame(rows, columns=["field", a, b])


def prediction_figure(predictions: pd.DataFrame, index: int):
    """One val instance of :func:`rtmposelib.experiments.tables.val_predictions` (row ``index``, 0 =
    first) drawn over its image crop with the ground truth."""
    from rtmposelib.data.metainfo import get_metainfo
    from rtmposelib.experiments.tables import gallery_images, gallery_picks

    if not 0 <= index < len(predictions):
        raise ValueError(f"prediction index {index} out of range 0..{len(predictions) - 1}")
    row = gallery_picks(predictions.iloc[[index]], per_group=1).iloc[[0]].assign(group=f"instance {index}")
    return viz.gallery_figure(row, gallery_images(row), get_metainfo("coco").skeleton,
                              title=f"{row['file'].iloc[0]} (instance {row['id'].iloc[0]})")


def app(results_root: str | Path, *, predictions: pd.DataFrame | None = None):
    """An ipywidgets panel: a scale picker (the folders beside ``results_root``), a step filter and a
    multi-select of training runs whose learning curves are overlaid, two run pickers whose config
    difference is shown, and a slider over ``predictions`` (val instances, best OKS first) drawn on
    their images. Returns the widget (display it as a notebook cell's value)."""
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    parent = Path(results_root).parent
    scales = sorted(p.name for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []
    scale = w.Dropdown(options=scales, value=Path(results_root).name if Path(results_root).name in scales else None,
                       description="scale")
    step = w.Dropdown(description="step")
    picked = w.SelectMultiple(rows=8, description="runs", layout=w.Layout(width="420px"))
    column = w.Dropdown(options=["loss", "lr", "val_AP", "images_per_s"], value="loss", description="curve")
    run_a, run_b = w.Dropdown(description="run A"), w.Dropdown(description="run B")
    curves, diff, pred_out = w.Output(), w.Output(), w.Output()
    ranked = None if predictions is None else predictions.sort_values("oks", ascending=False).reset_index(drop=True)
    slider = w.IntSlider(min=0, max=max(0, (0 if ranked is None else len(ranked)) - 1), description="instance")
    state: dict = {}

    def show(out, fig) -> None:
        out.clear_output(wait=True)
        with out:
            display(fig)
        plt.close(fig)

    def load_scale(*_) -> None:
        state["root"] = parent / str(scale.value)
        state["table"] = runs(state["root"])
        step.options = ["(all)"] + steps(state["table"])
        names = training_runs(state["table"])
        run_a.options = run_b.options = list(state["table"]["name"])
        picked.options = names
        picked.value = tuple(names[:3])

    def filter_step(*_) -> None:
        chosen = None if step.value in (None, "(all)") else step.value
        picked.options = training_runs(state["table"], step=chosen)

    def draw_curves(*_) -> None:
        if picked.value:
            show(curves, learning_curves(state["root"], picked.value, column=column.value))

    def draw_diff(*_) -> None:
        if run_a.value and run_b.value:
            diff.clear_output(wait=True)
            with diff:
                display(config_diff(state["root"], run_a.value, run_b.value))

    def draw_prediction(*_) -> None:
        if ranked is not None and len(ranked):
            show(pred_out, prediction_figure(ranked, slider.value))

    scale.observe(load_scale, "value")
    step.observe(filter_step, "value")
    picked.observe(draw_curves, "value")
    column.observe(draw_curves, "value")
    run_a.observe(draw_diff, "value")
    run_b.observe(draw_diff, "value")
    slider.observe(draw_prediction, "value")
    if scale.value is not None:
        load_scale()
        draw_curves()
        draw_prediction()
    return w.Tab(children=[w.VBox([w.HBox([scale, step, column]), picked, curves]),
                           w.VBox([w.HBox([run_a, run_b]), diff]), w.VBox([slider, pred_out])],
                 titles=("learning curves", "config diff", "predictions"))
