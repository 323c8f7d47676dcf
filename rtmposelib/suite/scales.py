"""Run scales of the notebook suite: the paper's recipe shrunk to a time budget, as config deltas.

* ``smoke`` -- every notebook end to end in a few minutes on 2 CPU cores (used by the tests): a few
  iterations per run, a subset of the roadmap steps and sweep points, one seed. Numbers are meaningless;
  only the plumbing is exercised.
* ``cpu`` -- the default of ``make reproduce``: the whole roadmap (Fig. 3) and both sweeps (Tables 2, 3)
  on SynthPose within 45 minutes on 2 idle cores (``--jobs 2``, one thread per job). CSPNeXt-m becomes
  CSPNeXt-t and the crop shrinks from 192x256 to 96x128 (w, h); the Gaussian sigmas are rescaled with
  the bin count (Eq. 6). Every roadmap step runs with ``seeds`` and every sweep point with
  ``sweep_seeds``, so that gains are paired differences over seeds. The runs the paper starts from
  ImageNet start from a **stand-in** (``pretrain_heatmap/standin``: CSPNeXt trained once with the UDP
  heatmap task on a separate SynthPose set, ``standin_*`` fields; see
  :mod:`rtmposelib.experiments.runs`). The geometric augmentation magnitudes are multiplied by
  ``aug_strength`` and the learning rate is ``base_lr`` (the reasons are in ``docs/decisions.md``).
* ``long`` -- the cpu scale with runs twice as long, more seeds and a larger val set, for tighter
  intervals: about 4 hours on 2 cores (``docs/scaling.md``).
* ``paper`` -- COCO at ``$RTMPOSE_COCO`` (default ``data/coco``, read when the scale is resolved by
  :func:`get_scale`), the official recipe unchanged, meant for GPUs (more than one GPU: torchrun, see
  :mod:`rtmposelib.experiments.launch`). No stand-in: the runs the paper starts from ImageNet start from
  ``rtmpose suite --imagenet-backbone CKPT`` when given, else from random init.

Lengths. ``epochs`` of a scale is the length given to a 210-epoch run of the paper; other epoch counts
scale in proportion (the roadmap's "+ 420 epochs" step stays twice as long as the one before it). Every
iteration-counted length of the recipe scales with the run by :func:`recipe_ratio` -- the iterations of
the scale's 210-epoch run over the official one's (210 epochs x ``OFFICIAL_ITERS_PER_EPOCH``): the
warm-up (1000 iterations), the EMA's momentum warm-up ``gamma`` (2000) and its averaging horizon
``1 / momentum`` (5000). The flat phase and the cosine are fractions of the run already, and the stage-2
switch is a whole number of epochs, ``round(epochs * 30 / 420)`` of the 420-epoch run and at least one.
:func:`recipe_lengths` lists them for a scale; ``docs/scaling.md`` has the table.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace

from rtmposelib.config import CSPNEXT_FACTORS, AugmentConfig, RunConfig, TrainConfig, simcc_sigma

PAPER_EPOCHS = 210                 # the reference length that Scale.epochs stands for
OFFICIAL_ITERS_PER_EPOCH = 74      # COCO train2017, 149,813 people in batches of 8 x 256 (the last one partial)
PAPER_DATA = "data/coco"           # the paper scale's data root when $RTMPOSE_COCO is not set


@dataclass(frozen=True)
class Scale:
    name: str
    data_source: str                           # DataConfig.source ("" at paper: $RTMPOSE_COCO, see get_scale)
    epochs: int                                # stands for a 210-epoch run of the paper
    iters_per_epoch: int                       # iterations of one epoch of data_source at batch_size
    batch_size: int                            # per process
    val_interval: int                          # epochs
    model_size: str | None                     # CSPNeXt size replacing the config's; None = keep
    input_size: tuple[int, int] | None         # (w, h) crop replacing the config's; None = keep
    seeds: tuple[int, ...]                     # seeds of every roadmap step
    roadmap_steps: tuple[str, ...] | None      # None = every step of rtmposelib.roadmap.STEPS
    kernel_sizes: tuple[int, ...]              # Table 2 sweep points
    inv_temperatures: tuple[float, ...]        # Table 3 sweep points (1/tau)
    sweep_seeds: tuple[int, ...]               # seeds of every sweep point (a subset of seeds: paired)
    max_iters: int | None                      # hard cap on training iterations per run
    num_workers: int
    timeout: int                               # seconds per notebook execution
    latency_runs: tuple[int, int]              # (warm-up, timed) runs of the latency protocol
    model_sizes: tuple[str, ...]               # presets measured in the speed / complexity notebooks
    # the stand-in for ImageNet weights (rtmposelib.experiments.runs.standin_config); 0 images = none
    standin_images: int = 0                    # SynthPose training images of the stand-in's own set
    standin_seed: int = 1                      # its SynthPose seed (the roadmap's data use seed 0)
    standin_epochs: int = 1                    # epochs of UDP heatmap training on that set
    standin_lr: float = 4e-3                   # AdamW base learning rate of the stand-in
    # geometric augmentation magnitude (rotation, scale range, shift) of both stages; 1 = the paper's
    aug_strength: float = 1.0
    base_lr: float | None = None               # AdamW base learning rate of every run; None = the config's
    # the model family trained with the final recipe, each size from its own initialisation (Fig. 1 / 5);
    # () = model_sizes
    family_sizes: tuple[str, ...] = ()
    family_standin_epochs: int = 0             # epochs of each family size's own stand-in; 0 = standin_epochs


_CPU = Scale(
    name="cpu", data_source="synth:400:80", epochs=2, iters_per_epoch=75, batch_size=16, val_interval=2,
    model_size="t", input_size=(96, 128), seeds=tuple(range(7)), roadmap_steps=None,
    kernel_sizes=(1, 3, 5, 7, 9), inv_temperatures=(1.0, 5.0, 10.0, 15.0), sweep_seeds=tuple(range(5)),
    max_iters=None, num_workers=0, timeout=3600, latency_runs=(10, 50), model_sizes=("t", "s", "m", "l"),
    standin_images=800, standin_epochs=8, standin_lr=1e-3, aug_strength=0.25, base_lr=2e-3, family_sizes=("t", "s"))

SCALES: dict[str, Scale] = {
    "smoke": Scale(
        name="smoke", data_source="synth:smoke", epochs=1, iters_per_epoch=4, batch_size=8, val_interval=1,
        model_size="t", input_size=(64, 64), seeds=(0,),
        roadmap_steps=("baseline", "pretrain", "kernel7"),
        kernel_sizes=(1, 7), inv_temperatures=(1.0, 10.0), sweep_seeds=(0,), max_iters=2, num_workers=0,
        timeout=300, latency_runs=(2, 5), model_sizes=("t",), standin_images=16, standin_epochs=1,
        standin_lr=1e-3, family_sizes=("t", "s")),
    "cpu": _CPU,
    "long": replace(_CPU, name="long", data_source="synth:400:400", epochs=4, seeds=tuple(range(10)),
                    sweep_seeds=tuple(range(5)), val_interval=4, timeout=3 * 3600, family_sizes=("t", "s", "m", "l")),
    "paper": Scale(
        name="paper", data_source="", epochs=PAPER_EPOCHS, iters_per_epoch=OFFICIAL_ITERS_PER_EPOCH,
        batch_size=256, val_interval=10, model_size=None, input_size=None,
        seeds=(21,), roadmap_steps=None, kernel_sizes=(1, 3, 5, 7, 9), inv_temperatures=(1.0, 5.0, 10.0, 15.0),
        sweep_seeds=(21,), max_iters=None, num_workers=8, timeout=14 * 24 * 3600, latency_runs=(50, 200),
        model_sizes=("t", "s", "m", "l")),
}


def get_scale(scale: str | Scale) -> Scale:
    """A scale by name (or passed through), with the valid names in the error. The paper scale's data
    source is read here from ``$RTMPOSE_COCO`` (default ``data/coco``)."""
    if isinstance(scale, Scale):
        return scale
    try:
        s = SCALES[scale]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}; choose from {sorted(SCALES)}") from None
    if s.name == "paper" and not s.data_source:
        s = replace(s, data_source=os.environ.get("RTMPOSE_COCO", PAPER_DATA))
    return s


def recipe_ratio(scale: str | Scale) -> float:
    """Iterations of the scale's 210-epoch run over the official run's (210 x ``OFFICIAL_ITERS_PER_EPOCH``);
    1 at paper scale. Every iteration-counted length of the recipe is multiplied by it."""
    s = get_scale(scale)
    return s.epochs * s.iters_per_epoch / (PAPER_EPOCHS * OFFICIAL_ITERS_PER_EPOCH)


def scaled_lengths(train: TrainConfig, ratio: float) -> TrainConfig:
    """``train`` with its warm-up, EMA gamma and EMA momentum scaled to a run ``ratio`` times as long:
    warm-up ``round(ratio * warmup_iters)`` (at least 2, MMEngine's shortest ramp), gamma
    ``ratio * gamma`` and momentum ``momentum / ratio`` (the averaging horizon ``1 / momentum`` is a
    length too; capped at 0.5). ``ratio`` 1 returns ``train`` unchanged."""
    if ratio <= 0:
        raise ValueError(f"recipe ratio must be positive, got {ratio}")
    if ratio == 1.0:
        return train
    return replace(train, warmup_iters=max(2, round(ratio * train.warmup_iters)),
                   ema_gamma=round(ratio * train.ema_gamma, 3),
                   ema_momentum=round(min(0.5, train.ema_momentum / ratio), 6))


def _stage2_epochs(epochs: int, train: TrainConfig) -> int:
    """The weak stage's epochs after scaling the run to ``epochs``: the same share, at least one (when
    the recipe has one) and never the whole run."""
    if train.stage2_epochs == 0 or epochs == 1:
        return 0
    return max(1, min(epochs - 1, round(epochs * train.stage2_epochs / train.epochs)))


def at_scale(cfg: RunConfig, scale: str | Scale) -> RunConfig:
    """``cfg`` with the data source, run length, batch, recipe lengths (:func:`scaled_lengths`),
    validation interval, and (at smoke/cpu/long) model size, crop, learning rate (``Scale.base_lr``)
    and augmentation magnitudes (``aug_strength``) of ``scale``. The paper scale only swaps the data
    source."""
    s = get_scale(scale)
    data = replace(cfg.data, source=s.data_source, num_workers=s.num_workers)
    if s.name == "paper":
        return replace(cfg, data=data)
    t = cfg.train
    epochs = max(1, round(s.epochs * t.epochs / PAPER_EPOCHS))
    train = replace(scaled_lengths(t, recipe_ratio(s)), epochs=epochs, stage2_epochs=_stage2_epochs(epochs, t),
                    batch_size=s.batch_size, base_lr=t.base_lr if s.base_lr is None else s.base_lr,
                    val_interval=min(s.val_interval, epochs))
    model, codec = cfg.model, cfg.codec
    if s.model_size is not None:
        deepen, widen = CSPNEXT_FACTORS[s.model_size]
        model = replace(model, deepen_factor=deepen, widen_factor=widen)
    if s.input_size is not None and s.input_size != model.input_size:
        new = s.input_size
        sigma = _resize_sigma(codec.sigma, codec.input_size, new, codec.split_ratio)
        codec = replace(codec, input_size=new, sigma=sigma, heatmap_size=(new[0] // 4, new[1] // 4))
        model = replace(model, input_size=new)
    aug1, aug2 = (soften_augmentation(a, s.aug_strength) for a in (cfg.aug_stage1, cfg.aug_stage2))
    return replace(cfg, model=model, codec=codec, data=data, train=train, aug_stage1=aug1, aug_stage2=aug2)


def _resize_sigma(sigma: tuple[float, float], old: tuple[int, int], new: tuple[int, int],
                  split_ratio: float) -> tuple[float, float]:
    """Keep the sigma rule of the config: separate sqrt(bins/16) stays so; a shared sigma scales with it."""
    old_rule, new_rule = simcc_sigma(old, split_ratio), simcc_sigma(new, split_ratio)
    if tuple(sigma) == old_rule:
        return new_rule
    return tuple(round(s * new_rule[0] / old_rule[0], 2) for s in sigma)  # type: ignore[return-value]


def soften_augmentation(aug: AugmentConfig, strength: float) -> AugmentConfig:
    """``aug`` with its geometric magnitudes multiplied by ``strength``: rotation factor, shift factor, and
    the scale range's distance from 1. Probabilities, flips, half body, colour, blur and cutout are kept,
    so the strong stage stays stronger than the weak one by the same ratios."""
    if strength == 1.0:
        return aug
    lo, hi = aug.scale_factor
    return replace(aug, rotate_factor=round(aug.rotate_factor * strength, 4),
                   shift_factor=round(aug.shift_factor * strength, 4),
                   scale_factor=(round(1 - (1 - lo) * strength, 4), round(1 + (hi - 1) * strength, 4)))


def recipe_lengths(scale: str | Scale) -> list[dict]:
    """The recipe's lengths at ``scale`` beside the official ones, for the 420-epoch run (the roadmap's
    last step): one dict per length with ``length``, ``official`` (iterations, or epochs for the stage-2
    switch), ``fraction`` (of the official run) and ``value`` (at this scale, same unit)."""
    from rtmposelib.roadmap import for_step

    s = get_scale(scale)
    official = for_step("more_epochs").train
    ours = at_scale(for_step("more_epochs"), s).train
    official_iters = official.epochs * OFFICIAL_ITERS_PER_EPOCH
    iters = ours.epochs * s.iters_per_epoch

    def row(length: str, off: float, val: float, unit_total: float = official_iters) -> dict:
        return {"length": length, "official": off, "fraction": off / unit_total, "value": val}

    return [
        row("run (iterations)", official_iters, iters),
        row("warm-up (iterations)", official.warmup_iters, ours.warmup_iters),
        row("EMA gamma (iterations)", official.ema_gamma, ours.ema_gamma),
        row("EMA horizon 1/momentum (iterations)", 1 / official.ema_momentum, 1 / ours.ema_momentum),
        row("flat phase (iterations)", official.cosine_start_frac * official_iters, ours.cosine_start_frac * iters),
        row("cosine (iterations)", (1 - official.cosine_start_frac) * official_iters,
            (1 - ours.cosine_start_frac) * iters),
        row("stage-2 epochs (weak augmentation)", official.stage2_epochs, ours.stage2_epochs, official.epochs),
    ]
