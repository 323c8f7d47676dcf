"""Conv -> BatchNorm -> SiLU units of CSPNeXt, named as mmcv's ``ConvModule`` and
``DepthwiseSeparableConvModule`` so that official state_dict keys (``conv``, ``bn``,
``depthwise_conv``, ``pointwise_conv``) line up one to one (docs/official-behaviour.md "CSPNeXt backbone").

Official behaviour matched:
- the convolution has no bias because a norm follows it (mmcv ``bias='auto'``);
- BatchNorm uses PyTorch's defaults (momentum 0.1, eps 1e-5): the RTMPose configs pass
  ``norm_cfg=dict(type='SyncBN')`` with no extra keys, so CSPNeXt's own 0.03 / 1e-3 are unused;
- a depthwise-separable conv is a k x k depthwise ConvModule (groups = C_in) followed by a 1 x 1
  pointwise ConvModule, each with its own BN and SiLU;
- initialisation as mmcv's ``ConvModule.init_weights``: conv weight Kaiming-normal (fan_out, relu),
  BN weight 1 and bias 0.
"""
from __future__ import annotations

import torch
from torch import nn


class ConvModule(nn.Module):
    """Conv2d (no bias) + BatchNorm2d + SiLU.

    Input (B, in_channels, H, W) float32 -> (B, out_channels, H', W') with
    H' = floor((H + 2 * padding - kernel_size) / stride) + 1.
    """

    def __init__(self, *, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int | None = None, groups: int = 1, act: bool = True) -> None:
        super().__init__()
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"channels must be positive, got in={in_channels}, out={out_channels}")
        if padding is None:
            padding = kernel_size // 2
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                              padding=padding, groups=groups, bias=False)
        self.bn: nn.BatchNorm2d | nn.Identity = nn.BatchNorm2d(out_channels)   # Identity once folded
        self.activate = nn.SiLU() if act else nn.Identity()
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activate(self.bn(self.conv(x)))


class DepthwiseSeparableConvModule(nn.Module):
    """Depthwise k x k ConvModule (groups = in_channels) then pointwise 1 x 1 ConvModule.

    Input (B, in_channels, H, W) -> (B, out_channels, H', W'); stride applies to the depthwise conv.
    """

    def __init__(self, *, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int | None = None) -> None:
        super().__init__()
        self.depthwise_conv = ConvModule(in_channels=in_channels, out_channels=in_channels,
                                         kernel_size=kernel_size, stride=stride, padding=padding,
                                         groups=in_channels)
        self.pointwise_conv = ConvModule(in_channels=in_channels, out_channels=out_channels,
                                         kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise_conv(self.depthwise_conv(x))
