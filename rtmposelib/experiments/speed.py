"""Speed: Table 11 (CPU latency by the paper's protocol), Table 12 (detector + pose pipeline) and the
Fig. 1 / Fig. 5 points (latency and GFLOPs vs AP of the model family trained with the final recipe).

Latency protocol of the paper (Sec. 4.5): batch 1, one thread, warm-up runs then timed runs, median.
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import pandas as pd

from rtmposelib.experiments.family import family_sizes
from rtmposelib.roadmap import for_step
from rtmposelib.suite.scales import at_scale, get_scale


def latency_frame(scale: str) -> pd.DataFrame:
    """Table 11: ONNX Runtime / PyTorch CPU latency by the paper's protocol, ours beside the paper's."""
    from rtmposelib.export.latency import latency_table
    from rtmposelib.export.quantize import int8_latency

    s = get_scale(scale)
    warmup, runs = s.latency_runs
    table = latency_table([f"rtmpose-{m}" for m in s.model_sizes], runs=runs, warmup=warmup,
                          people=(1,) if s.name == "smoke" else (1, 3, 6))
    # the int8 column: static int8 ONNX against fp32, timed side by side (int8_speedup = fp32 / int8)
    int8 = int8_latency(list(table["preset"]), runs=runs, warmup=warmup, rounds=1 if s.name == "smoke" else 3)
    return table.merge(int8[["preset", "ort_int8_ms", "int8_speedup"]], on="preset", how="left")


def _torch_latency_ms(model, input_size: tuple[int, int], warmup: int, runs: int) -> float:
    """Median ms of one forward pass, batch 1 (the caller sets one thread)."""
    import torch

    from rtmposelib.export.latency import time_runs

    w, h = input_size
    x = torch.randn(1, 3, h, w)
    with torch.inference_mode():
        return float(time_runs(lambda: model(x), runs=runs, warmup=warmup)["median_ms"])


def speed_accuracy_frame(results_root: str | Path, scale: str) -> pd.DataFrame:
    """Fig. 1 / Fig. 5 points: one row per size of the model family trained with the final recipe
    (the ``train_size`` runs under ``results_root``), with its AP (mean, std and n over seeds), params,
    GFLOPs and PyTorch CPU latency (batch 1, one thread, median of the scale's warm-up / timed runs) at
    the scale's crop and at 256x192; the paper's AP, GFLOPs and CPU latency (Table 11, COCO) of the same
    size; and, for the comparison across datasets, each size's latency ratio and AP gain over the
    smallest size, ours beside the paper's."""
    import math

    from rtmposelib.export.complexity import count_flops, count_params
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.suite import paper, results

    root = Path(results_root)
    runs = results.load_all(root.parent) if root.is_dir() else pd.DataFrame()
    if len(runs):
        runs = runs[(runs["scale"] == root.name) & (runs["notebook"] == "train_size")]
    if not len(runs) or "size" not in runs:
        raise FileNotFoundError(f"no train_size runs under {root}; run the suite's train_size entries first")
    ref = paper.paper_table(11)
    warmup, runs_n = get_scale(scale).latency_runs
    from rtmposelib.export.threads import torch_threads

    rows = []
    with torch_threads(1):
        for size in family_sizes(scale):
            part = runs[runs["size"] == size]
            if not len(part):
                continue
            cfg = size_config_for_speed(size, scale)
            model = build_model(cfg.model).eval()
            crop = tuple(cfg.model.input_size)
            model_256 = build_model(replace(cfg.model, input_size=(192, 256))).eval()
            ap = part["AP"].astype(float)
            paper_row = f"COCO / RTMPose-{size}"
            has_ref = paper_row in ref.index
            rows.append({
                "name": f"RTMPose-{size}", "size": size, "n": int(ap.notna().sum()), "ap": float(ap.mean()),
                "ap_std": float(ap.std(ddof=1)) if ap.notna().sum() > 1 else math.nan,
                "params_m": count_params(model) / 1e6, "input": f"{crop[0]}x{crop[1]}",
                "gflops": count_flops(model, crop), "gflops_256x192": count_flops(model_256, (192, 256)),
                "latency_ms": _torch_latency_ms(model, crop, warmup, runs_n),
                "latency_ms_256x192": _torch_latency_ms(model_256, (192, 256), warmup, runs_n),
                "paper_ap": float(ref.loc[paper_row, "AP"]) if has_ref else math.nan,
                "paper_gflops": float(ref.loc[paper_row, "GFLOPs"]) if has_ref else math.nan,
                "paper_cpu_ms": float(ref.loc[paper_row, "CPU(ms)"]) if has_ref else math.nan})
    out = pd.DataFrame(rows)
    if len(out):
        out["latency_ratio"] = out["latency_ms_256x192"] / out["latency_ms_256x192"].iloc[0]
        out["paper_latency_ratio"] = out["paper_cpu_ms"] / out["paper_cpu_ms"].iloc[0]
        out["ap_gain"] = out["ap"] - out["ap"].iloc[0]
        out["paper_ap_gain"] = out["paper_ap"] - out["paper_ap"].iloc[0]
    return out


def size_config_for_speed(size: str, scale: str):
    """The architecture of one family size at ``scale`` (weights do not change speed)."""
    from rtmposelib.experiments.family import FAMILY_STEP, with_model_size

    return with_model_size(at_scale(for_step(FAMILY_STEP), scale), size)


def speed_accuracy_metrics(points: pd.DataFrame) -> dict:
    """Headline numbers of Fig. 1: the number of sizes and each size's AP and latency."""
    out: dict = {"points": int(len(points))}
    for _, r in points.iterrows():
        out[f"ap_{r['size']}"] = float(r["ap"])
        out[f"latency_ms_{r['size']}"] = float(r["latency_ms"])
        out[f"latency_ms_256x192_{r['size']}"] = float(r["latency_ms_256x192"])
    return out


def latency_metrics(table11: pd.DataFrame) -> dict:
    out = {}
    for _, r in table11.iterrows():
        short = str(r["preset"]).replace("rtmpose-", "")
        for col in ("ort_ms", "torch_ms", "ratio_to_t", "peak_share", "ort_int8_ms", "int8_speedup"):
            if col in table11.columns and pd.notna(r[col]):
                out[f"{col.replace('_ms', '')}_ms_{short}" if col.endswith("_ms") else f"{col}_{short}"] = float(r[col])
    return out


def pipeline_latency_frame(scale: str) -> pd.DataFrame:
    """Table 12's CPU column: RTMDet-nano (320x320, :func:`rtmposelib.detect.rtmdet.build_rtmdet_nano`)
    plus one RTMPose crop (256x192) per preset, PyTorch eager, batch 1, one thread, the paper's
    warm-up / timed protocol at this scale; median ms of each part and their sum (one person), beside
    the paper's pipeline CPU(ms) (ONNX Runtime on an i7-11700; compare ratios, not absolute values).
    Weights are random: latency does not depend on them."""
    import torch

    from rtmposelib.config import preset
    from rtmposelib.detect.rtmdet import build_rtmdet_nano
    from rtmposelib.export.latency import time_runs
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.suite import paper

    s = get_scale(scale)
    warmup, runs = s.latency_runs
    ref = paper.paper_table(12)
    from rtmposelib.export.threads import torch_threads

    rows = []
    with torch_threads(1):
        torch.manual_seed(0)
        detector = build_rtmdet_nano().eval()
        det_x = torch.randn(1, 3, 320, 320)
        with torch.inference_mode():
            det_ms = time_runs(lambda: detector(det_x), runs=runs, warmup=warmup)["median_ms"]
        for size in s.model_sizes:
            cfg = preset(f"rtmpose-{size}")
            model = build_model(cfg.model).eval()
            w, h = cfg.model.input_size
            x = torch.randn(1, 3, h, w)
            with torch.inference_mode():
                pose_ms = time_runs(partial(model, x), runs=runs, warmup=warmup)["median_ms"]
            row = f"RTMDet-nano + RTMPose-{size}"
            paper_ms = float(ref.loc[row, "CPU(ms)"]) if row in ref.index else float("nan")
            rows.append({"pipeline": row, "detector": "rtmposelib.detect RTMDet-nano (random weights)",
                         "backend": "torch eager, 1 thread", "det_ms": det_ms, "pose_ms": pose_ms,
                         "total_ms": det_ms + pose_ms, "paper_cpu_ms": paper_ms})
    out = pd.DataFrame(rows)
    if len(out):
        out["ratio_to_t"] = out["total_ms"] / out["total_ms"].iloc[0]
        out["paper_ratio_to_t"] = out["paper_cpu_ms"] / out["paper_cpu_ms"].iloc[0]
    return out


def pipeline_latency_metrics(table12: pd.DataFrame) -> dict:
    """``pipeline_ms_<size>`` and ``det_ms`` from :func:`pipeline_latency_frame`."""
    out = {f"pipeline_ms_{str(r['pipeline']).rsplit('-', 1)[-1]}": float(r["total_ms"]) for _, r in table12.iterrows()}
    if len(table12):
        out["det_ms"] = float(table12["det_ms"].iloc[0])
    return out
