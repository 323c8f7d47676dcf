"""The model family with the final recipe (paper Fig. 1 and Fig. 5): RTMPose-t/s/m/l trained alike.

Every size trains the configuration of the roadmap's last step (the final recipe) at the scale, each
from its own initialisation: at smoke / cpu scale a stand-in run of that size (the UDP heatmap task on
the stand-in's own SynthPose set, as :func:`rtmposelib.experiments.runs.standin_config`), at paper
scale an ImageNet CSPNeXt of that size when one is given, else random initialisation. Only the
backbone's depth and width change between sizes (the head follows the backbone's output channels).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rtmposelib.config import CSPNEXT_FACTORS, RunConfig
from rtmposelib.experiments.runs import run_checkpoint, standin_config
from rtmposelib.roadmap import STEP_NAMES, for_step
from rtmposelib.suite.scales import at_scale, get_scale

FAMILY_STEP = STEP_NAMES[-1]          # the final recipe: the roadmap's last step


def family_sizes(scale: str) -> tuple[str, ...]:
    """The sizes the scale trains for Fig. 1 / Fig. 5 (``Scale.family_sizes``, else ``model_sizes``)."""
    s = get_scale(scale)
    return tuple(s.family_sizes or s.model_sizes)


def with_model_size(cfg: RunConfig, size: str) -> RunConfig:
    """``cfg`` with the CSPNeXt depth and width of ``size`` (t, s, m, l, x); empty ``size`` keeps it."""
    if not size:
        return cfg
    if size not in CSPNEXT_FACTORS:
        raise ValueError(f"unknown model size {size!r}; choose from {sorted(CSPNEXT_FACTORS)}")
    deepen, widen = CSPNEXT_FACTORS[size]
    return replace(cfg, name=f"{cfg.name}-{size}", model=replace(cfg.model, deepen_factor=deepen, widen_factor=widen))


def size_standin_config(scale: str, size: str, *, epochs: int = 0) -> RunConfig:
    """The stand-in initialisation (smoke / cpu) of one size: the scale's stand-in run with that backbone,
    and ``epochs`` epochs instead of ``Scale.standin_epochs`` when given (the family's own stand-ins)."""
    cfg = with_model_size(standin_config(scale), size)
    if epochs:
        cfg = replace(cfg, name=f"{cfg.name}-{epochs}ep", train=replace(cfg.train, epochs=int(epochs),
                                                                         val_interval=int(epochs)))
    return cfg


def size_config(size: str, *, scale: str, seed: int = 0, init_dir: str | None = None,
                imagenet_backbone: str | None = None) -> RunConfig:
    """The final recipe at ``scale`` for one size of the family.

    init_dir: the size's stand-in run (required at the scales with a stand-in). imagenet_backbone: an
    ImageNet CSPNeXt checkpoint of that size (paper scale; None = random initialisation).
    """
    cfg = with_model_size(at_scale(for_step(FAMILY_STEP), scale), size)
    if get_scale(scale).standin_images:
        if not init_dir:
            raise ValueError(f"at {get_scale(scale).name} scale each size starts from its own stand-in run: "
                             "pass init_dir")
        init = str(run_checkpoint(init_dir))
    elif imagenet_backbone:
        if not Path(imagenet_backbone).is_file():
            raise FileNotFoundError(f"ImageNet backbone checkpoint {imagenet_backbone} does not exist")
        init = str(imagenet_backbone)
    else:
        init = None
    return replace(cfg, train=replace(cfg.train, init_backbone=init, seed=int(seed)))


def size_metrics(metrics: dict, *, size: str, cfg: RunConfig) -> dict:
    """A family run's metrics plus its size and crop (read by
    :func:`rtmposelib.experiments.speed.speed_accuracy_frame`)."""
    w, h = cfg.model.input_size
    return {**metrics, "size": size, "step": FAMILY_STEP, "input_w": int(w), "input_h": int(h)}
