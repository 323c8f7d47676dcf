"""Speed: Table 11 (CPU latency by the paper's protocol), Table 12 (detector + pose pipeline) and the
Fig. 1 / Fig. 5 points (latency and GFLOPs vs AP per roadmap step).

Latency protocol of the paper (Sec. 4.5): batch 1, one thread, warm-up runs then timed runs, median.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from rtmposelib.experiments.summaries import roadmap_summary
from rtmposelib.roadmap import for_step
from rtmposelib.suite.scales import at_scale, get_scale


def latency_frame(scale: str) -> pd.DataFrame:
    """Table 11: ONNX Runtime / PyTorch CPU latency by the paper's protocol, ours beside the paper's."""
    from rtmposelib.export.latency import latency_table

    s = get_scale(scale)
    warmup, runs = s.latency_runs
    return latency_table([f"rtmpose-{m}" for m in s.model_sizes], runs=runs, warmup=warmup,
                         people=(1,) if s.name == "smoke" else (1, 3, 6))


def speed_accuracy_frame(results_root: str | Path, scale: str) -> pd.DataFrame:
    """Fig. 1 / Fig. 5 points from our roadmap: per step, its model's GFLOPs, params, PyTorch CPU
    latency (batch 1, one thread, the paper's warm-up / timed protocol at this scale) and AP (mean)."""
    import torch

    from rtmposelib.export.complexity import count_flops, count_params
    from rtmposelib.export.latency import time_runs
    from rtmposelib.models.pose_model import build_model

    summary = roadmap_summary(results_root)
    warmup, runs = get_scale(scale).latency_runs
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
        for _, r in summary.iterrows():
            cfg = at_scale(for_step(r["step"]), scale)       # the architecture only: weights do not change speed
            model = build_model(cfg.model).eval()
            w, h = cfg.model.input_size
            x = torch.randn(1, 3, h, w)
            with torch.inference_mode():
                t = time_runs(lambda: model(x), runs=runs, warmup=warmup)
            rows.append({"name": r["step"], "label": r["label"], "gflops": count_flops(model, (w, h)),
                         "params_m": count_params(model) / 1e6, "latency_ms": t["median_ms"],
                         "ap": r["ap_mean"], "ap_std": r["ap_std"]})
    finally:
        torch.set_num_threads(threads)
    return pd.DataFrame(rows)


def latency_metrics(table11: pd.DataFrame) -> dict:
    out = {}
    for _, r in table11.iterrows():
        short = str(r["preset"]).replace("rtmpose-", "")
        for col in ("ort_ms", "torch_ms", "ratio_to_t", "peak_share"):
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
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
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
                pose_ms = time_runs(lambda model=model, x=x: model(x), runs=runs, warmup=warmup)["median_ms"]
            row = f"RTMDet-nano + RTMPose-{size}"
            paper_ms = float(ref.loc[row, "CPU(ms)"]) if row in ref.index else float("nan")
            rows.append({"pipeline": row, "detector": "rtmposelib.detect RTMDet-nano (random weights)",
                         "backend": "torch eager, 1 thread", "det_ms": det_ms, "pose_ms": pose_ms,
                         "total_ms": det_ms + pose_ms, "paper_cpu_ms": paper_ms})
    finally:
        torch.set_num_threads(threads)
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
