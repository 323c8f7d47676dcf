"""The training loop: RTMPose's recipe end to end (paper Sec. 3.2 and Table 7;
docs/official-behaviour.md "Training recipe").

One ``fit(cfg)`` runs every training of the suite: the SimCC models, the heatmap (UDP) pre-training
of the backbone (``cfg.model.head == "heatmap"`` with the UDP codec and MSE loss), and the fine-tune
initialised from it (``cfg.train.init_backbone``). Per iteration: lr from the schedule, forward, loss,
a stop on a NaN/Inf loss, backward, optional gradient clipping, AdamW step, EMA update. Per epoch: the
stage-2 (weak) pipeline for the last ``stage2_epochs`` epochs (MMDetection's ``PipelineSwitchHook``),
a checkpoint, and every ``val_interval`` epochs a COCO AP validation with the EMA weights when EMA is
on (as MMEngine's ``EMAHook``), keeping ``best.pth``.

Files in ``out_dir`` (rank 0 only): ``train_record.json`` (the config, effective batch, lr rule,
schedule lengths, skipped instances; not the suite's ``config.json``), ``history.csv`` (one row per
iteration: epoch, iteration, loss, lr, images/s; validation columns on the rows where it ran),
``last.pth`` (training state, atomic), ``best.pth`` (evaluation weights and their metrics),
``metrics.json``.

Determinism: the model is built after seeding with ``cfg.train.seed``; the sampler permutation is a
function of (seed, epoch); augmentation randomness is the dataset's, a function of (seed, epoch, index):
each sampled index carries its epoch and stage, so loader workers that persist across epochs draw the
same crops as the main process would; CPU runs use deterministic algorithms. A resumed run therefore
continues bit-for-bit on CPU.

Speed (:mod:`rtmposelib.train.speed`, the ``TrainConfig`` speed fields): denormals are flushed while
training, model and input are channels-last, AdamW runs its fused kernel, the forward may run under
bfloat16 autocast on CPUs that support it, and the loop never waits for the loss inside a step: the
per-iteration losses stay tensors and are read every ``LOG_EVERY`` iterations and before every
checkpoint and validation, which is also where a NaN/Inf loss is caught and named.
"""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from rtmposelib import losses
from rtmposelib.config import RunConfig
from rtmposelib.data.augment import set_worker_threads
from rtmposelib.data.sources import build_datasets
from rtmposelib.eval.evaluate import evaluate
from rtmposelib.models.pose_model import build_model
from rtmposelib.train import distributed as D
from rtmposelib.train.checkpoint import load_backbone_into, load_training_state
from rtmposelib.train.ema import ExpMomentumEMA
from rtmposelib.train.interrupt import StopSignal, TrainingInterrupted
from rtmposelib.train.optim import build_optimizer
from rtmposelib.train.schedule import effective_warmup, lr_at, set_lr
from rtmposelib.train.speed import (
    check_bf16,
    float_outputs,
    flushing_denormals,
    forward_context,
    prepare_images,
    prepare_model,
)
from rtmposelib.train.state import TrainState

TARGET_KEYS = ("target_x", "target_y", "heatmaps", "weights")   # the codecs' encode keys
LR_SCALING = "none: lr = base_lr whatever the batch (official; MMEngine auto_scale_lr, base 1024, is off)"
TRAIN_RECORD = "train_record.json"                                  # the run record in out_dir
LOG_EVERY = 20                                                       # iterations between reads of the loss


@dataclass
class TrainResult:
    """What :func:`fit` returns. ``model`` is the live model; ``ema_model`` the averaged one (or None)."""

    model: nn.Module
    ema_model: nn.Module | None
    out_dir: Path
    metrics: dict
    history: pd.DataFrame

    @property
    def eval_model(self) -> nn.Module:
        """The weights validation uses: EMA when on, as the official code."""
        return self.ema_model if self.ema_model is not None else self.model


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _seed_worker(worker_id: int) -> None:
    seed = torch.initial_seed() % 2**32                  # distinct per worker, fixed by the loader's generator
    np.random.seed(seed)
    random.seed(seed)


class _EpochSampler(Sampler):
    """This rank's indices of the current epoch (:meth:`set_epoch`), each as (index, epoch, stage 2)."""

    def __init__(self, dataset, *, cfg: RunConfig, info: D.DistInfo) -> None:
        self.dataset, self.cfg, self.info = dataset, cfg, info
        self.items: list[tuple[int, int, bool]] = []

    def set_epoch(self, epoch: int, *, start: int, stage2: bool) -> None:
        """Epoch ``epoch`` from its ``start``-th batch (the earlier ones are already trained)."""
        indices = D.ResumableSampler(self.dataset, epoch=epoch, seed=self.cfg.train.seed, info=self.info,
                                     start=start * self.cfg.train.batch_size).indices
        self.items = [(int(i), epoch, stage2) for i in indices]

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class _EpochTagged(Dataset):
    """The training set seen through (index, epoch, stage 2) keys: switches its copy's epoch and pipeline."""

    def __init__(self, dataset, cfg: RunConfig) -> None:
        self.dataset, self.cfg = dataset, cfg
        self.at: tuple[int, bool] | None = None

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int, bool]) -> dict:
        index, epoch, stage2 = key
        if self.at != (epoch, stage2):
            self.dataset.set_augment(self.cfg.aug_stage2 if stage2 else self.cfg.aug_stage1)
            self.dataset.set_epoch(epoch)
            self.at = (epoch, stage2)
        return self.dataset[index]


def _loader(dataset, sampler: _EpochSampler, *, cfg: RunConfig, info: D.DistInfo) -> DataLoader:
    """The run's loader of this rank; ``sampler.set_epoch`` selects what the next pass yields."""
    bs = cfg.train.batch_size
    generator = torch.Generator().manual_seed(cfg.train.seed * 100_003 + info.rank)
    workers = cfg.data.num_workers
    if workers > 0:
        # OpenCV on one thread in every worker. Set before the workers fork: calling cv2.setNumThreads inside
        # a forked worker, after the parent used OpenCV's pool, can deadlock.
        set_worker_threads(1)
    dataset = _EpochTagged(dataset, cfg)
    return DataLoader(dataset, batch_size=bs, sampler=sampler, drop_last=cfg.train.drop_last, num_workers=workers,
                      worker_init_fn=_seed_worker, generator=generator, pin_memory=info.device.type == "cuda",
                      persistent_workers=workers > 0 and cfg.data.persistent_workers)


def _build(cfg: RunConfig, info: D.DistInfo):
    """Datasets, model (backbone from ``init_backbone`` if set), loss, optimiser and EMA of ``cfg``."""
    train_set, val_set = build_datasets(cfg)
    model = build_model(cfg.model)
    init = cfg.train.init_backbone
    if init == "heatmap":
        raise ValueError("train.init_backbone is the placeholder 'heatmap': run the heatmap pre-training "
                         "first and pass its checkpoint path (last.pth, best.pth or a save_backbone file)")
    if init:
        load_backbone_into(model, init)
    check_bf16(cfg.train, info.device)
    prepare_model(model.to(info.device), cfg.train)
    optimizer = build_optimizer(model, cfg.train)
    ema = ExpMomentumEMA(model, momentum=cfg.train.ema_momentum, gamma=cfg.train.ema_gamma) \
        if cfg.train.ema else None
    return train_set, val_set, model, losses.build_loss(cfg.loss).to(info.device), optimizer, ema


def _validate(eval_model: nn.Module, cfg: RunConfig, info: D.DistInfo, datasets: tuple) -> dict:
    """COCO keypoint metrics of ``eval_model`` on the val split (the official protocol)."""
    return evaluate(eval_model, cfg, split="val", device=str(info.device), datasets=datasets)


def _run_record(cfg: RunConfig, info: D.DistInfo, iters_per_epoch: int, total_iters: int, train_set,
                val_set=None) -> dict:
    return {"config": asdict(cfg), "world_size": info.world_size, "train_instances": len(train_set),
            "train_skipped": dict(getattr(train_set, "skipped", {})),
            "val_skipped": dict(getattr(val_set, "skipped", {})),
            "effective_batch": cfg.train.batch_size * info.world_size, "lr": cfg.train.base_lr,
            "lr_scaling": LR_SCALING, "iters_per_epoch": iters_per_epoch, "total_iters": total_iters,
            "warmup_iters": effective_warmup(cfg.train.warmup_iters, total_iters),
            "device": str(info.device), "torch": torch.__version__}


def _write_json(obj: dict, path: Path) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str))
    tmp.replace(path)


def fit(cfg: RunConfig, *, out_dir, resume: bool = False, device=None, max_iters: int | None = None,
        progress: bool = True) -> TrainResult:
    """Train ``cfg`` and write the run into ``out_dir``.

    resume: continue from ``out_dir/last.pth`` when it exists (exactly, on CPU). max_iters: stop (with a
    checkpoint, without the final validation) once this many iterations of the run are done; a later
    ``resume=True`` call continues. A SIGINT/SIGTERM finishes the current step, saves ``last.pth`` and
    raises :class:`TrainingInterrupted`. A NaN/Inf loss raises ``FloatingPointError`` naming the epoch
    and iteration; ``last.pth`` keeps the last good epoch.
    """
    out_dir = Path(out_dir)
    info = D.init_distributed(device)
    if info.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    deterministic_before = torch.are_deterministic_algorithms_enabled()
    if info.device.type == "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with flushing_denormals(cfg.train.flush_denormal):
            return _fit(cfg, out_dir, info, resume, max_iters, progress)
    finally:
        torch.use_deterministic_algorithms(deterministic_before)
        D.cleanup(info)


def _fit(cfg: RunConfig, out_dir: Path, info: D.DistInfo, resume: bool, max_iters: int | None,
         progress: bool) -> TrainResult:
    seed_everything(cfg.train.seed)
    train_set, val_set, model, loss_fn, optimizer, ema = _build(cfg, info)
    iters_per_epoch = D.iters_per_epoch(len(train_set), cfg.train.batch_size, info.world_size,
                                        drop_last=cfg.train.drop_last)
    if D.per_rank_length(len(train_set), info) < cfg.train.batch_size:     # not even one whole batch
        raise ValueError(f"the training set has {len(train_set)} instances, fewer than one batch of "
                         f"{cfg.train.batch_size} per process ({info.world_size} processes); pass a smaller batch size "
                         f"(rtmpose train --batch-size, e.g. 16 on SynthPose smoke)")
    total_iters = cfg.train.epochs * iters_per_epoch
    state = TrainState(cfg=cfg, info=info, out_dir=out_dir, model=model, ddp_model=D.wrap_model(model, info),
                       loss_fn=loss_fn, optimizer=optimizer, ema=ema, train_set=train_set,
                       iters_per_epoch=iters_per_epoch, total_iters=total_iters, val_set=val_set)
    if resume and (out_dir / "last.pth").is_file():
        state.load(load_training_state(out_dir / "last.pth"))
    elif info.is_main:
        _write_json(_run_record(cfg, info, iters_per_epoch, total_iters, train_set, val_set),
                    out_dir / TRAIN_RECORD)
    stop_at = total_iters if max_iters is None else min(total_iters, max_iters)
    with StopSignal() as stop:
        _run(state, stop_at=stop_at, stop=stop, progress=progress)
    metrics = state.final_metrics()
    if info.is_main and state.iteration == total_iters:
        _write_json(metrics, out_dir / "metrics.json")
    return TrainResult(model=model, ema_model=ema.module if ema else None, out_dir=out_dir,
                       metrics=metrics, history=pd.DataFrame(state.history))


def optimisation_step(model: nn.Module, forward_model: nn.Module, loss_fn: nn.Module,
                      optimizer: torch.optim.Optimizer, images: torch.Tensor, targets: dict, *, cfg: RunConfig,
                      scaler) -> torch.Tensor:
    """Forward (through ``forward_model``, e.g. a DDP wrapper of ``model``), float32 loss, backward, optional
    gradient clipping and the AdamW step. Returns the detached loss without reading it on the host."""
    images = prepare_images(images, cfg.train)                          # (B, 3, H, W) normalised RGB
    with forward_context(cfg.train, images.device):
        outputs = forward_model(images)
    loss = loss_fn(float_outputs(outputs), targets)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if cfg.train.clip_grad:
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=cfg.train.clip_grad, norm_type=2.0)
    scaler.step(optimizer)
    scaler.update()
    return loss.detach()


def _step(state: TrainState, batch: dict, lr: float, scaler, amp: bool, epoch: int) -> torch.Tensor:
    """One optimiser step on ``batch`` and the EMA update; returns the loss as a tensor (see :class:`_Losses`)."""
    device = state.info.device
    set_lr(state.optimizer, lr)
    images = batch["image"].to(device, non_blocking=True)
    targets = {k: batch[k].to(device, non_blocking=True) for k in TARGET_KEYS if k in batch}
    loss = optimisation_step(state.model, state.ddp_model, state.loss_fn, state.optimizer, images, targets,
                             cfg=state.cfg, scaler=scaler)
    D.sync_buffers(state.model, state.info)                               # rank 0's BN statistics
    if state.ema is not None:
        state.ema.update(state.model)
    state.iteration += 1
    return loss


class _Losses:
    """The losses of the iterations since the last read, as tensors beside their history rows.

    :meth:`read` averages them over the processes, writes them into the rows and raises
    ``FloatingPointError`` naming the epoch and iteration of the first non-finite one.
    """

    def __init__(self, state: TrainState) -> None:
        self.state = state
        self.pending: list[tuple[dict, torch.Tensor]] = []

    def add(self, row: dict, loss: torch.Tensor) -> None:
        self.pending.append((row, loss))

    def read(self) -> float | None:
        """The latest loss (None when nothing is pending), after filling and checking the pending rows."""
        if not self.pending:
            return None
        info = self.state.info
        values = torch.stack([loss.reshape(()) for _, loss in self.pending]).to(torch.float64)
        if info.distributed:
            dist.all_reduce(values)
            values = values / info.world_size
        rows, self.pending = [row for row, _ in self.pending], []
        for row, value in zip(rows, values.tolist()):
            if not math.isfinite(value):
                last = self.state.out_dir / "last.pth"
                kept = f"{last} keeps the last good epoch" if last.is_file() else "no checkpoint was written yet"
                raise FloatingPointError(
                    f"non-finite loss {value} at epoch {row['epoch']}, iteration {row['iteration'] - 1} (0-based, "
                    f"lr {row['lr']:.3g}); training stopped, {kept}")
            row["loss"] = value
        return rows[-1]["loss"]


def _run(state: TrainState, *, stop_at: int, stop: StopSignal, progress: bool) -> None:
    """Train from ``state.iteration`` to ``stop_at``, epoch by epoch (see the module docstring)."""
    from tqdm.auto import tqdm

    cfg, info, ipe = state.cfg, state.info, state.iters_per_epoch
    amp = cfg.train.amp and info.device.type == "cuda"                     # AMP on GPU only
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    bar = tqdm(total=stop_at, initial=state.iteration, disable=not (progress and info.is_main),
               desc=cfg.name, unit="it", dynamic_ncols=True)
    sampler = _EpochSampler(state.train_set, cfg=cfg, info=info)
    loader = _loader(state.train_set, sampler, cfg=cfg, info=info)        # one per run: workers persist
    losses = _Losses(state)
    stopping = False                                                        # a signal reached any rank
    while state.iteration < stop_at:
        epoch, done_in_epoch = divmod(state.iteration, ipe)
        stage2 = cfg.train.stage2_epochs > 0 and epoch >= cfg.train.epochs - cfg.train.stage2_epochs
        state.train_set.set_augment(cfg.aug_stage2 if stage2 else cfg.aug_stage1)
        state.train_set.set_epoch(epoch)
        sampler.set_epoch(epoch, start=done_in_epoch, stage2=stage2)
        state.model.train()
        tick = time.perf_counter()
        for batch in loader:
            lr = lr_at(state.iteration, cfg.train, state.total_iters)
            loss = _step(state, batch, lr, scaler, amp, epoch)
            now = time.perf_counter()
            speed = len(batch["image"]) * info.world_size / max(now - tick, 1e-9)
            tick = now
            row = {"epoch": epoch, "iteration": state.iteration, "loss": math.nan, "lr": lr,
                   "images_per_s": speed, "stage": 2 if stage2 else 1}
            state.history.append(row)
            losses.add(row, loss)
            bar.update(1)
            stopping = D.broadcast_flag(stop.requested is not None, info)
            done = stopping or state.iteration >= stop_at
            if done or state.iteration % LOG_EVERY == 0 or state.iteration % ipe == 0:
                bar.set_postfix(epoch=epoch, loss=f"{losses.read():.4g}", lr=f"{lr:.3g}", img_s=f"{speed:.1f}")
            if done:
                break
        losses.read()                                                       # before any checkpoint
        if state.iteration % ipe == 0:                                      # the epoch is complete
            if (epoch + 1) % cfg.train.val_interval == 0 or state.iteration == state.total_iters:
                if info.is_main:
                    metrics = _validate(state.eval_model, cfg, info, (state.train_set, state.val_set))
                    state.record_validation(metrics, epoch)
                D.barrier(info)
            state.save_last()
        elif state.iteration >= stop_at or stopping:
            state.save_last()                                              # a pause mid-epoch
        if stopping:
            bar.close()
            raise TrainingInterrupted(f"{stop.requested or 'a signal'} received: stopped after iteration "
                                      f"{state.iteration}; {state.out_dir / 'last.pth'} saved, continue with resume")
    bar.close()
    state.write_history()
