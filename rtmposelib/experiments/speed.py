"""Speed: Table 11 (CPU latency by the paper's protocol), Table 12 (detector + pose pipeline) and the
Fig. 1 / Fig. 5 points (latency and GFLOPs vs AP per roadmap step).

Latency protocol of the paper (Sec. 4.5): batch 1, one thread, warm-up runs then timed runs, median.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from rtmposelib.experiments.summaries import roadmap_summary
from rtmposelib.roadmap import for_step
from rtmposelib.scales import at_scale, get_scale


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
