"""Fig. 3 and Tables 2 / 3 from the suite's ``train_step`` run records: per roadmap step or sweep point the
mean AP over seeds, and the paired gain (:mod:`rtmposelib.experiments.statistics`) -- over the previous
step for the roadmap, over the sweep's base point (the final architecture's kernel / temperature) for
the sweeps -- with its 95 % t-interval and whether it is resolved, beside the paper's gain and the
evaluation noise (bootstrap over val images: ``ap_eval_sd`` of each run, and for a gain the paired
bootstrap of the runs' kept val matches). AP in percent.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from rtmposelib.experiments.runs import SWEEP_BASE_STEP
from rtmposelib.experiments.statistics import paired_columns
from rtmposelib.roadmap import STEPS, for_step
from rtmposelib.suite import results


def _runs(results_root: str | Path, notebook: str) -> pd.DataFrame:
    df = results.load_all(Path(results_root).parent) if Path(results_root).is_dir() else pd.DataFrame()
    if df.empty:
        return df
    scale = Path(results_root).name
    return df[(df["scale"] == scale) & (df["notebook"] == notebook)]


def _mean(df: pd.DataFrame, column: str) -> float:
    v = df[column].dropna().astype(float) if column in df else pd.Series(dtype=float)
    return float(v.mean()) if len(v) else math.nan


def _point_stats(part: pd.DataFrame) -> dict:
    """n seeds, AP mean / std, mean bootstrap eval-noise sd, and (EMA runs) live AP and weight gap."""
    ap = part["AP"].dropna().astype(float)
    return {"n": len(ap), "ap_mean": float(ap.mean()) if len(ap) else math.nan,
            "ap_std": float(ap.std(ddof=1)) if len(ap) > 1 else math.nan,
            "eval_sd": _mean(part, "ap_eval_sd"), "ap_live_mean": _mean(part, "ap_live"),
            "ema_mean_abs_diff": _mean(part, "ema_mean_abs_diff")}


def _by_seed(parts: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """AP with one row per seed and one column per point."""
    return pd.DataFrame({k: p.groupby("seed")["AP"].mean() for k, p in parts.items()})


def _gain_eval_sd(after: pd.DataFrame | None, before: pd.DataFrame | None, *, n: int = 200) -> float:
    """Evaluation noise of the mean paired gain of ``after`` over ``before`` (runs of one point each),
    in AP points: the paired bootstrap over val images (:func:`rtmposelib.eval.bootstrap.paired_bootstrap_sd`)
    on the seeds both have with kept val matches; NaN without any."""
    from rtmposelib.eval.bootstrap import load_matches, paired_bootstrap_sd
    from rtmposelib.experiments.runs import VAL_MATCHES_FILE

    if after is None or before is None or "path" not in after or "path" not in before:
        return math.nan
    files_a, files_b = ({int(seed): Path(p) / VAL_MATCHES_FILE for seed, p in zip(d["seed"], d["path"])}
                        for d in (after, before))
    seeds = sorted(s for s in set(files_a) & set(files_b) if files_a[s].is_file() and files_b[s].is_file())
    if not seeds:
        return math.nan
    pairs = [(load_matches(files_a[s]), load_matches(files_b[s])) for s in seeds]
    return 100.0 * paired_bootstrap_sd(pairs, n=n)


def _sign_vs_paper(out: pd.DataFrame) -> pd.Series:
    """Per row: "same" / "opposite" (a resolved gain against the paper's sign), "unresolved", or "" (no gain)."""
    def one(gain: float, resolved: bool, paper_gain: float) -> str:
        if not np.isfinite(gain):
            return ""
        if not resolved or not np.isfinite(paper_gain):
            return "unresolved" if not resolved else ""
        return "same" if np.sign(gain) == np.sign(paper_gain) else "opposite"
    return pd.Series([one(g, bool(r), p) for g, r, p in zip(out["gain"].astype(float), out["resolved"],
                                                             out["paper_gain"].astype(float))], index=out.index,
                     dtype=object)


def roadmap_summary(results_root: str | Path) -> pd.DataFrame:
    """Fig. 3 from the ``train_step`` runs under ``results_root`` (= results/<scale>): one row per step
    in roadmap order with ``n`` seeds, ``ap_mean``, ``ap_std``, the paper's AP; the paired gain over the
    previous step (``n_pairs``, ``gain``, ``gain_sd``, ``half_width``, ``ci_low``, ``ci_high``,
    ``resolved``), ``paper_gain``, ``sign_vs_paper`` (same / opposite / unresolved); ``eval_sd`` (mean
    bootstrap sd of the step's AP over val images) and ``gain_eval_sd`` (that of the mean gain, by a
    paired bootstrap of the runs' kept val matches); ``ap_live_mean`` and ``ema_mean_abs_diff`` for EMA
    runs."""
    runs = _runs(results_root, "train_step")
    parts, rows = {}, []
    for s in STEPS:
        ref = for_step(s.name)
        part = runs[(runs.get("step") == s.name) & (runs.get("kernel_size") == ref.model.final_kernel_size)
                    & (runs.get("inv_temperature") == ref.loss.beta)] if len(runs) else runs
        if len(part) and part["AP"].notna().any():
            parts[s.name] = part
            rows.append({"step": s.name, "label": s.label, **_point_stats(part), "paper_ap": s.paper_ap})
    out = pd.DataFrame(rows, columns=["step", "label", "n", "ap_mean", "ap_std", "eval_sd", "ap_live_mean",
                                      "ema_mean_abs_diff", "paper_ap"])
    names = list(out["step"])
    gains = paired_columns(_by_seed(parts), [(n, names[i - 1] if i else None) for i, n in enumerate(names)])
    out = pd.concat([out, gains.drop(columns="point")], axis=1)
    out["paper_gain"] = out["paper_ap"].diff()
    out["gain_eval_sd"] = [_gain_eval_sd(parts[n], parts[names[i - 1]]) if i else math.nan
                           for i, n in enumerate(names)]
    out["sign_vs_paper"] = _sign_vs_paper(out)
    return out


def sweep_summary(results_root: str | Path, kind: str) -> pd.DataFrame:
    """Table 2 (``kind="kernel"``) or Table 3 (``kind="temperature"``) from the ``train_step`` runs of
    the final architecture (roadmap runs of that step are reused as the sweep's base point): per point
    ``n``, ``ap_mean``, ``ap_std``, ``eval_sd``, the paired gain over the base point with its interval
    (as :func:`roadmap_summary`; NaN on the base row), ``gain_eval_sd``, the paper's AP and gain, and
    ``sign_vs_paper``."""
    if kind not in ("kernel", "temperature"):
        raise ValueError(f"kind must be 'kernel' or 'temperature', got {kind!r}")
    runs = _runs(results_root, "train_step")
    base = for_step(SWEEP_BASE_STEP)
    x = "kernel_size" if kind == "kernel" else "inv_temperature"
    base_value = base.model.final_kernel_size if kind == "kernel" else base.loss.beta
    if len(runs):
        runs = runs[runs["step"] == SWEEP_BASE_STEP]
        fixed = (("inv_temperature", base.loss.beta) if kind == "kernel"
                 else ("kernel_size", base.model.final_kernel_size))
        runs = runs[runs[fixed[0]] == fixed[1]]
    rows, parts = [], {}
    for value, g in (runs.groupby(x) if len(runs) else []):
        row = f"{int(value)}x{int(value)}" if kind == "kernel" else f"{value:g}"
        parts[row] = g
        rows.append({"row": row, x: value, **_point_stats(g)})
    out = pd.DataFrame(rows, columns=["row", x, "n", "ap_mean", "ap_std", "eval_sd", "ap_live_mean",
                                      "ema_mean_abs_diff"])
    base_row = next((r for r, v in zip(out["row"], out[x]) if v == base_value), None)
    pairs = [(r, base_row if base_row is not None and r != base_row else None) for r in out["row"]]
    out = pd.concat([out, paired_columns(_by_seed(parts), pairs).drop(columns="point")], axis=1)
    out["gain_eval_sd"] = [_gain_eval_sd(parts[r], parts.get(ref)) if ref is not None else math.nan
                           for r, ref in pairs]
    from rtmposelib.suite import paper
    ref = paper.paper_table(2 if kind == "kernel" else 3).iloc[:, 0]
    out["paper"] = [ref.get(r, math.nan) for r in out["row"]]
    out["paper_gain"] = out["paper"] - ref.get(base_row, math.nan) if base_row is not None else math.nan
    out["sign_vs_paper"] = _sign_vs_paper(out)
    return out


def roadmap_metrics(summary: pd.DataFrame) -> dict:
    """Headline numbers of :func:`roadmap_summary` for the run's metrics.json."""
    last = summary.iloc[-1] if len(summary) else None
    steps = summary.iloc[1:] if len(summary) else summary
    return {"steps": int(len(summary)), "seeds": int(summary["n"].max()) if len(summary) else 0,
            "baseline_ap": float(summary["ap_mean"].iloc[0]) if len(summary) else math.nan,
            "final_ap": float(last["ap_mean"]) if last is not None else math.nan,
            "final_ap_std": float(last["ap_std"]) if last is not None else math.nan,
            "resolved_steps": int(steps["resolved"].sum()) if len(steps) else 0,
            "median_half_width": _median(steps, "half_width"),
            "median_gain_eval_sd": _median(steps, "gain_eval_sd")}


def _median(df: pd.DataFrame, column: str) -> float:
    v = df[column].dropna().astype(float) if column in df else pd.Series(dtype=float)
    return float(v.median()) if len(v) else math.nan


def sweep_metrics(kernels: pd.DataFrame, temperatures: pd.DataFrame) -> dict:
    """Headline numbers of the two :func:`sweep_summary` tables for the run's metrics.json."""
    def best(df: pd.DataFrame, col: str) -> float:
        return float(df.loc[df["ap_mean"].idxmax(), col]) if df["ap_mean"].notna().any() else math.nan
    points = pd.concat([kernels, temperatures], ignore_index=True)
    return {"kernel_points": int(len(kernels)), "temperature_points": int(len(temperatures)),
            "best_kernel": best(kernels, "kernel_size"), "best_inv_temperature": best(temperatures, "inv_temperature"),
            "resolved_points": int(points["resolved"].sum()) if len(points) else 0,
            "median_half_width": _median(points, "half_width")}


def explore(results_root: str | Path) -> pd.DataFrame:
    """Every run of one scale (``results_root`` = results/<scale>) as one DataFrame row."""
    root = Path(results_root)
    df = results.load_all(root.parent)
    return df[df["scale"] == root.name].reset_index(drop=True) if len(df) else df
