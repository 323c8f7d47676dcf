"""CSPNeXt, the backbone of RTMDet and RTMPose (paper Sec. 3.1 "CSPNeXt";
docs/official-behaviour.md "CSPNeXt backbone").

Matches MMDetection's ``mmdet/models/backbones/cspnext.py`` with ``arch='P5'`` (the copy MMPose
builds for RTMPose): a 3-conv stem (stride 2) and four stages, each a stride-2 3 x 3 ConvModule, the
parallel SPP (stage 4 only) and a CSPLayer of CSPNeXt blocks with channel attention. Sizes scale
with ``widen_factor`` (channels ``int(c * wf)``) and ``deepen_factor`` (blocks
``max(round(n * df), 1)``, Python round). Module names are MMDetection's (``stem``, ``stage1`` ..
``stage4``; inside a stage ``0`` = downsample conv, then ``spp``'s index, then the CSP layer), so an
official state_dict loads under the same keys.

Output index i is the output of layer i (0 = stem, 1..4 = stages), stride 2 ** (i + 1): RTMPose
uses ``out_indices=(4,)`` (stride 32, 8 x 6 for a 256 x 192 crop); RTMDet uses (2, 3, 4).
"""
from __future__ import annotations

import torch
from torch import nn

from rtmposelib.models.conv_module import ConvModule, DepthwiseSeparableConvModule
from rtmposelib.models.csp_layer import CSPLayer, SPPBottleneck

# P5 architecture: (in_channels, out_channels, num_blocks, add_identity, use_spp) before scaling.
P5_STAGES: tuple[tuple[int, int, int, bool, bool], ...] = (
    (64, 128, 3, True, False),
    (128, 256, 6, True, False),
    (256, 512, 6, True, False),
    (512, 1024, 3, False, True),
)


class CSPNeXt(nn.Module):
    """CSPNeXt-P5 backbone.

    forward(x): x (B, 3, H, W) float32, normalised RGB -> tuple with one (B, C_i, H / 2**(i+1),
    W / 2**(i+1)) map per entry of ``out_indices``; ``out_channels[j]`` is C of the j-th output.
    """

    def __init__(self, *, deepen_factor: float, widen_factor: float, out_indices: tuple[int, ...] = (4,),
                 use_depthwise: bool = False, expand_ratio: float = 0.5, channel_attention: bool = True,
                 spp_kernel_sizes: tuple[int, ...] = (5, 9, 13)) -> None:
        super().__init__()
        if deepen_factor <= 0 or widen_factor <= 0:
            raise ValueError(f"deepen_factor and widen_factor must be > 0, got {deepen_factor}, {widen_factor}")
        out_indices = tuple(out_indices)
        if not out_indices or any(i not in range(len(P5_STAGES) + 1) for i in out_indices):
            raise ValueError(f"out_indices must be a non-empty subset of 0..{len(P5_STAGES)}, got {out_indices}")
        self.out_indices = out_indices
        stem_out = int(P5_STAGES[0][0] * widen_factor)
        stem_mid = int(P5_STAGES[0][0] * widen_factor // 2)
        self.stem = nn.Sequential(
            ConvModule(in_channels=3, out_channels=stem_mid, kernel_size=3, stride=2),
            ConvModule(in_channels=stem_mid, out_channels=stem_mid, kernel_size=3),
            ConvModule(in_channels=stem_mid, out_channels=stem_out, kernel_size=3))
        channels = [stem_out]
        self.layers = ["stem"]
        for i, (c_in, c_out, n, add_identity, use_spp) in enumerate(P5_STAGES, start=1):
            c_in, c_out = int(c_in * widen_factor), int(c_out * widen_factor)
            num_blocks = max(round(n * deepen_factor), 1)
            if use_depthwise:
                down = DepthwiseSeparableConvModule(in_channels=c_in, out_channels=c_out, kernel_size=3,
                                                    stride=2)
            else:
                down = ConvModule(in_channels=c_in, out_channels=c_out, kernel_size=3, stride=2)
            stage: list[nn.Module] = [down]
            if use_spp:
                stage.append(SPPBottleneck(in_channels=c_out, out_channels=c_out,
                                           kernel_sizes=tuple(spp_kernel_sizes)))
            stage.append(CSPLayer(in_channels=c_out, out_channels=c_out, num_blocks=num_blocks,
                                  expand_ratio=expand_ratio, add_identity=add_identity,
                                  use_depthwise=use_depthwise, channel_attention=channel_attention))
            self.add_module(f"stage{i}", nn.Sequential(*stage))
            self.layers.append(f"stage{i}")
            channels.append(c_out)
        self.out_channels: list[int] = [channels[i] for i in out_indices]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"CSPNeXt expects images (B, 3, H, W), got shape {tuple(x.shape)}")
        outs = []
        for i, name in enumerate(self.layers):
            x = getattr(self, name)(x)          # stride 2 ** (i + 1)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
