"""``rtmpose bench``: latency of model-zoo presets by the paper's protocol, beside Table 11.

Batch 1, 1 intra-op thread, ``--warmup`` untimed then ``--runs`` timed runs (paper: 50 / 200), median
and p90 ms; model-only and end to end for 1, 3, 6 people; ONNX Runtime and PyTorch eager
(:mod:`rtmposelib.export.latency`). Weights are random: latency does not depend on them.

    rtmpose bench --presets t,s,m,l [--runs 200 --warmup 50] [--backends ort,torch] [--csv out.csv]

``--int8`` adds ONNX Runtime fp32 against static int8 (:mod:`rtmposelib.export.quantize`), timed side by side.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def _csv_list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--presets", type=_csv_list, default=["t", "s", "m", "l"],
                        help="comma-separated presets; 't' is short for 'rtmpose-t'; zoo:NAME times its "
                             "architecture")
    parser.add_argument("--runs", type=int, default=200, help="timed runs (paper: 200)")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up runs (paper: 50)")
    parser.add_argument("--backends", type=_csv_list, default=["ort", "torch"], help="ort,torch")
    parser.add_argument("--people", type=lambda s: [int(v) for v in _csv_list(s)], default=[1, 3, 6],
                        help="people per image for the end-to-end timing")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads (paper: 1)")
    parser.add_argument("--csv", help="also write every record (with the machine fingerprint) here")
    parser.add_argument("--int8", action="store_true",
                        help="also time each preset's int8 ONNX file against its fp32 file, alternating")


def format_table(table: pd.DataFrame) -> str:
    """Table 11 as plain text: ours beside the paper's CPU column, and both sets of ratios to t."""
    cols = [c for c in ("preset", "gmacs", "ort_ms", "ort_p90_ms", "torch_ms", "paper_cpu_ms",
                        "ratio_to_t", "paper_ratio_to_t", "peak_share", "ort_e2e_1p_ms",
                        "ort_e2e_3p_ms", "ort_e2e_6p_ms", "gpu_ms", "paper_gpu_ms") if c in table]
    return table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}")


def run(args: argparse.Namespace) -> int:
    from rtmposelib.config import PRESETS
    from rtmposelib.export.gemm_probe import gemm_peak
    from rtmposelib.export.latency import measure_latency, table11
    from rtmposelib.zoo.download import is_zoo, parse
    from rtmposelib.zoo.registry import pose_run_config

    # a zoo name times its architecture: latency does not depend on the weights, so nothing is downloaded
    names = [pose_run_config(parse(p)[0]).name if is_zoo(p) else p if p.startswith("rtmpose") else f"rtmpose-{p}"
             for p in args.presets]
    unknown = [n for n in names if n not in PRESETS]
    if unknown:
        raise ValueError(f"unknown presets {unknown}; choose from {sorted(PRESETS)}")
    peak = gemm_peak(threads=args.threads)
    records = measure_latency(names, backends=tuple(args.backends), people=tuple(args.people),
                              runs=args.runs, warmup=args.warmup, threads=args.threads,
                              peak_gflops=peak["peak_gflops"])
    fp = records.iloc[0]
    print(f"machine: {fp['cpu_model']}, {fp['logical_cores']} logical cores, {fp['os']}; torch "
          f"{fp['torch']}, onnxruntime {fp['onnxruntime']}; {args.threads} thread(s), "
          f"{args.warmup} warm-up + {args.runs} timed runs")
    print(f"GEMM peak FP32 ({args.threads} thread): torch {peak['torch_gflops']:.1f} GFLOP/s, numpy "
          f"{peak['numpy_gflops']:.1f} GFLOP/s")
    print(format_table(table11(records)))
    if args.int8:
        from rtmposelib.export.quantize import int8_latency
        int8 = int8_latency(names, runs=args.runs, warmup=args.warmup, threads=args.threads)
        print("ONNX Runtime fp32 vs int8 (static QDQ, per-channel; fp32 and int8 alternating):")
        print(int8.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.csv:
        Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
        records.to_csv(args.csv, index=False)
        print(f"records: {args.csv}")
    return 0
