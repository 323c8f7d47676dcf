"""The RTMDet head with shared convolutions and separate BatchNorm per level (``RTMDetSepBNHead``).

Matches MMDetection's ``mmdet/models/dense_heads/rtmdet_head.py`` ``RTMDetSepBNHead`` forward:

- per level i (strides 8, 16, 32) a classification tower and a regression tower of ``stacked_convs``
  3 x 3 conv-BN-SiLU units (depthwise-separable when ``use_depthwise``, as RTMDet-nano);
- ``share_conv=True`` (RTMDet-t..x) ties the conv weights of every level to level 0's and keeps a
  BatchNorm per level; RTMDet-nano's config sets ``share_conv=False`` (no tying at all);
- 1 x 1 predictors ``rtm_cls`` (num_classes logits) and ``rtm_reg`` (4 distances) per level;
- distances = ``rtm_reg(x) * stride`` or, with ``exp_on_reg`` (RTMDet-t..x; nano: False),
  ``exp(rtm_reg(x)) * stride``: (left, top, right, bottom) from the prior point, input pixels.
- initialisation: every conv N(0, 0.01), BN weight 1, classifier bias -log((1 - 0.01) / 0.01).

Forward only: no loss, no decode (see ``assigner.py``, ``det_losses.py``, ``postprocess.py``).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from rtmposelib.models.conv_module import ConvModule, DepthwiseSeparableConvModule

PRIOR_PROB = 0.01


class RTMDetSepBNHead(nn.Module):
    """forward(feats) with feats a tuple of (B, in_channels, H_i, W_i) maps, one per stride ->
    (cls_scores, bbox_preds): tuples of (B, num_classes, H_i, W_i) logits and (B, 4, H_i, W_i)
    distances (l, t, r, b) in input pixels.
    """

    def __init__(self, *, num_classes: int, in_channels: int, feat_channels: int, stacked_convs: int = 2,
                 strides: tuple[int, ...] = (8, 16, 32), share_conv: bool = True, use_depthwise: bool = False,
                 exp_on_reg: bool = False, pred_kernel_size: int = 1) -> None:
        super().__init__()
        if num_classes < 1 or stacked_convs < 1:
            raise ValueError(f"num_classes and stacked_convs must be >= 1, got {num_classes}, {stacked_convs}")
        self.num_classes = num_classes
        self.strides = tuple(int(s) for s in strides)
        self.exp_on_reg = exp_on_reg
        self.cls_convs = nn.ModuleList()
        self.reg_convs = nn.ModuleList()
        self.rtm_cls = nn.ModuleList()
        self.rtm_reg = nn.ModuleList()
        pad = pred_kernel_size // 2
        for _ in self.strides:
            towers = []
            for _ in range(2):
                towers.append(nn.ModuleList(
                    self._unit(in_channels if i == 0 else feat_channels, feat_channels, use_depthwise)
                    for i in range(stacked_convs)))
            self.cls_convs.append(towers[0])
            self.reg_convs.append(towers[1])
            self.rtm_cls.append(nn.Conv2d(feat_channels, num_classes, pred_kernel_size, padding=pad))
            self.rtm_reg.append(nn.Conv2d(feat_channels, 4, pred_kernel_size, padding=pad))
        if share_conv:                        # tie conv weights across levels; BN stays per level
            for level in range(1, len(self.strides)):
                for i in range(stacked_convs):
                    for towers in (self.cls_convs, self.reg_convs):
                        self._tie(self._tower(towers, level)[i], self._tower(towers, 0)[i])
        self._init_weights()

    @staticmethod
    def _unit(c_in: int, c_out: int, depthwise: bool) -> nn.Module:
        if depthwise:
            return DepthwiseSeparableConvModule(in_channels=c_in, out_channels=c_out, kernel_size=3)
        return ConvModule(in_channels=c_in, out_channels=c_out, kernel_size=3)

    @staticmethod
    def _tower(towers: nn.ModuleList, level: int) -> nn.ModuleList:
        """The conv units of ``level`` in ``cls_convs`` or ``reg_convs``."""
        tower = towers[level]
        assert isinstance(tower, nn.ModuleList)
        return tower

    @staticmethod
    def _tie(unit: nn.Module, reference: nn.Module) -> None:
        if isinstance(unit, DepthwiseSeparableConvModule):
            assert isinstance(reference, DepthwiseSeparableConvModule)     # both made by _unit
            unit.depthwise_conv.conv = reference.depthwise_conv.conv
            unit.pointwise_conv.conv = reference.pointwise_conv.conv
        else:
            assert isinstance(unit, ConvModule) and isinstance(reference, ConvModule)
            unit.conv = reference.conv

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0.0, 0.01)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        bias_cls = -math.log((1 - PRIOR_PROB) / PRIOR_PROB)
        for conv in self.rtm_cls:
            assert isinstance(conv, nn.Conv2d) and conv.bias is not None
            nn.init.constant_(conv.bias, bias_cls)

    def forward(self, feats: tuple[torch.Tensor, ...]) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
        if len(feats) != len(self.strides):
            raise ValueError(f"RTMDetSepBNHead expects {len(self.strides)} feature maps, got {len(feats)}")
        cls_scores, bbox_preds = [], []
        for level, (x, stride) in enumerate(zip(feats, self.strides)):
            cls_feat, reg_feat = x, x
            for unit in self._tower(self.cls_convs, level):
                cls_feat = unit(cls_feat)
            for unit in self._tower(self.reg_convs, level):
                reg_feat = unit(reg_feat)
            reg = self.rtm_reg[level](reg_feat)                     # (B, 4, H, W)
            if self.exp_on_reg:
                reg = reg.exp()
            cls_scores.append(self.rtm_cls[level](cls_feat))        # (B, num_classes, H, W) logits
            bbox_preds.append(reg * stride)                         # (B, 4, H, W) input pixels
        return tuple(cls_scores), tuple(bbox_preds)
