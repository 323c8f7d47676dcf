"""Heatmap (UDP) pre-training of the backbone, then SimCC training initialised from it (paper Sec. 3.2).

The paper pre-trains CSPNeXt with a heatmap head before training RTMPose ("+ heatmap pre-training",
Fig. 3). The official configs ``projects/rtmpose/rtmpose/pretrain_cspnext_udp/cspnext-*_udp_8xb256-210e
_coco-256x192.py`` (docs/official-behaviour.md "Heatmap pre-training"): SimpleBaseline heatmap head (3 deconvs of 256,
then a 1x1 conv),
UDP heatmaps at 1/4 of the input with sigma 2, KeypointMSELoss with target weights, TopdownAffine with
UDP, the same two-stage augmentation, 210 epochs (half the SimCC run's 420), AdamW lr 4e-3 with weight
decay 0.05 for every size (tiny included), flat-cosine over the second half, EMA except for tiny, no
flip test. The pre-training is the same :func:`~rtmposelib.train.loop.fit` as any other run: these
functions only derive its config, and the fine-tune's.
The stage-2 length keeps the SimCC run's share of the run (30 of 420 -> 15 of 210); docs/decisions.md
says why.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rtmposelib.config import RunConfig


def heatmap_pretrain_config(cfg: RunConfig, *, epochs: int | None = None) -> RunConfig:
    """The UDP heatmap pre-training run for ``cfg``'s backbone, input size and data.

    epochs: None = half of ``cfg``'s run (210 for the official 420), as the official pre-training.
    """
    w, h = cfg.model.input_size
    t = cfg.train
    n = max(1, round(t.epochs / 2)) if epochs is None else epochs
    if n < 1:
        raise ValueError(f"pre-training epochs must be >= 1, got {n}")
    stage2 = 0 if t.stage2_epochs == 0 or n == 1 else max(1, min(n - 1, round(n * t.stage2_epochs / t.epochs)))
    model = replace(cfg.model, head="heatmap", deconv_channels=(256, 256, 256))
    codec = replace(cfg.codec, kind="udp_heatmap", heatmap_size=(w // 4, h // 4), heatmap_sigma=2.0)
    loss = replace(cfg.loss, kind="keypoint_mse", use_target_weight=True)
    train = replace(t, epochs=n, stage2_epochs=stage2, weight_decay=0.05, lr_schedule="flat_cosine",
                    init_backbone=None)
    return replace(cfg, name=f"{cfg.name}-heatmap-pretrain", model=model, codec=codec, loss=loss,
                   train=train, flip_test=False)


def finetune_config(cfg: RunConfig, pretrained: str | Path) -> RunConfig:
    """``cfg`` with its backbone initialised from the pre-training run's checkpoint (``last.pth`` uses
    its EMA weights when present; ``best.pth`` or a ``save_backbone`` file work too)."""
    path = Path(pretrained)
    if path.is_dir():
        path = path / "last.pth"
    if not path.is_file():
        raise FileNotFoundError(f"pre-trained checkpoint {path} does not exist")
    return replace(cfg, train=replace(cfg.train, init_backbone=str(path)))
