"""Where a suite training run executes: in this process, or under torchrun on several GPUs.

The paper trains on 8 GPUs (``8xb256`` in the official config names: batch 256 per GPU). At paper scale
the suite hands a run to ``torchrun --nproc_per_node=<GPUs> -m rtmposelib.cli train --config run.json``
when more than one GPU is visible (``RTMPOSE_GPUS`` overrides the count), so that each GPU is one
process of DDP (:mod:`rtmposelib.train.distributed`); otherwise, and always at smoke / cpu scale, it
calls :func:`rtmposelib.train.loop.fit` in the notebook's own process. ``torchrun`` is run as
``python -m torch.distributed.run`` of the same Python, which is the same program.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rtmposelib.config import RunConfig

GPUS_ENV = "RTMPOSE_GPUS"


def gpu_count() -> int:
    """GPUs a paper-scale run may use: ``$RTMPOSE_GPUS`` when set, else the visible CUDA devices."""
    value = os.environ.get(GPUS_ENV)
    if value is not None and value.strip() != "":
        if not value.strip().isdigit():
            raise ValueError(f"{GPUS_ENV} must be a whole number of GPUs, got {value!r}")
        return int(value)
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def torchrun_command(config_path: str | Path, out_dir: str | Path, *, nproc: int,
                     max_iters: int | None = None) -> list[str]:
    """The argv of ``torchrun --nproc_per_node=<nproc> -m rtmposelib.cli train --config <config_path>``."""
    if nproc < 1:
        raise ValueError(f"nproc must be >= 1, got {nproc}")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", "rtmposelib.cli", "train", "--config", str(config_path), "--out", str(out_dir), "--no-progress"]
    if max_iters is not None:
        cmd += ["--max-iters", str(int(max_iters))]
    return cmd


@dataclass
class LaunchedRun:
    """What a torchrun-launched run left in its folder: the evaluation weights, metrics and history."""

    eval_model: object
    metrics: dict
    history: pd.DataFrame


def train(cfg: RunConfig, out_dir: str | Path, *, max_iters: int | None = None, distributed: bool = False):
    """Train ``cfg`` into ``out_dir``; returns an object with ``eval_model``, ``metrics``, ``history``
    (a :class:`~rtmposelib.train.loop.TrainResult` in process, a :class:`LaunchedRun` under torchrun).

    distributed: allow torchrun when :func:`gpu_count` > 1 (the suite sets it at paper scale).
    """
    nproc = gpu_count() if distributed else 0
    if nproc <= 1:
        from rtmposelib.train.loop import fit

        return fit(cfg, out_dir=out_dir, max_iters=max_iters, progress=False)
    return _train_torchrun(cfg, Path(out_dir), nproc=nproc, max_iters=max_iters)


def _train_torchrun(cfg: RunConfig, out_dir: Path, *, nproc: int, max_iters: int | None) -> LaunchedRun:
    from rtmposelib.config_io import save_config
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.train.checkpoint import load_pose_weights

    config_path = save_config(cfg, out_dir / "run.json")
    cmd = torchrun_command(config_path, out_dir, nproc=nproc, max_iters=max_iters)
    print("[launch]", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"torchrun training of {cfg.name} exited with code {done.returncode}; "
                           f"see its output above; the run folder is {out_dir}")
    ckpt = out_dir / ("best.pth" if (out_dir / "best.pth").is_file() else "last.pth")
    if not ckpt.is_file():
        raise FileNotFoundError(f"torchrun training of {cfg.name} finished without writing {ckpt}")
    model = load_pose_weights(build_model(cfg.model), ckpt).eval()
    metrics_file, history_file = out_dir / "metrics.json", out_dir / "history.csv"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    history = pd.read_csv(history_file) if history_file.is_file() else pd.DataFrame()
    return LaunchedRun(eval_model=model, metrics=metrics, history=history)
