"""Fig. 3 and Tables 2 / 3 from the suite's ``train_step`` run records: mean +- std over seeds per roadmap
step or sweep point, the gain over the previous step, and whether it exceeds the seed noise.

A step's gain is marked ``significant`` when |gain| > 2 standard errors of the difference of the two
means (Welch-style, sqrt(s1^2/n1 + s2^2/n2)); it needs >= 2 seeds on both sides. AP in percent.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from rtmposelib.suite import results
from rtmposelib.experiments.runs import SWEEP_BASE_STEP
from rtmposelib.roadmap import STEPS, for_step


def _runs(results_root: str | Path, notebook: str) -> pd.DataFrame:
    df = results.load_all(Path(results_root).parent) if Path(results_root).is_dir() else pd.DataFrame()
    if df.empty:
        return df
    scale = Path(results_root).name
    return df[(df["scale"] == scale) & (df["notebook"] == notebook)]


def _mean_std(g: pd.Series) -> tuple[float, float, int]:
    v = g.dropna().astype(float)
    return (float(v.mean()) if len(v) else math.nan, float(v.std(ddof=1)) if len(v) > 1 else math.nan, len(v))


def roadmap_summary(results_root: str | Path) -> pd.DataFrame:
    """Fig. 3 from the ``train_step`` runs under ``results_root`` (= results/<scale>): one row per step
    in roadmap order with n seeds, AP mean and std, the paper's AP, our gain over the previous step and
    ``significant`` = |gain| > 2 standard errors of the difference (needs >= 2 seeds on both sides)."""
    runs = _runs(results_root, "train_step")
    rows = []
    for s in STEPS:
        part = runs[(runs.get("step") == s.name) & (runs.get("kernel_size") == for_step(s.name).model.final_kernel_size)
                    & (runs.get("inv_temperature") == for_step(s.name).loss.beta)] if len(runs) else runs
        mean, std, n = _mean_std(part["AP"]) if len(part) else (math.nan, math.nan, 0)
        if n:
            rows.append({"step": s.name, "label": s.label, "n": n, "ap_mean": mean, "ap_std": std,
                         "paper_ap": s.paper_ap})
    out = pd.DataFrame(rows, columns=["step", "label", "n", "ap_mean", "ap_std", "paper_ap"])
    out["gain"] = out["ap_mean"].diff()
    out["paper_gain"] = out["paper_ap"].diff()
    se = np.sqrt(out["ap_std"] ** 2 / out["n"] + (out["ap_std"] ** 2 / out["n"]).shift(1))
    out["gain_se"] = se
    out["significant"] = (out["gain"].abs() > 2 * se).where(se.notna(), False).astype(bool)
    return out


def sweep_summary(results_root: str | Path, kind: str) -> pd.DataFrame:
    """Table 2 (``kind="kernel"``) or Table 3 (``kind="temperature"``) from the ``train_step`` runs of
    the final architecture (roadmap runs of that step are reused as the sweep's default point)."""
    if kind not in ("kernel", "temperature"):
        raise ValueError(f"kind must be 'kernel' or 'temperature', got {kind!r}")
    runs = _runs(results_root, "train_step")
    base = for_step(SWEEP_BASE_STEP)
    if len(runs):
        runs = runs[runs["step"] == SWEEP_BASE_STEP]
        fixed = ("inv_temperature", base.loss.beta) if kind == "kernel" else ("kernel_size", base.model.final_kernel_size)
        runs = runs[runs[fixed[0]] == fixed[1]]
    x = "kernel_size" if kind == "kernel" else "inv_temperature"
    rows = []
    for value, g in (runs.groupby(x) if len(runs) else []):
        mean, std, n = _mean_std(g["AP"])
        row = f"{int(value)}x{int(value)}" if kind == "kernel" else f"{value:g}"
        rows.append({"row": row, x: value, "n": n, "ap_mean": mean, "ap_std": std})
    out = pd.DataFrame(rows, columns=["row", x, "n", "ap_mean", "ap_std"])
    from rtmposelib.suite import paper
    ref = paper.paper_table(2 if kind == "kernel" else 3).iloc[:, 0]
    out["paper"] = [ref.get(r, math.nan) for r in out["row"]]
    return out


def roadmap_metrics(summary: pd.DataFrame) -> dict:
    last = summary.iloc[-1] if len(summary) else None
    return {"steps": int(len(summary)), "seeds": int(summary["n"].max()) if len(summary) else 0,
            "baseline_ap": float(summary["ap_mean"].iloc[0]) if len(summary) else math.nan,
            "final_ap": float(last["ap_mean"]) if last is not None else math.nan,
            "final_ap_std": float(last["ap_std"]) if last is not None else math.nan,
            "significant_steps": int(summary["significant"].sum()) if len(summary) else 0}


def sweep_metrics(kernels: pd.DataFrame, temperatures: pd.DataFrame) -> dict:
    def best(df: pd.DataFrame, col: str) -> float:
        return float(df.loc[df["ap_mean"].idxmax(), col]) if df["ap_mean"].notna().any() else math.nan
    return {"kernel_points": int(len(kernels)), "temperature_points": int(len(temperatures)),
            "best_kernel": best(kernels, "kernel_size"), "best_inv_temperature": best(temperatures, "inv_temperature")}


def explore(results_root: str | Path) -> pd.DataFrame:
    """Every run of one scale (``results_root`` = results/<scale>) as one DataFrame row."""
    root = Path(results_root)
    df = results.load_all(root.parent)
    return df[df["scale"] == root.name].reset_index(drop=True) if len(df) else df
