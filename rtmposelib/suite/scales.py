"""Run scales of the notebook suite: the paper's recipe shrunk to a time budget, as config deltas.

* ``smoke`` -- every notebook end to end in about 3 minutes on 2 CPU cores (used by the tests): a few
  iterations per run, a subset of the roadmap steps and sweep points, one seed. Numbers are meaningless;
  only the plumbing is exercised.
* ``cpu`` -- the default of ``make reproduce``: the whole roadmap (Fig. 3) and both sweeps (Tables 2, 3)
  on SynthPose within about 45 minutes on 2 idle cores (``--jobs 2``, one thread per job). To fit, the
  CSPNeXt-m of the paper's roadmap becomes CSPNeXt-t and the crop shrinks from 192x256 to 96x128 (w, h) --
  the roadmap's relative steps (kernel, GAU, sigma, temperature, schedule, EMA, augmentation) are
  unchanged, the Gaussian sigmas are rescaled with the bin count (Eq. 6). Every roadmap step runs with
  3 seeds so that its effect is reported as mean +- std (marked when it exceeds 2 standard errors).

  Stand-in initialisation. The paper starts every roadmap run from an ImageNet-pretrained CSPNeXt, which
  cannot be downloaded here; trained from random init, RTMPose-t at 96x128 stays at AP 0 for ~900
  iterations of batch 16 (a mean-pose collapse; one batch overfits, so the parts are sound). So one
  suite entry, ``pretrain_heatmap/standin``, trains CSPNeXt-t once with the UDP heatmap task (spatially
  local, so it learns faster from scratch than SimCC) on a *separate* SynthPose set
  (``standin_images`` images generated with ``standin_seed`` = 1, never the roadmap's images), flips
  only, AdamW lr 1e-3, ``standin_epochs`` epochs. It stands for ImageNet: the SimCC* baseline starts from it,
  and so does the scale's "+ heatmap pre-training" run on the roadmap's training split, from which every
  later step starts (as the paper's pre-training starts from ImageNet). The smoke scale does the same
  in a few iterations (plumbing only).

  Softer geometric augmentation. The paper's pipelines (rotation up to 80 degrees with probability 0.6,
  scale 0.5-1.5, shift 0.16) are made for 210 epochs; in a 2-epoch run they keep every roadmap step near
  AP 0. At ``cpu`` scale the rotation factor, shift factor and the scale range's distance from 1 are
  multiplied by ``aug_strength`` = 0.25 in both stages (probabilities, flips, half body, colour, blur and
  cutout unchanged, so the strong stage stays stronger than the weak one). MEASURED on an idle machine
  (SimCC* baseline from the stand-in, seed 0, 148 iterations, AP on the roadmap's val): paper
  augmentation 1.5, x0.25 11.4, no geometric augmentation 13.7; lr 1e-3 / 5e-4 / 8e-3 instead of the
  official 4e-3 with the paper's augmentation: 0.0 / 0.0 / 1.7; with the paper's augmentation the
  baseline needs ~600 iterations (8 epochs) to reach 7.4.

  Learning rate 2e-3 (the paper: 4e-3 at batch 256; here batch 16). MEASURED (seed 1, 148 iterations,
  augmentation x0.25, AP): SimCC* baseline 4.3 / 9.0 / 10.7 and "+ temperature 1/tau=10" 11.5 / 10.9 /
  0.1 at lr 1e-3 / 2e-3 / 4e-3. At 4e-3 the 1/tau = 10 step and every later step collapsed in 2 of 3
  seeds in a full cpu run (mean AP 1.0 +- 1.7); 1e-3 halves the baseline; 2e-3 keeps both.

  Budget (idle machine): one training step of RTMPose-t at 96x128 costs ~13 ms per crop on a free core
  and data ~5 ms, i.e. ~0.3 s per iteration of 16. SynthPose-400 has 1183 people = 73 iterations per
  epoch, so a 210-epoch run of the paper becomes 2 epochs (146 iterations, ~45 s), "+ 420 epochs" 4.
  Stand-in: SynthPose-800 (seed 1, ~2370 people), 8 epochs = ~1180 iterations, ~6 minutes on the
  critical path. Pre-training 146 iterations; 33 roadmap runs (11 steps x 3 seeds) and 7 sweep points
  (the "+ 7x7 kernel" seed-0 runs are the sweeps' default point): ~6300 iterations, ~32 core-minutes,
  ~17 minutes on 2 jobs; plus evaluation, kernel starts, latency tables and the demo: ~30-35 minutes.
  MEASURED: the whole cpu suite (50 entries, --jobs 2) took 38 minutes (results/README.md).

  MEASURED while sizing (a shared machine 6-20x oversubscribed: 2-9 training crops/s instead of ~55,
  so runs were cut short): from random init, AP 0.0 after ~900 iterations (above). Stand-in candidates,
  UDP heatmap MSE (mean of 15 iterations) on SynthPose-400 seed 1: flips only at lr 1e-3 went
  0.0124 -> 0.0095 by iteration 60; the plain top-down pipeline (rotation, scale, half-body) at lr 4e-3
  0.0113 -> 0.0104 by iteration 60 and ~0.0098 at 200 (val AP 0.0 after 146 iterations), hence flips
  only and lr 1e-3. The AP of the SimCC* baseline started from the stand-in is in results/README.md.
* ``paper`` -- COCO at ``$RTMPOSE_COCO`` (default ``data/coco``), the official recipe unchanged
  (420 / 210 epochs, batch 256 per process, 1000 warm-up iterations), meant for GPUs: with more than one
  GPU visible (``RTMPOSE_GPUS`` overrides) each run goes through ``torchrun --nproc_per_node=<GPUs> -m
  rtmposelib.cli train --config run.json`` (:mod:`rtmposelib.experiments.launch`). No stand-in: the runs
  the paper starts from ImageNet start from ``rtmpose suite --imagenet-backbone CKPT`` (an ImageNet
  CSPNeXt checkpoint with ``backbone.*`` keys, e.g. MMPretrain's) when given, else from random init.

``epochs`` of a scale is the length given to a 210-epoch run of the paper (the roadmap baseline and the
heatmap pre-training); other lengths scale proportionally (the roadmap's "+ 420 epochs" step stays
twice as long as the step before it), and the weak-augmentation stage keeps its share of the run.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace

from rtmposelib.config import CSPNEXT_FACTORS, AugmentConfig, RunConfig, simcc_sigma

PAPER_EPOCHS = 210  # the reference length that Scale.epochs stands for


@dataclass(frozen=True)
class Scale:
    name: str
    data_source: str                           # DataConfig.source
    epochs: int                                # stands for a 210-epoch run of the paper
    batch_size: int                            # per process
    warmup_iters: int
    val_interval: int                          # epochs
    model_size: str | None                     # CSPNeXt size replacing the config's; None = keep
    input_size: tuple[int, int] | None         # (w, h) crop replacing the config's; None = keep
    seeds: tuple[int, ...]                     # seeds of every roadmap step
    roadmap_steps: tuple[str, ...] | None      # None = every step of rtmposelib.roadmap.STEPS
    kernel_sizes: tuple[int, ...]              # Table 2 sweep points
    inv_temperatures: tuple[float, ...]        # Table 3 sweep points (1/tau)
    sweep_seeds: tuple[int, ...]
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


SCALES: dict[str, Scale] = {
    "smoke": Scale(
        name="smoke", data_source="synth:smoke", epochs=1, batch_size=8, warmup_iters=2, val_interval=1,
        model_size="t", input_size=(64, 64), seeds=(0,),
        roadmap_steps=("baseline", "pretrain", "kernel7"),
        kernel_sizes=(1, 7), inv_temperatures=(1.0, 10.0), sweep_seeds=(0,), max_iters=2, num_workers=0,
        timeout=300, latency_runs=(2, 5), model_sizes=("t",), standin_images=16, standin_epochs=1,
        standin_lr=1e-3),
    "cpu": Scale(
        name="cpu", data_source="synth:400", epochs=2, batch_size=16, warmup_iters=20, val_interval=2,
        model_size="t", input_size=(96, 128), seeds=(0, 1, 2), roadmap_steps=None,
        kernel_sizes=(1, 3, 5, 7, 9), inv_temperatures=(1.0, 5.0, 10.0, 15.0), sweep_seeds=(0,),
        max_iters=None, num_workers=0, timeout=3600, latency_runs=(10, 50), model_sizes=("t", "s", "m", "l"),
        standin_images=800, standin_epochs=8, standin_lr=1e-3, aug_strength=0.25, base_lr=2e-3),
    "paper": Scale(
        name="paper", data_source=os.environ.get("RTMPOSE_COCO", "data/coco"), epochs=PAPER_EPOCHS,
        batch_size=256, warmup_iters=1000, val_interval=10, model_size=None, input_size=None,
        seeds=(21,), roadmap_steps=None, kernel_sizes=(1, 3, 5, 7, 9), inv_temperatures=(1.0, 5.0, 10.0, 15.0),
        sweep_seeds=(21,), max_iters=None, num_workers=8, timeout=14 * 24 * 3600, latency_runs=(50, 200),
        model_sizes=("t", "s", "m", "l")),
}


def get_scale(scale: str | Scale) -> Scale:
    """A scale by name (or passed through), with the valid names in the error."""
    if isinstance(scale, Scale):
        return scale
    try:
        return SCALES[scale]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}; choose from {sorted(SCALES)}") from None


def _resize_sigma(sigma: tuple[float, float], old: tuple[int, int], new: tuple[int, int],
                  split_ratio: float) -> tuple[float, float]:
    """Keep the sigma rule of the config: separate sqrt(bins/16) stays so; a shared sigma scales with it."""
    old_rule, new_rule = simcc_sigma(old, split_ratio), simcc_sigma(new, split_ratio)
    if tuple(sigma) == old_rule:
        return new_rule
    return tuple(round(s * new_rule[0] / old_rule[0], 2) for s in sigma)  # type: ignore[return-value]


def at_scale(cfg: RunConfig, scale: str | Scale) -> RunConfig:
    """``cfg`` with the data source, run length, batch, warm-up, validation interval, and (at smoke/cpu)
    model size, crop, learning rate (``Scale.base_lr``) and augmentation magnitudes (``aug_strength``) of
    ``scale``. The paper scale only swaps the data source."""
    s = get_scale(scale)
    data = replace(cfg.data, source=s.data_source, num_workers=s.num_workers)
    if s.name == "paper":
        return replace(cfg, data=data)
    t = cfg.train
    epochs = max(1, round(s.epochs * t.epochs / PAPER_EPOCHS))
    stage2 = 0 if t.stage2_epochs == 0 else max(1, min(epochs - 1, round(epochs * t.stage2_epochs / t.epochs)))
    if epochs == 1:
        stage2 = 0
    train = replace(t, epochs=epochs, stage2_epochs=stage2, batch_size=s.batch_size, warmup_iters=s.warmup_iters,
                    base_lr=t.base_lr if s.base_lr is None else s.base_lr,
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
