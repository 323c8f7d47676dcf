"""The paper's roadmap (Fig. 3, Sections 3.1-3.4) as a chain of named config deltas.

Each step is applied on top of the step before it, starting from the trimmed SimCC baseline (SimCC*)
on CSPNeXt-m. ``paper_ap`` is the COCO val AP that Fig. 3 / the text report after that step (read from
:mod:`rtmposelib.reference`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from rtmposelib.config import BASE_AUG, STRONG_AUG, WEAK_AUG, RunConfig, rtmpose, simcc_sigma


@dataclass(frozen=True)
class Step:
    name: str                                   # key used in results/ and on the command line
    label: str                                  # as printed in Fig. 3
    apply: Callable[[RunConfig], RunConfig]     # delta on the previous step's config

    @property
    def paper_ap(self) -> float:
        """COCO val AP after this step in the paper (Fig. 3)."""
        from rtmposelib.reference import paper_value

        return paper_value("fig3", self.name, "AP")


def _baseline(size: str = "m") -> RunConfig:
    """SimCC*: CSPNeXt, a 1x1 conv, flatten, two FC classifiers; SimCC's own label and loss settings."""
    cfg = rtmpose(size)
    model = replace(cfg.model, final_kernel_size=1, hidden_dims=None, use_gau=False)
    codec = replace(cfg.codec, sigma=(6.0, 6.0))            # SimCC's one shared sigma (bins)
    loss = replace(cfg.loss, beta=1.0, label_softmax=False, label_beta=1.0)
    train = replace(cfg.train, epochs=210, ema=False, lr_schedule="cosine", decay_norm_and_bias=True,
                    weight_decay=0.05, stage2_epochs=0, init_backbone=None)
    return replace(cfg, name=f"simcc-star-{size}", model=model, codec=codec, loss=loss, train=train,
                   aug_stage1=BASE_AUG, aug_stage2=BASE_AUG)


def _with(cfg: RunConfig, part: str, **changes) -> RunConfig:
    return replace(cfg, **{part: replace(getattr(cfg, part), **changes)})


STEPS: tuple[Step, ...] = (
    Step("baseline", "SimCC*", lambda c: c),
    # init_backbone is filled in by the suite with the checkpoint of the heatmap pre-training run
    Step("pretrain", "+ heatmap pre-training", lambda c: _with(c, "train", init_backbone="heatmap")),
    Step("ema", "+ EMA", lambda c: _with(c, "train", ema=True)),
    Step("flat_cosine", "+ flat cosine", lambda c: _with(c, "train", lr_schedule="flat_cosine")),
    Step("two_stage_aug", "+ two-stage aug, no decay on norm",
         lambda c: replace(_with(c, "train", stage2_epochs=max(1, round(c.train.epochs / 7)),
                                 decay_norm_and_bias=False),
                           aug_stage1=STRONG_AUG, aug_stage2=WEAK_AUG)),
    Step("feature_dim", "+ feature dim 256", lambda c: _with(c, "model", hidden_dims=256)),
    Step("gau", "+ GAU", lambda c: _with(c, "model", use_gau=True)),
    Step("temperature", "+ temperature 1/tau=10",
         lambda c: _with(c, "loss", beta=10.0, label_softmax=True, label_beta=10.0)),
    Step("separate_sigma", "+ separate sigma",
         lambda c: _with(c, "codec", sigma=simcc_sigma(c.codec.input_size, c.codec.split_ratio))),
    Step("kernel7", "+ 7x7 kernel", lambda c: _with(c, "model", final_kernel_size=7)),
    # 210 -> 420 epochs; the weak stage keeps its length (the official 420e config: last 30 epochs)
    Step("more_epochs", "+ 420 epochs", lambda c: _with(c, "train", epochs=2 * c.train.epochs)),
)
STEP_NAMES: tuple[str, ...] = tuple(s.name for s in STEPS)


def for_step(name: str, size: str = "m") -> RunConfig:
    """The config after applying every roadmap step up to and including ``name``."""
    if name not in STEP_NAMES:
        raise ValueError(f"unknown roadmap step {name!r}; choose from {STEP_NAMES}")
    cfg = _baseline(size)
    for step in STEPS:
        cfg = step.apply(cfg)
        if step.name == name:
            return replace(cfg, name=f"roadmap-{name}")
    raise AssertionError("unreachable")
