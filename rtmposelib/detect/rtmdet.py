"""RTMDet, the one-stage detector in front of RTMPose (RTMPose paper Sec. 3.5 and Table 5: RTMDet-nano,
320 x 320, person only; RTMDet paper, Lyu et al. 2022).

Matches MMDetection's ``RTMDet`` as configured by MMPose's
``projects/rtmpose/rtmdet/person/rtmdet_nano_320-8xb32_coco-person.py`` (docs/official-behaviour.md "Model zoo"), which
inherits
``mmdet::rtmdet/rtmdet_l_8xb32-300e_coco.py``:

- backbone: CSPNeXt-P5, deepen 0.33, widen 0.25, depthwise, outputs of stages 2-4 (strides 8/16/32,
  channels 64/128/256), channel attention on;
- neck: CSPNeXtPAFPN, out 64, one CSP block, depthwise;
- head: RTMDetSepBNHead, 64 feature channels, 2 stacked convs, depthwise, ``share_conv=False``,
  ``exp_on_reg=False``, one class;
- priors: MMDetection's ``MlvlPointGenerator(offset=0)``: the top-left corner (x * s, y * s) of every
  cell, row-major, strides 8, 16, 32.
- BatchNorm at PyTorch defaults (the configs pass ``SyncBN`` with no extra keys).

The model takes (B, 3, H, W) float32 letterboxed images normalised with the BGR mean/std
(``det_data.py``) and returns the head's raw per-level outputs; decoding and NMS live in
``postprocess.py``. Submodule names ``backbone``, ``neck``, ``bbox_head`` equal MMDetection's.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rtmposelib.detect.pafpn import CSPNeXtPAFPN
from rtmposelib.detect.rtmdet_head import RTMDetSepBNHead
from rtmposelib.models.cspnext import CSPNeXt


@dataclass(frozen=True)
class RTMDetConfig:
    """An RTMDet variant; the defaults are the official RTMDet-nano person detector."""
    deepen_factor: float = 0.33
    widen_factor: float = 0.25
    use_depthwise: bool = True
    neck_channels: int = 64                       # PAFPN out_channels = head in/feat channels
    num_csp_blocks: int = 1
    num_classes: int = 1                          # person
    stacked_convs: int = 2
    share_conv: bool = False
    exp_on_reg: bool = False
    strides: tuple[int, ...] = (8, 16, 32)
    input_size: tuple[int, int] = (320, 320)      # (w, h) letterbox pixels


class RTMDet(nn.Module):
    """backbone -> neck -> bbox_head.

    forward(images (B, 3, H, W)) -> (cls_scores, bbox_preds), one (B, num_classes, H/s, W/s) logit map
    and one (B, 4, H/s, W/s) distance map (input pixels) per stride s.
    """

    def __init__(self, backbone: nn.Module, neck: nn.Module, bbox_head: RTMDetSepBNHead) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.bbox_head = bbox_head

    @property
    def strides(self) -> tuple[int, ...]:
        return self.bbox_head.strides

    @property
    def num_classes(self) -> int:
        return self.bbox_head.num_classes

    def forward(self, images: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
        return self.bbox_head(self.neck(self.backbone(images)))


def grid_priors(sizes: list[tuple[int, int]], strides: tuple[int, ...], *,
                device: torch.device | str = "cpu") -> torch.Tensor:
    """Prior points of all levels, concatenated: (sum H_i W_i, 4) float32 rows (x, y, stride, stride),
    input pixels. ``sizes`` are the feature maps' (h, w); order is row-major per level, finest first,
    matching ``cls.permute(0, 2, 3, 1).reshape(B, -1, C)`` of each level."""
    rows = []
    for (h, w), s in zip(sizes, strides):
        ys, xs = torch.meshgrid(torch.arange(h, device=device, dtype=torch.float32) * s,
                                torch.arange(w, device=device, dtype=torch.float32) * s, indexing="ij")
        stride = torch.full_like(xs, float(s))
        rows.append(torch.stack([xs, ys, stride, stride], dim=-1).reshape(-1, 4))
    return torch.cat(rows)


def flatten_outputs(cls_scores: tuple[torch.Tensor, ...], bbox_preds: tuple[torch.Tensor, ...]
                    ) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, int]]]:
    """Per-level head outputs -> (logits (B, P, C), distances (B, P, 4), level sizes [(h, w)])."""
    b = cls_scores[0].shape[0]
    logits = torch.cat([c.permute(0, 2, 3, 1).reshape(b, -1, c.shape[1]) for c in cls_scores], dim=1)
    dists = torch.cat([d.permute(0, 2, 3, 1).reshape(b, -1, 4) for d in bbox_preds], dim=1)
    return logits, dists, [(c.shape[-2], c.shape[-1]) for c in cls_scores]


def distance_to_box(points: torch.Tensor, distances: torch.Tensor) -> torch.Tensor:
    """(..., 2+) points (x, y) and (..., 4) distances (l, t, r, b) -> (..., 4) boxes x1, y1, x2, y2."""
    x, y = points[..., 0], points[..., 1]
    return torch.stack([x - distances[..., 0], y - distances[..., 1],
                        x + distances[..., 2], y + distances[..., 3]], dim=-1)


def build_rtmdet(cfg: RTMDetConfig) -> RTMDet:
    """The RTMDet of ``cfg`` with fresh weights (no pretrained weights are ever downloaded)."""
    backbone = CSPNeXt(deepen_factor=cfg.deepen_factor, widen_factor=cfg.widen_factor, out_indices=(2, 3, 4),
                       use_depthwise=cfg.use_depthwise, channel_attention=True)
    neck = CSPNeXtPAFPN(in_channels=tuple(backbone.out_channels), out_channels=cfg.neck_channels,
                        num_csp_blocks=cfg.num_csp_blocks, use_depthwise=cfg.use_depthwise)
    head = RTMDetSepBNHead(num_classes=cfg.num_classes, in_channels=cfg.neck_channels,
                           feat_channels=cfg.neck_channels, stacked_convs=cfg.stacked_convs,
                           strides=cfg.strides, share_conv=cfg.share_conv, use_depthwise=cfg.use_depthwise,
                           exp_on_reg=cfg.exp_on_reg)
    return RTMDet(backbone, neck, head)


def build_rtmdet_nano() -> RTMDet:
    """The official RTMDet-nano person detector (0.99 M parameters, 0.31 GFLOPs at 320 x 320)."""
    return build_rtmdet(RTMDetConfig())
