"""The top-down pose model (paper Sec. 2 / Fig. 4): a backbone over the person crop, then a head;
and the ``build_*`` functions that turn a :class:`~rtmposelib.config.ModelConfig` into modules.

Matches MMPose's ``TopdownPoseEstimator._forward`` (``backbone`` then ``head``, no neck), so the
attribute names ``backbone`` and ``head`` are the prefixes of official state_dict keys. The model
takes already normalised RGB crops; preprocessing, decoding and flip test live elsewhere
(:mod:`rtmposelib.data.preprocess`, :mod:`rtmposelib.codecs`).
"""
from __future__ import annotations

import torch
from torch import nn

from rtmposelib.config import ModelConfig
from rtmposelib.models.cspnext import CSPNeXt
from rtmposelib.models.heatmap_head import HeatmapHead
from rtmposelib.models.resnet import ResNet50
from rtmposelib.models.rtmcc_head import RTMCCHead
from rtmposelib.models.simcc_head import SimCCHead

BACKBONE_STRIDE = 32   # both backbones feed the head their stride-32 map


class TopdownPoseModel(nn.Module):
    """backbone + head.

    forward(images): (B, 3, H, W) float32 normalised RGB crops ->
    SimCC heads: (simcc_x (B, K, W*r), simcc_y (B, K, H*r)) logits;
    heatmap head: heatmaps (B, K, Hh, Wh).
    """

    def __init__(self, backbone: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, images: torch.Tensor):
        return self.head(self.backbone(images))


def build_backbone(cfg: ModelConfig) -> CSPNeXt | ResNet50:
    """CSPNeXt (RTMPose, out_indices (4,)) or ResNet-50 (Table 1); both expose ``out_channels``."""
    if cfg.backbone == "cspnext":
        return CSPNeXt(deepen_factor=cfg.deepen_factor, widen_factor=cfg.widen_factor, out_indices=(4,))
    if cfg.backbone == "resnet50":
        return ResNet50()
    raise ValueError(f"unknown backbone {cfg.backbone!r}")


def build_head(cfg: ModelConfig, in_channels: int) -> nn.Module:
    """The head named by ``cfg.head`` for a stride-32 feature map of ``in_channels`` channels."""
    featmap = (cfg.input_size[0] // BACKBONE_STRIDE, cfg.input_size[1] // BACKBONE_STRIDE)   # (w, h)
    if cfg.head == "rtmcc":
        return RTMCCHead(in_channels=in_channels, num_keypoints=cfg.num_keypoints, input_size=cfg.input_size,
                         in_featuremap_size=featmap, simcc_split_ratio=cfg.simcc_split_ratio,
                         final_layer_kernel_size=cfg.final_kernel_size, hidden_dims=cfg.hidden_dims,
                         use_gau=cfg.use_gau, gau_s=cfg.gau_s, gau_expansion=cfg.gau_expansion,
                         gau_attention=cfg.gau_attention)
    if cfg.head == "simcc":
        return SimCCHead(in_channels=in_channels, num_keypoints=cfg.num_keypoints, input_size=cfg.input_size,
                         in_featuremap_size=featmap, simcc_split_ratio=cfg.simcc_split_ratio,
                         deconv_out_channels=cfg.deconv_channels)
    if cfg.head == "heatmap":
        return HeatmapHead(in_channels=in_channels, num_keypoints=cfg.num_keypoints,
                           deconv_out_channels=cfg.deconv_channels)
    raise ValueError(f"unknown head {cfg.head!r}")


def build_model(cfg: ModelConfig) -> TopdownPoseModel:
    """The full top-down model of ``cfg`` (random init; see mmpose_checkpoint for official weights)."""
    backbone = build_backbone(cfg)
    head = build_head(cfg, backbone.out_channels[-1])
    return TopdownPoseModel(backbone, head)
