"""Training runs of the suite: the stand-in initialisation, the heatmap pre-training, the roadmap steps.

Paper, Sec. 3.2 and Fig. 3: every roadmap run starts from an ImageNet-pretrained CSPNeXt; from
"+ heatmap pre-training" on, from CSPNeXt pre-trained with a UDP heatmap head on COCO (itself started
from ImageNet). Which backbone each run starts from (see :mod:`rtmposelib.suite.scales`):

* smoke / cpu -- the **stand-in** run replaces ImageNet: CSPNeXt of the scale's size trained once with the
  UDP heatmap task on a separate SynthPose set (its own seed, never the roadmap's images). The SimCC*
  baseline starts from it; the scale's heatmap pre-training on the roadmap's training split starts from
  it too, and every later step starts from that pre-training.
* paper -- ``imagenet_backbone`` (an ImageNet CSPNeXt checkpoint, e.g. MMPretrain's, keys
  ``backbone.*``) if the user gives one, else random initialisation.

APs are reported in percent, as the paper.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from rtmposelib.config import AugmentConfig, RunConfig, rtmpose
from rtmposelib.roadmap import STEP_NAMES, for_step
from rtmposelib.suite.scales import at_scale, get_scale

COCO_STATS = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
SWEEP_BASE_STEP = "kernel7"          # the architecture the paper's Tables 2 and 3 sweep around
PRETRAIN_RUN = "pretrain_heatmap/heatmap"
STANDIN_RUN = "pretrain_heatmap/standin"
VAL_MATCHES_FILE = "val_matches.npz"  # per-image val matches of a train_step run (the paired eval bootstrap)
# the stand-in's augmentation: horizontal flip only (docs/decisions.md says why).
STANDIN_AUG = AugmentConfig(half_body_prob=0.0, shift_prob=0.0, scale_prob=0.0, rotate_prob=0.0, hsv_gains=None,
                            blur_prob=0.0, median_blur_prob=0.0, cutout_prob=0.0)


def run_checkpoint(run_dir: str | Path) -> Path:
    """The checkpoint of a suite training run folder (``<run>/checkpoints/last.pth``), checked."""
    path = Path(run_dir) / "checkpoints" / "last.pth"
    if not path.is_file():
        raise FileNotFoundError(f"training run {run_dir} has no checkpoints/last.pth; run it first")
    return path


def _initial_backbone(scale: str, init_dir: str | None, imagenet_backbone: str | None) -> str | None:
    """Where a run that the paper starts from ImageNet starts here: the stand-in run (smoke/cpu), the
    user's ImageNet checkpoint (paper scale), or None (random init)."""
    if get_scale(scale).standin_images:
        if not init_dir:
            raise ValueError(f"at {get_scale(scale).name} scale the run starts from the stand-in "
                             f"initialisation: pass init_dir (the {STANDIN_RUN} run)")
        return str(run_checkpoint(init_dir))
    if imagenet_backbone:
        from rtmposelib.zoo.download import resolve
        imagenet_backbone = resolve(imagenet_backbone)          # zoo:cspnext-<size>-imagenet: the cached file
        if not Path(imagenet_backbone).is_file():
            raise FileNotFoundError(f"ImageNet backbone checkpoint {imagenet_backbone} does not exist")
        return str(imagenet_backbone)
    return None


def standin_config(scale: str) -> RunConfig:
    """The stand-in for ImageNet weights at ``scale`` (smoke / cpu): a UDP heatmap run of the scale's
    CSPNeXt and crop on SynthPose generated with ``Scale.standin_seed`` (not the roadmap's data),
    with ``Scale.standin_epochs``, ``standin_lr`` and flips only (:data:`STANDIN_AUG`)."""
    from rtmposelib.data.synthetic import make_synthpose
    from rtmposelib.train.pretrain import heatmap_pretrain_config

    s = get_scale(scale)
    if not s.standin_images:
        raise ValueError(f"scale {s.name!r} has no stand-in initialisation (it uses ImageNet weights or random init)")
    base = heatmap_pretrain_config(at_scale(rtmpose("m"), s), epochs=s.standin_epochs)
    root = make_synthpose(s.standin_images, seed=s.standin_seed)
    train = replace(base.train, base_lr=s.standin_lr, stage2_epochs=0, ema=False, seed=s.standin_seed,
                    val_interval=s.standin_epochs)
    return replace(base, name=f"standin-{base.name}", data=replace(base.data, source=str(root)),
                   train=train, aug_stage1=STANDIN_AUG, aug_stage2=STANDIN_AUG)


def pretrain_config(scale: str, *, init_dir: str | None = None, imagenet_backbone: str | None = None) -> RunConfig:
    """The UDP heatmap pre-training of the roadmap's backbone (CSPNeXt-m; smaller at smoke/cpu) on the
    roadmap's training split, started from the stand-in run ``init_dir`` (smoke/cpu) or the ImageNet
    checkpoint (paper scale, optional)."""
    from rtmposelib.train.pretrain import heatmap_pretrain_config

    cfg = heatmap_pretrain_config(at_scale(rtmpose("m"), scale))
    init = _initial_backbone(scale, init_dir, imagenet_backbone)
    return replace(cfg, train=replace(cfg.train, init_backbone=init))


def step_config(step: str, *, scale: str, seed: int = 0, kernel_size: int = 0, inv_temperature: float = 0.0,
                pretrain_dir: str | None = None, init_dir: str | None = None,
                imagenet_backbone: str | None = None) -> RunConfig:
    """A roadmap step's config at ``scale``, with optional sweep overrides (0 = the step's own value).

    kernel_size: the final conv kernel (Table 2). inv_temperature: 1/tau on prediction and label
    (Table 3). pretrain_dir: the heatmap pre-training run whose checkpoint initialises the backbone
    (required from the "pretrain" step on). init_dir: the stand-in run (steps before "pretrain" at
    smoke/cpu). imagenet_backbone: an ImageNet CSPNeXt checkpoint for those steps at paper scale.
    """
    from rtmposelib.train.pretrain import finetune_config

    cfg = at_scale(for_step(step), scale)
    if kernel_size:
        cfg = replace(cfg, model=replace(cfg.model, final_kernel_size=int(kernel_size)))
    if inv_temperature:
        cfg = replace(cfg, loss=replace(cfg.loss, beta=float(inv_temperature), label_beta=float(inv_temperature)))
    cfg = replace(cfg, train=replace(cfg.train, seed=int(seed)))
    if cfg.train.init_backbone == "heatmap":
        if not pretrain_dir:
            raise ValueError(f"roadmap step {step!r} starts from the heatmap pre-training: pass pretrain_dir")
        return finetune_config(cfg, Path(pretrain_dir) / "checkpoints")
    init = _initial_backbone(scale, init_dir, imagenet_backbone)
    return replace(cfg, train=replace(cfg.train, init_backbone=init))


def needs_pretrain(step: str) -> bool:
    """True for the roadmap steps that start from the heatmap pre-training ("pretrain" and later)."""
    return STEP_NAMES.index(step) >= STEP_NAMES.index("pretrain")


@dataclass
class TrainEval:
    """One training + evaluation: flat metrics (AP in percent), the iteration history, per-keypoint AP."""

    metrics: dict
    history: pd.DataFrame
    per_keypoint: pd.DataFrame


def train_and_evaluate(cfg: RunConfig, out_dir: str | Path, *, scale: str, bootstrap: int = 200) -> TrainEval:
    """Train ``cfg`` (checkpoints under ``out_dir/checkpoints``, ignored by git) and evaluate the
    weights validation uses (EMA when on) on the run's val split. At paper scale with more than one
    GPU the training runs under torchrun (:mod:`rtmposelib.experiments.launch`).

    Besides the COCO stats (percent) the metrics hold ``ap_eval_sd``, the standard deviation of AP over
    ``bootstrap`` resamples of the val images (:mod:`rtmposelib.eval.bootstrap`; the per-image matches
    behind it are kept as ``out_dir/val_matches.npz`` for the paired bootstrap of gains), and with EMA on
    ``ap_ema`` / ``ap_live`` (the averaged and the live weights' AP) and ``ema_mean_abs_diff`` /
    ``ema_rel_diff`` (:func:`rtmposelib.train.ema.weight_difference`).
    """
    import torch

    from rtmposelib.experiments.launch import train
    from rtmposelib.train.ema import weight_difference

    s = get_scale(scale)
    t0 = time.perf_counter()
    run = train(cfg, Path(out_dir) / "checkpoints", max_iters=s.max_iters, distributed=s.name == "paper")
    train_s = time.perf_counter() - t0
    device = "cuda" if torch.cuda.is_available() else "cpu"
    ev, matches = _evaluate_with_matches(run.eval_model, cfg, device=device)
    metrics: dict = {k: 100.0 * float(ev[k]) for k in COCO_STATS}
    metrics.update(ap_eval_sd=math.nan)
    if matches is not None:
        from rtmposelib.eval.bootstrap import bootstrap_ap, save_matches

        save_matches(matches, Path(out_dir) / VAL_MATCHES_FILE)
        if bootstrap >= 2:
            metrics["ap_eval_sd"] = 100.0 * float(np.std(bootstrap_ap(matches, n=bootstrap, seed=cfg.train.seed),
                                                         ddof=1))
    live, ema = getattr(run, "model", None), getattr(run, "ema_model", None)
    if live is not None and ema is not None:
        from rtmposelib.eval.evaluate import evaluate

        diff = weight_difference(ema, live)
        metrics.update(ap_ema=metrics["AP"], ap_live=100.0 * float(evaluate(live, cfg, device=device)["AP"]),
                       ema_mean_abs_diff=diff["mean_abs_diff"], ema_rel_diff=diff["rel_diff"])
    metrics.update(train_seconds=train_s, eval_seconds=time.perf_counter() - t0 - train_s,
                   iterations=int(run.metrics.get("iterations", 0)),
                   final_loss=_finite(run.metrics.get("final_loss")),
                   images_per_s=_finite(run.metrics.get("images_per_s_median")),
                   num_instances=int(ev.get("num_instances", 0)), seed=cfg.train.seed,
                   skipped=int(sum(ev.get("skipped", {}).values())))
    per_kpt = ev.get("per_keypoint")
    return TrainEval(metrics, run.history, per_kpt if isinstance(per_kpt, pd.DataFrame) else pd.DataFrame())


def _evaluate_with_matches(model, cfg: RunConfig, *, device: str):
    """:func:`rtmposelib.eval.evaluate.evaluate` of ``model`` and its per-image matches
    (:func:`rtmposelib.eval.bootstrap.match_images`; None where the dataset is not scored by COCO AP)."""
    from rtmposelib.codecs import build_codec
    from rtmposelib.data.sources import build_datasets
    from rtmposelib.eval.bootstrap import match_images
    from rtmposelib.eval.coco_eval import load_coco
    from rtmposelib.eval.evaluate import protocol_for, score_results, with_annotation_categories
    from rtmposelib.eval.predict import predict

    dataset = build_datasets(cfg)[1]
    meta = dataset.metainfo
    was_training = model.training
    try:
        results = predict(model, dataset, codec=build_codec(cfg.codec),
                          flip_indices=meta.flip_indices if cfg.flip_test else None, device=device)
    finally:
        model.train(was_training)
    ev = score_results(dataset, results)
    ev.update(num_instances=len(dataset), skipped=dict(getattr(dataset, "skipped", {})))
    proto = protocol_for(meta.name)
    if proto.metric == "pckh":
        return ev, None
    results = with_annotation_categories(results, load_coco(dataset.ann_file, use_area=proto.use_area))
    return ev, match_images(dataset.ann_file, results, sigmas=meta.sigmas, use_area=proto.use_area)


def _finite(v) -> float | None:
    return float(v) if v is not None and math.isfinite(float(v)) else None


def step_metrics(run: TrainEval, *, step: str, kernel_size: int, inv_temperature: float) -> dict:
    """The run's metrics plus the identity of the roadmap step / sweep point (used by the summaries)."""
    cfg_kernel = kernel_size or for_step(step).model.final_kernel_size
    cfg_beta = inv_temperature or for_step(step).loss.beta
    return {**run.metrics, "step": step, "kernel_size": int(cfg_kernel), "inv_temperature": float(cfg_beta)}


def final_run_dir(results_root: str | Path, scale: str) -> tuple[str, Path]:
    """(step, run directory) of the last roadmap step's first seed at ``scale``."""
    s = get_scale(scale)
    step = (s.roadmap_steps or STEP_NAMES)[-1]
    d = Path(results_root) / "train_step" / f"{step}-seed{s.seeds[0]}"
    if not (d / "checkpoints").is_dir():
        raise FileNotFoundError(f"no trained run of the last roadmap step at {d}; run the train_step entries first")
    return step, d


def load_trained(results_root: str | Path, scale: str):
    """(config, model) of the final roadmap run, with the weights validation used (EMA when on)."""
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.train.checkpoint import load_pose_weights, saved_config

    _, d = final_run_dir(results_root, scale)
    ckpt = d / "checkpoints" / ("best.pth" if (d / "checkpoints" / "best.pth").is_file() else "last.pth")
    cfg = saved_config(ckpt)
    if cfg is None:
        raise ValueError(f"checkpoint {ckpt} holds no run config; it was not written by rtmposelib's fit")
    model = load_pose_weights(build_model(cfg.model), ckpt)
    return cfg, model.eval()
