"""ResNet-50 (He et al. 2016) as the backbone of the paper's Table 1 baselines (Heatmap, SimCC,
SimCC* at 256 x 192), built with timm and never pretrained here (no downloads).

timm's ``resnet50`` has the same layers and parameter names as MMPose's ``ResNet(depth=50)``
(``conv1``, ``bn1``, ``layer1`` .. ``layer4``, ``downsample.0/1``; stride on the 3 x 3 conv, "pytorch"
style), so official ResNet keys load under the same names. Only the stride-32 map is returned.
"""
from __future__ import annotations

import timm
import torch
from torch import nn


class ResNet50(nn.Module):
    """forward(x): (B, 3, H, W) float32 normalised RGB -> ((B, 2048, H / 32, W / 32),)."""

    # timm's feature layers, registered with add_module in __init__
    conv1: nn.Module
    bn1: nn.Module
    act1: nn.Module
    maxpool: nn.Module
    layer1: nn.Module
    layer2: nn.Module
    layer3: nn.Module
    layer4: nn.Module

    def __init__(self) -> None:
        super().__init__()
        net = timm.create_model("resnet50", pretrained=False, num_classes=0, global_pool="")
        # keep only the feature layers, under timm's (= MMPose's) names
        for name in ("conv1", "bn1", "act1", "maxpool", "layer1", "layer2", "layer3", "layer4"):
            self.add_module(name, getattr(net, name))
        self.out_channels: list[int] = [2048]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"ResNet50 expects images (B, 3, H, W), got shape {tuple(x.shape)}")
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))   # stride 4
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))   # stride 32
        return (x,)
