"""The state of one training run: what a checkpoint must hold to continue exactly
(docs/official-behaviour.md "Training recipe").

MMEngine's checkpoints hold model, optimiser, schedulers, EMA ("ema_state_dict") and the loop
position ("meta": epoch, iter); RNG states it re-seeds instead. Ours hold the same plus the RNG states
(python, numpy, torch), the per-iteration history and the best validation so far, so that resuming
from ``last.pth`` reproduces an uninterrupted CPU run bit-for-bit. The lr schedule has no state of its
own: it is a pure function of the iteration (:mod:`rtmposelib.train.schedule`).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import torch
from torch import nn

from rtmposelib.config import AugmentConfig, RunConfig
from rtmposelib.train import distributed as D
from rtmposelib.train.checkpoint import atomic_save, restore_rng, rng_state
from rtmposelib.train.ema import ExpMomentumEMA
from rtmposelib.train.optim import set_implementation


def _config_json(cfg: RunConfig) -> str:
    return json.dumps(asdict(cfg), sort_keys=True, default=str)


class TrainingSet(Protocol):
    """A training dataset whose augmentation stage and random stream the loop switches
    (:class:`~rtmposelib.data.coco.TopdownDataset`, :class:`~rtmposelib.data.combined.CombinedDataset`)."""

    def __len__(self) -> int: ...

    def set_augment(self, augment: AugmentConfig | None) -> None: ...

    def set_epoch(self, epoch: int) -> None: ...


@dataclass
class TrainState:
    """Everything a run changes as it trains, and how it is saved and restored."""

    cfg: RunConfig
    info: D.DistInfo
    out_dir: Path
    model: nn.Module                      # the plain model (optimiser and EMA point at it)
    ddp_model: nn.Module                  # the model the forward runs through (DDP wrapper or the model)
    loss_fn: nn.Module
    optimizer: torch.optim.Optimizer
    ema: ExpMomentumEMA | None
    train_set: TrainingSet
    val_set: object
    iters_per_epoch: int
    total_iters: int
    iteration: int = 0                    # optimiser steps done in this run
    history: list[dict] = field(default_factory=list)
    best: dict = field(default_factory=dict)      # {"AP": ..., "epoch": ..., "iteration": ...}
    last_val: dict = field(default_factory=dict)

    @property
    def eval_model(self) -> nn.Module:
        """Validation and best.pth use the EMA weights when EMA is on (MMEngine EMAHook)."""
        return self.ema.module if self.ema is not None else self.model

    def checkpoint(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "ema": self.ema.state_dict() if self.ema is not None else None,
                "position": {"iteration": self.iteration, "iters_per_epoch": self.iters_per_epoch,
                             "total_iters": self.total_iters,
                             "epoch": self.iteration // self.iters_per_epoch},
                "rng": rng_state(), "config": _config_json(self.cfg), "history": self.history,
                "best": self.best, "last_val": self.last_val}

    def load(self, ckpt: dict) -> None:
        """Continue from a checkpoint of the same config (anything else would not resume exactly)."""
        if ckpt["config"] != _config_json(self.cfg):
            saved, now = json.loads(ckpt["config"]), json.loads(_config_json(self.cfg))
            diff = sorted(k for k in now if saved.get(k) != now[k])
            raise ValueError(f"cannot resume {self.out_dir / 'last.pth'}: it was written with a different "
                             f"config (sections differing: {diff})")
        pos = ckpt["position"]
        if pos["iters_per_epoch"] != self.iters_per_epoch:
            raise ValueError(f"cannot resume {self.out_dir / 'last.pth'}: {pos['iters_per_epoch']} iterations "
                             f"per epoch then, {self.iters_per_epoch} now (dataset, batch or world size changed)")
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        set_implementation(self.optimizer, self.cfg.train)
        if self.ema is not None:
            self.ema.load_state_dict(ckpt["ema"])
        self.iteration = int(pos["iteration"])
        self.history = list(ckpt["history"])
        self.best, self.last_val = dict(ckpt["best"]), dict(ckpt["last_val"])
        restore_rng(ckpt["rng"])

    def save_last(self) -> None:
        """Write ``last.pth`` atomically, and the history so far (rank 0 only)."""
        if self.info.is_main:
            atomic_save(self.checkpoint(), self.out_dir / "last.pth")
            self.write_history()

    def record_validation(self, metrics: dict, epoch: int) -> None:
        """Attach ``metrics`` to the current history row; keep ``best.pth`` when AP improved."""
        self.last_val = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float, np.floating))}
        if self.history:
            self.history[-1].update({f"val_{k}": v for k, v in self.last_val.items()})
        ap = self.last_val.get("AP", float("nan"))
        if math.isfinite(ap) and ap > self.best.get("AP", -math.inf):
            self.best = {"AP": ap, "epoch": epoch, "iteration": self.iteration}
            if self.info.is_main:
                atomic_save({"model": self.eval_model.state_dict(), "config": _config_json(self.cfg),
                             "epoch": epoch, "iteration": self.iteration, "metrics": self.last_val},
                            self.out_dir / "best.pth")

    def write_history(self) -> None:
        if self.info.is_main and self.history:
            tmp = self.out_dir / "history.csv.tmp"
            pd.DataFrame(self.history).to_csv(tmp, index=False)
            tmp.replace(self.out_dir / "history.csv")

    def final_metrics(self) -> dict:
        rows = self.history
        speeds = [r["images_per_s"] for r in rows if math.isfinite(r.get("images_per_s", math.nan))]
        return {"iterations": self.iteration, "total_iters": self.total_iters,
                "epochs_done": self.iteration / self.iters_per_epoch,
                "final_loss": rows[-1]["loss"] if rows else None,
                "images_per_s_median": float(np.median(speeds)) if speeds else None,
                "val": self.last_val, "best": self.best}
