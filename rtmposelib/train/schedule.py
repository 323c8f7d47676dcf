"""RTMPose's learning-rate schedule: linear warm-up, then flat, then cosine (paper Sec. 3.2, Table 7).

Matches the official MMPose configs (``docs/official-behaviour.md``): MMEngine's ``LinearLR`` per
iteration with ``start_factor=1e-5, begin=0, end=1000``, a flat stretch at the base lr, and
``CosineAnnealingLR`` over epochs 210-420 of 420 (``convert_to_iter_based``) down to
``eta_min = 0.05 * base_lr``. The roadmap's "plain cosine" (the SimCC* baseline) anneals over the whole
run instead.

MMEngine's semantics, which the closed forms below reproduce at every iteration ``i`` (0-based, the lr
of the ``i``-th optimiser step):

- ``LinearLR(begin=0, end=W)`` ramps over ``W - 1`` steps: the factor is
  ``s + (1 - s) * i / (W - 1)`` for ``i < W - 1`` and 1 from iteration ``W - 1`` on (full rate at 999
  for ``end=1000``, not at 1000).
- ``CosineAnnealingLR(begin=b, end=e, T_max=e-b)`` converted to iterations is active for ``b <= i < e``
  with ``eta_min + (base - eta_min) * (1 + cos(pi * (i - b) / T_max)) / 2``; with ``b`` and ``e`` the
  halfway point and the end of the run, the last iteration stops one step short of ``eta_min``.

The cosine boundaries are defined as fractions of the run's total iterations, so a 3-epoch smoke run
has the same shape as the 420-epoch paper run. The warm-up is iteration-based as in the official code,
but capped at ``MAX_WARMUP_FRAC`` of the run so that a short run is not all warm-up.
As in MMEngine, where several schedulers are active at once (warm-up overlapping a cosine that starts
at iteration 0) their factors multiply.
"""
from __future__ import annotations

import math

from rtmposelib.config import TrainConfig

MAX_WARMUP_FRAC = 0.1   # a warm-up never takes more than this fraction of the run


def lr_factor(iteration: int, *, total_iters: int, warmup_iters: int, warmup_start_factor: float = 1e-5,
              schedule: str = "flat_cosine", cosine_start_frac: float = 0.5,
              eta_min_ratio: float = 0.05) -> float:
    """The multiplier of the base learning rate at 0-based ``iteration`` of a ``total_iters`` run.

    ``warmup_iters`` is the already-capped warm-up length (see :func:`effective_warmup`), the ``end`` of
    MMEngine's ``LinearLR``: the factor reaches 1 at iteration ``warmup_iters - 1``; 0 or 1 means no
    warm-up.
    """
    if total_iters <= 0:
        raise ValueError(f"total_iters must be positive, got {total_iters}")
    if not 0 <= iteration <= total_iters:
        raise ValueError(f"iteration must be in [0, {total_iters}], got {iteration}")
    if schedule not in ("flat_cosine", "cosine"):
        raise ValueError(f"schedule must be 'flat_cosine' or 'cosine', got {schedule!r}")
    # 1. linear warm-up: start_factor -> 1 over iterations 0 .. warmup_iters - 1 (MMEngine's LinearLR
    #    has total_iters = end - begin - 1, so it is at full rate one iteration before ``end``)
    warm = 1.0
    if iteration < warmup_iters - 1:
        warm = warmup_start_factor + (1.0 - warmup_start_factor) * iteration / (warmup_iters - 1)
    # 2. where the cosine begins: half-way for flat-cosine, at the start for plain cosine
    cosine_start = round(cosine_start_frac * total_iters) if schedule == "flat_cosine" else 0
    # 3. flat at the base lr before the cosine; then anneal from 1 to eta_min_ratio at the last iteration
    anneal = 1.0
    if iteration >= cosine_start:
        progress = (iteration - cosine_start) / max(1, total_iters - cosine_start)
        anneal = eta_min_ratio + (1.0 - eta_min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
    # 4. overlapping schedulers multiply, as in MMEngine's chained schedulers
    return warm * anneal


def effective_warmup(warmup_iters: int, total_iters: int) -> int:
    """The warm-up length actually used: the configured one, capped at MAX_WARMUP_FRAC of the run."""
    return max(0, min(warmup_iters, int(MAX_WARMUP_FRAC * total_iters)))


def lr_at(iteration: int, cfg: TrainConfig, total_iters: int, base_lr: float | None = None) -> float:
    """The learning rate of ``cfg``'s recipe at ``iteration`` of a ``total_iters`` run."""
    return (cfg.base_lr if base_lr is None else base_lr) * lr_factor(
        iteration, total_iters=total_iters, warmup_iters=effective_warmup(cfg.warmup_iters, total_iters),
        warmup_start_factor=cfg.warmup_start_factor, schedule=cfg.lr_schedule,
        cosine_start_frac=cfg.cosine_start_frac, eta_min_ratio=cfg.eta_min_ratio)


def set_lr(optimizer, lr: float) -> None:
    """Give every parameter group of ``optimizer`` the learning rate ``lr`` (groups differ only in decay)."""
    for group in optimizer.param_groups:
        group["lr"] = lr
