"""Training throughput of the cpu-scale run, data included: crops/s before and after the speed settings.

The configuration is the roadmap's "+ 420 epochs" step at cpu scale (RTMPose-t, 96x128, batch 16, real
SynthPose through the real DataLoader, with the scale's loader workers) trained by ``rtmposelib.train.loop.fit``
itself for ``--iters`` iterations. Three settings alternate in every round, so that load from other
processes on a shared machine hits them alike:

- ``before``: float32, contiguous layout, the for-loop AdamW, denormals not flushed, no image cache,
  loader workers restarted every epoch (the settings before the speed work);
- ``after``: the defaults (channels_last, fused AdamW, flushed denormals, decoded-image cache,
  persistent workers), float32;
- ``after+bf16``: the same with bfloat16 autocast (only on CPUs with AVX512-BF16 or AMX).

crops/s = crops / wall time of the iterations after the first ``--skip`` (the loop's own per-iteration
timing: loading, step and EMA). The ratio of medians over rounds is printed.

    python benchmarks/bench_train_throughput.py [--iters 290] [--rounds 3] [--threads 1] [--workers N]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace

import numpy as np
import torch
from tqdm import tqdm

from rtmposelib.config import RunConfig
from rtmposelib.roadmap import for_step
from rtmposelib.suite.scales import at_scale
from rtmposelib.train.loop import fit
from rtmposelib.train.speed import cpu_has_bf16


def cpu_scale_config(workers: int | None) -> RunConfig:
    """The "+ 420 epochs" roadmap step at cpu scale (no validation inside the timed iterations)."""
    cfg = at_scale(for_step("more_epochs"), "cpu")
    # random init (the same step cost as the stand-in's); validation only after the timed iterations
    cfg = replace(cfg, train=replace(cfg.train, init_backbone=None, val_interval=cfg.train.epochs))
    if workers is not None:
        cfg = replace(cfg, data=replace(cfg.data, num_workers=workers))
    return cfg


def settings(cfg: RunConfig) -> dict[str, RunConfig]:
    before = replace(cfg, train=replace(cfg.train, channels_last=False, bf16=False, optimizer_impl="for_loop",
                                        flush_denormal=False),
                     data=replace(cfg.data, image_cache_mb=0, persistent_workers=False))
    after = replace(cfg, train=replace(cfg.train, channels_last=True, bf16=False, optimizer_impl="fused",
                                       flush_denormal=True),
                    data=replace(cfg.data, image_cache_mb=1024, persistent_workers=True))
    out = {"before": before, "after": after}
    if cpu_has_bf16():
        out["after+bf16"] = replace(after, train=replace(after.train, bf16=True))
    return out


def crops_per_s(cfg: RunConfig, iters: int, skip: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        history = fit(cfg, out_dir=out, max_iters=iters, progress=False).history
    timed = history.iloc[skip:]
    seconds = (cfg.train.batch_size / timed["images_per_s"]).sum()
    return cfg.train.batch_size * len(timed) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=290,
                        help="training iterations per run (about the whole run: 4 epochs)")
    parser.add_argument("--skip", type=int, default=5, help="first iterations left out of the timing")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are compared")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (cpu scale: one per job)")
    parser.add_argument("--workers", type=int, default=None, help="loader workers (default: the scale's)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = cpu_scale_config(args.workers)
    runs = settings(cfg)
    speeds: dict[str, list[float]] = {name: [] for name in runs}
    start = time.perf_counter()
    # one step per training run, on stderr and only on a terminal: stdout stays as it is
    bar = tqdm(total=args.rounds * len(runs), desc="runs", file=sys.stderr, disable=None, leave=False)
    for r in range(args.rounds):
        for name, run_cfg in runs.items():
            bar.set_postfix_str(f"round {r + 1}, {name}")
            speeds[name].append(crops_per_s(run_cfg, args.iters, args.skip))
            bar.update()
        with tqdm.external_write_mode(file=sys.stdout):
            print(f"# round {r + 1}: " + ", ".join(f"{n} {v[-1]:.1f}" for n, v in speeds.items()), flush=True)
    bar.close()
    med = {name: float(np.median(v)) for name, v in speeds.items()}
    print(f"Training throughput, cpu scale '+ 420 epochs' (RTMPose-t 96x128, batch {cfg.train.batch_size}, "
          f"{cfg.data.source}, {cfg.data.num_workers} loader workers), {args.threads} thread(s), "
          f"{args.iters} iterations per run ({args.skip} untimed), median of {args.rounds} alternating rounds; "
          f"torch {torch.__version__}, {os.cpu_count()} CPUs, bf16 native: {cpu_has_bf16()}; "
          f"{time.perf_counter() - start:.0f} s")
    print(f"{'setting':<12}{'crops/s':>9}{'vs before':>11}   rounds")
    for name, value in med.items():
        print(f"{name:<12}{value:>9.1f}{value / med['before']:>11.2f}   "
              + " ".join(f"{v:.1f}" for v in speeds[name]))


if __name__ == "__main__":
    main()
