"""Table 11 on this machine: ONNX Runtime latency of RTMPose-t/s/m/l by the paper's protocol.

Prints, from one run: ORT model-only median/p90 ms (batch 1, 1 thread, 50 warm-up + 200 timed runs)
for t/s/m/l, our ratios to t beside the paper's (3.204 / 4.481 / 11.060 / 18.847 ms on an i7-11700),
PyTorch eager measured in the same run as the reference backend (torch / ORT), the single-person
end-to-end time, and each model's achieved FLOP/s as a share of this core's GEMM peak.

    python benchmarks/bench_latency.py [--runs 200 --warmup 50 --presets t,s,m,l --csv out.csv]
"""
from __future__ import annotations

import argparse
import sys

from rtmposelib.export.bench_command import format_table
from rtmposelib.export.gemm_probe import gemm_peak
from rtmposelib.export.latency import measure_latency, table11


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--presets", default="t,s,m,l")
    parser.add_argument("--csv", help="write every record (with the machine fingerprint) here")
    args = parser.parse_args(argv)
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]

    peak = gemm_peak(threads=1)
    records = measure_latency(presets, backends=("ort", "torch"), people=(1,), runs=args.runs,
                              warmup=args.warmup, threads=1, peak_gflops=peak["peak_gflops"])
    table = table11(records)
    fp = records.iloc[0]
    print(f"# {fp['cpu_model']} ({fp['logical_cores']} logical cores), torch {fp['torch']}, "
          f"onnxruntime {fp['onnxruntime']}; batch 1, 1 thread, {args.warmup} warm-up + {args.runs} runs")
    print(f"# GEMM peak FP32, 1 thread: torch {peak['torch_gflops']:.1f}, numpy "
          f"{peak['numpy_gflops']:.1f} GFLOP/s (peak_share uses the larger)")
    print(format_table(table))
    if "torch_ms" in table and "ort_ms" in table:
        for _, row in table.iterrows():
            print(f"# {row['preset']}: torch eager / ORT = {row['torch_ms'] / row['ort_ms']:.2f}x; "
                  f"ours / paper = {row['ort_ms'] / row['paper_cpu_ms']:.2f}x")
    if args.csv:
        records.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
