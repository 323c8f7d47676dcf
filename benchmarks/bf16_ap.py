"""AP of bfloat16 autocast against float32 training, paired by seed, at a suite scale.

Trains one roadmap step at ``--scale`` (default the cpu scale's final step, "+ 420 epochs") once per seed
with ``TrainConfig.bf16`` off and once on (the same seed gives the same initialisation, data order and
augmentation), evaluates each run's validation weights as the loop does, and prints the per-seed AP,
the mean paired difference bf16 - fp32 with its 95 % t-interval, and the wall time of each setting.
bf16 may become a scale's default only if the interval lies within the seed noise of the step.

The cpu scale starts its roadmap runs from the stand-in backbone; pass its checkpoint (the suite's
``pretrain_heatmap`` run, ``last.pth``) with ``--init-backbone``, else the runs start from random weights.

    python benchmarks/bf16_ap.py --init-backbone results/cpu/.../last.pth [--seeds 0,1,2] [--step more_epochs]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace

import numpy as np
import torch
from scipy import stats
from tqdm import tqdm

from rtmposelib.roadmap import STEP_NAMES, for_step
from rtmposelib.suite.scales import SCALES, at_scale
from rtmposelib.train.loop import fit
from rtmposelib.train.speed import cpu_has_bf16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="cpu", choices=sorted(SCALES))
    parser.add_argument("--step", default="more_epochs", choices=STEP_NAMES)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--init-backbone", default=None, help="stand-in backbone checkpoint (else random init)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if not cpu_has_bf16():
        parser.error("this CPU has neither AVX512-BF16 nor AMX: bf16 cannot be measured here")
    torch.set_num_threads(args.threads)
    base = at_scale(for_step(args.step), args.scale)
    ap: dict[str, list[float]] = {"fp32": [], "bf16": []}
    seconds = {"fp32": 0.0, "bf16": 0.0}
    seeds = [int(s) for s in args.seeds.split(",")]
    # one step per training run, on stderr and only on a terminal: stdout stays as it is
    bar = tqdm(total=2 * len(seeds), desc="runs", file=sys.stderr, disable=None, leave=False)
    for seed in seeds:
        for name in ("fp32", "bf16"):                               # alternating, so load hits both alike
            bar.set_postfix_str(f"seed {seed}, {name}")
            cfg = replace(base, train=replace(base.train, seed=seed, bf16=name == "bf16",
                                              init_backbone=args.init_backbone))
            start = time.perf_counter()
            with tempfile.TemporaryDirectory() as out:
                result = fit(cfg, out_dir=out, progress=False)
            seconds[name] += time.perf_counter() - start
            ap[name].append(100 * result.metrics["val"]["AP"])
            bar.update()
            with tqdm.external_write_mode(file=sys.stdout):
                print(f"# seed {seed} {name}: AP {ap[name][-1]:.2f}", flush=True)
    bar.close()
    diff = np.array(ap["bf16"]) - np.array(ap["fp32"])
    n = len(diff)
    half = stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / np.sqrt(n) if n > 1 else float("nan")
    print(f"{args.scale} scale, step {args.step}, seeds {seeds}, "
          f"{'stand-in backbone' if args.init_backbone else 'random init'}")
    print(f"{'seed':<6}{'fp32 AP':>9}{'bf16 AP':>9}{'diff':>8}")
    for s, a, b, d in zip(seeds, ap["fp32"], ap["bf16"], diff):
        print(f"{s:<6}{a:>9.2f}{b:>9.2f}{d:>8.2f}")
    print(f"mean paired difference bf16 - fp32: {diff.mean():+.2f} AP, 95 % t-interval +-{half:.2f}; "
          f"seed sd of fp32 AP {np.std(ap['fp32'], ddof=1) if n > 1 else float('nan'):.2f}; "
          f"wall time fp32 {seconds['fp32']:.0f} s, bf16 {seconds['bf16']:.0f} s")


if __name__ == "__main__":
    main()
