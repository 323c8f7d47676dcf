"""The CSP building blocks of CSPNeXt (RTMDet / RTMPose backbone; docs/official-behaviour.md "CSPNeXt backbone").

Matches MMDetection's ``mmdet/models/layers/csp_layer.py`` (``CSPNeXtBlock``, ``CSPLayer``),
``se_layer.py`` (``ChannelAttention``) and ``backbones/csp_darknet.py`` (``SPPBottleneck``):
- CSPNeXtBlock: 3 x 3 ConvModule, then a depthwise-separable 5 x 5 conv; residual add when
  ``add_identity`` (stages 1-3) and in == out. With ``use_depthwise`` the 3 x 3 conv is
  depthwise-separable too (RTMDet-nano).
- CSPLayer: ``main_conv`` and ``short_conv`` are two parallel 1 x 1 convs of the same input; the main
  branch runs the blocks; concat [main, short] -> channel attention -> 1 x 1 ``final_conv``.
- ChannelAttention: global average pool -> 1 x 1 conv with bias -> Hardsigmoid -> scale the input.
- SPPBottleneck: the *parallel* SPP: 1 x 1 conv to C/2, max-pools k = 5, 9, 13 (stride 1, same
  padding) of that map, concat [x, p5, p9, p13], 1 x 1 conv back to C (not the sequential SPPF).
Attribute names equal the official ones, so official state_dict keys map one to one.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from rtmposelib.models.conv_module import ConvModule, DepthwiseSeparableConvModule


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation without reduction: x * hardsigmoid(fc(avgpool(x))). (B, C, H, W) -> same."""

    def __init__(self, *, channels: int) -> None:
        super().__init__()
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(channels, channels, 1, bias=True)
        self.act = nn.Hardsigmoid()
        # CSPNeXt's init_cfg: Kaiming-uniform (a=sqrt(5), fan_in) for plain Conv2d layers, bias 0.
        nn.init.kaiming_uniform_(self.fc.weight, a=math.sqrt(5))
        assert self.fc.bias is not None                      # bias=True
        nn.init.zeros_(self.fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.act(self.fc(self.global_avgpool(x)))   # (B, C, 1, 1)
        return x * weights


class CSPNeXtBlock(nn.Module):
    """3 x 3 conv then depthwise-separable k x k conv (k = 5), optional residual. (B, C, H, W) -> (B, C_out, H, W)."""

    def __init__(self, *, in_channels: int, out_channels: int, expansion: float = 1.0,
                 add_identity: bool = True, use_depthwise: bool = False, kernel_size: int = 5) -> None:
        super().__init__()
        hidden = int(out_channels * expansion)
        self.conv1: DepthwiseSeparableConvModule | ConvModule
        if use_depthwise:
            self.conv1 = DepthwiseSeparableConvModule(in_channels=in_channels, out_channels=hidden,
                                                      kernel_size=3)
        else:
            self.conv1 = ConvModule(in_channels=in_channels, out_channels=hidden, kernel_size=3)
        self.conv2 = DepthwiseSeparableConvModule(in_channels=hidden, out_channels=out_channels,
                                                  kernel_size=kernel_size)
        self.add_identity = add_identity and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.conv1(x))
        return out + x if self.add_identity else out


class CSPLayer(nn.Module):
    """Cross-stage-partial layer with CSPNeXt blocks. (B, in_channels, H, W) -> (B, out_channels, H, W)."""

    def __init__(self, *, in_channels: int, out_channels: int, num_blocks: int, expand_ratio: float = 0.5,
                 add_identity: bool = True, use_depthwise: bool = False,
                 channel_attention: bool = True) -> None:
        super().__init__()
        if num_blocks < 1:
            raise ValueError(f"num_blocks must be >= 1, got {num_blocks}")
        mid = int(out_channels * expand_ratio)
        self.main_conv = ConvModule(in_channels=in_channels, out_channels=mid, kernel_size=1)
        self.short_conv = ConvModule(in_channels=in_channels, out_channels=mid, kernel_size=1)
        self.final_conv = ConvModule(in_channels=2 * mid, out_channels=out_channels, kernel_size=1)
        self.blocks = nn.Sequential(*[
            CSPNeXtBlock(in_channels=mid, out_channels=mid, expansion=1.0, add_identity=add_identity,
                         use_depthwise=use_depthwise)
            for _ in range(num_blocks)])
        self.attention = ChannelAttention(channels=2 * mid) if channel_attention else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        short = self.short_conv(x)                       # (B, mid, H, W)
        main = self.blocks(self.main_conv(x))            # (B, mid, H, W)
        out = torch.cat((main, short), dim=1)            # (B, 2 mid, H, W): main first, as official
        if self.attention is not None:
            out = self.attention(out)
        return self.final_conv(out)


class SPPBottleneck(nn.Module):
    """Parallel spatial pyramid pooling (YOLOv3-SPP style). (B, C_in, H, W) -> (B, C_out, H, W)."""

    def __init__(self, *, in_channels: int, out_channels: int,
                 kernel_sizes: tuple[int, ...] = (5, 9, 13)) -> None:
        super().__init__()
        if any(k % 2 != 1 for k in kernel_sizes):
            raise ValueError(f"SPP kernel sizes must be odd, got {kernel_sizes}")
        mid = in_channels // 2
        self.conv1 = ConvModule(in_channels=in_channels, out_channels=mid, kernel_size=1)
        self.poolings = nn.ModuleList(
            nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2) for k in kernel_sizes)
        self.conv2 = ConvModule(in_channels=mid * (len(kernel_sizes) + 1), out_channels=out_channels,
                                kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)                                                  # (B, C/2, H, W)
        x = torch.cat([x] + [pool(x) for pool in self.poolings], dim=1)    # (B, (n+1) C/2, H, W)
        return self.conv2(x)
