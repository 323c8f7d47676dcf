"""SimpleBaseline heatmap head (Xiao et al. 2018), the Heatmap row of the paper's Table 1 and the
head of RTMPose's UDP heatmap pre-training of CSPNeXt (paper Sec. 3.2;
docs/official-behaviour.md "Heatmap pre-training").

Matches MMPose's ``HeatmapHead`` (``mmpose/models/heads/heatmap_heads/heatmap_head.py``) with its
defaults: three ``ConvTranspose2d(k=4, stride 2, padding 1, no bias)`` + BN + ReLU blocks of 256
channels (``deconv_layers``), then a 1 x 1 conv with bias to K (``final_layer``). Forward only.
Initialisation as the official init_cfg: deconv and conv weights ~ N(0, 0.001), biases 0, BN 1 / 0.
"""
from __future__ import annotations

import torch
from torch import nn


class HeatmapHead(nn.Module):
    """Deconvolution head. forward(feats): last map (B, C, Hf, Wf) -> heatmaps (B, K, Hf * 2**n, Wf * 2**n)
    with n = len(deconv_out_channels) (64 x 48 for a 256 x 192 crop and stride-32 features).
    """

    def __init__(self, *, in_channels: int, num_keypoints: int,
                 deconv_out_channels: tuple[int, ...] = (256, 256, 256),
                 deconv_kernel_size: int = 4) -> None:
        super().__init__()
        if deconv_kernel_size not in (2, 3, 4):
            raise ValueError(f"deconv_kernel_size must be 2, 3 or 4, got {deconv_kernel_size}")
        # (padding, output_padding) that make each deconv an exact x2 upsampling, as MMPose.
        padding, output_padding = {4: (1, 0), 3: (1, 1), 2: (0, 0)}[deconv_kernel_size]
        layers: list[nn.Module] = []
        channels = in_channels
        for out in deconv_out_channels:
            layers += [nn.ConvTranspose2d(channels, out, deconv_kernel_size, stride=2, padding=padding,
                                          output_padding=output_padding, bias=False),
                       nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            channels = out
        self.deconv_layers = nn.Sequential(*layers)
        self.final_layer = nn.Conv2d(channels, num_keypoints, kernel_size=1)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(m.weight, 0.0, 0.001)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, feats: tuple[torch.Tensor, ...]) -> torch.Tensor:
        x = self.deconv_layers(feats[-1])   # (B, 256, Hf * 8, Wf * 8)
        return self.final_layer(x)          # (B, K, Hh, Wh)
