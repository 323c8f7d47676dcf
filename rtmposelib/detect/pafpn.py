"""CSPNeXtPAFPN, the neck of RTMDet (RTMDet paper Sec. 3.1; RTMPose paper Sec. 3.5 uses RTMDet-nano).

Matches MMDetection's ``mmdet/models/necks/cspnext_pafpn.py`` (v3.x):

- top-down: the coarsest map is reduced by a 1 x 1 ConvModule to the next level's channels, upsampled
  x2 (nearest), concatenated [upsampled, lateral] and fused by a CSPLayer (no identity, no channel
  attention, CSPNeXt blocks, depthwise when ``use_depthwise``);
- bottom-up: a 3 x 3 stride-2 conv (depthwise-separable when ``use_depthwise``) of the finer output,
  concatenated [downsampled, top-down map] and fused by a CSPLayer;
- one 3 x 3 output conv per level to ``out_channels`` (depthwise-separable when ``use_depthwise``).

Module names (``reduce_layers``, ``top_down_blocks``, ``downsamples``, ``bottom_up_blocks``,
``out_convs``) equal the official ones, so an official ``neck.*`` state_dict loads key for key.
RTMDet-nano: in_channels (64, 128, 256), out_channels 64, one block per CSPLayer, depthwise.
"""
from __future__ import annotations

import torch
from torch import nn

from rtmposelib.models.conv_module import ConvModule, DepthwiseSeparableConvModule
from rtmposelib.models.csp_layer import CSPLayer


def _conv3x3(*, in_channels: int, out_channels: int, stride: int, depthwise: bool) -> nn.Module:
    if depthwise:
        return DepthwiseSeparableConvModule(in_channels=in_channels, out_channels=out_channels,
                                            kernel_size=3, stride=stride)
    return ConvModule(in_channels=in_channels, out_channels=out_channels, kernel_size=3, stride=stride)


class CSPNeXtPAFPN(nn.Module):
    """Path-aggregation FPN with CSPNeXt blocks.

    forward(feats): tuple of (B, in_channels[i], H_i, W_i) maps, finest first, each level half the
    size of the previous one -> tuple of (B, out_channels, H_i, W_i), same order.
    """

    def __init__(self, *, in_channels: tuple[int, ...], out_channels: int, num_csp_blocks: int = 3,
                 use_depthwise: bool = False, expand_ratio: float = 0.5) -> None:
        super().__init__()
        in_channels = tuple(int(c) for c in in_channels)
        if len(in_channels) < 2:
            raise ValueError(f"CSPNeXtPAFPN needs at least two input levels, got in_channels={in_channels}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        n = len(in_channels)
        self.reduce_layers = nn.ModuleList()
        self.top_down_blocks = nn.ModuleList()
        for idx in range(n - 1, 0, -1):                       # coarsest -> finest
            self.reduce_layers.append(ConvModule(in_channels=in_channels[idx],
                                                 out_channels=in_channels[idx - 1], kernel_size=1))
            self.top_down_blocks.append(CSPLayer(
                in_channels=2 * in_channels[idx - 1], out_channels=in_channels[idx - 1],
                num_blocks=num_csp_blocks, expand_ratio=expand_ratio, add_identity=False,
                use_depthwise=use_depthwise, channel_attention=False))
        self.downsamples = nn.ModuleList()
        self.bottom_up_blocks = nn.ModuleList()
        for idx in range(n - 1):                              # finest -> coarsest
            self.downsamples.append(_conv3x3(in_channels=in_channels[idx], out_channels=in_channels[idx],
                                             stride=2, depthwise=use_depthwise))
            self.bottom_up_blocks.append(CSPLayer(
                in_channels=2 * in_channels[idx], out_channels=in_channels[idx + 1],
                num_blocks=num_csp_blocks, expand_ratio=expand_ratio, add_identity=False,
                use_depthwise=use_depthwise, channel_attention=False))
        self.out_convs = nn.ModuleList(
            _conv3x3(in_channels=c, out_channels=out_channels, stride=1, depthwise=use_depthwise)
            for c in in_channels)

    def forward(self, feats: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        n = len(self.in_channels)
        if len(feats) != n:
            raise ValueError(f"CSPNeXtPAFPN expects {n} feature maps, got {len(feats)}")
        # 1. top-down: inner[0] is always the current finest fused map
        inner = [feats[-1]]
        for step, idx in enumerate(range(n - 1, 0, -1)):
            high = self.reduce_layers[step](inner[0])          # (B, C_{idx-1}, H_idx, W_idx)
            inner[0] = high
            fused = self.top_down_blocks[step](torch.cat([self.upsample(high), feats[idx - 1]], dim=1))
            inner.insert(0, fused)                             # (B, C_{idx-1}, H_{idx-1}, W_{idx-1})
        # 2. bottom-up
        outs = [inner[0]]
        for idx in range(n - 1):
            down = self.downsamples[idx](outs[-1])
            outs.append(self.bottom_up_blocks[idx](torch.cat([down, inner[idx + 1]], dim=1)))
        # 3. output convs to out_channels
        return tuple(conv(x) for conv, x in zip(self.out_convs, outs))
