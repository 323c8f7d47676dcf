"""RTMCC head: SimCC coordinate classification with a large-kernel conv, an FC expansion and a Gated
Attention Unit (paper Sec. 3.3 and Fig. 4; docs/official-behaviour.md "RTMCC head"), matching MMPose's ``RTMCCHead``
(``mmpose/models/heads/coord_cls_heads/rtmcc_head.py``), forward only.

    feats[-1] (B, C, Hf, Wf) --final_layer kxk conv--> (B, K, Hf, Wf) --flatten--> (B, K, Hf*Wf)
      --mlp: ScaleNorm + Linear(no bias)--> (B, K, hidden) --GAU--> (B, K, hidden)
      --cls_x / cls_y (no bias)--> simcc_x (B, K, W*r), simcc_y (B, K, H*r)

Switches used by the paper's roadmap (Fig. 3, Table 2):
- ``final_layer_kernel_size`` 1 / 3 / 5 / 7 / 9 (official 7);
- ``hidden_dims=None``: no FC expansion, the flattened map is classified directly. With
  ``use_gau=False`` and kernel 1 this is SimCC* (the paper's trimmed SimCC baseline). Its two
  classifiers then carry a bias, as MMPose's ``SimCCHead`` without deconvolutions (so the Table 1
  SimCC* head has 0.079 M parameters);
- ``use_gau``: the GAU on or off;
- ``gau_attention``: "official" (no 1/n) or "paper" (with 1/n), see :mod:`rtmposelib.models.gau`.

Initialisation as the official ``init_cfg``: Conv2d ~ N(0, 0.001), every Linear ~ N(0, 0.01), biases 0
(this overrides the GAU's own Xavier init, as mmengine applies init_cfg after construction).
"""
from __future__ import annotations

import torch
from torch import nn

from rtmposelib.models.gau import GatedAttentionUnit, ScaleNorm


class RTMCCHead(nn.Module):
    """RTMPose's SimCC head.

    Args (all keyword): in_channels C of the last feature map; num_keypoints K; input_size (w, h)
    crop pixels; in_featuremap_size (w, h) of the last feature map; simcc_split_ratio r (bins per
    pixel); the switches described in the module docstring.

    forward(feats): tuple of feature maps, the last (B, C, Hf, Wf) float32 is used ->
    (simcc_x (B, K, w*r), simcc_y (B, K, h*r)) raw logits.
    """

    def __init__(self, *, in_channels: int, num_keypoints: int, input_size: tuple[int, int],
                 in_featuremap_size: tuple[int, int], simcc_split_ratio: float = 2.0,
                 final_layer_kernel_size: int = 7, hidden_dims: int | None = 256, use_gau: bool = True,
                 gau_s: int = 128, gau_expansion: int = 2, gau_attention: str = "official") -> None:
        super().__init__()
        if final_layer_kernel_size % 2 != 1 or final_layer_kernel_size < 1:
            raise ValueError(f"final_layer_kernel_size must be a positive odd number, got {final_layer_kernel_size}")
        if use_gau and hidden_dims is None:
            raise ValueError("use_gau=True needs hidden_dims (the GAU runs on the expanded features)")
        self.in_featuremap_size = tuple(in_featuremap_size)
        self.final_layer = nn.Conv2d(in_channels, num_keypoints, final_layer_kernel_size, stride=1,
                                     padding=final_layer_kernel_size // 2)
        flatten_dims = in_featuremap_size[0] * in_featuremap_size[1]
        w_bins = int(input_size[0] * simcc_split_ratio)
        h_bins = int(input_size[1] * simcc_split_ratio)
        if hidden_dims is None:
            self.mlp = None
            cls_in, cls_bias = flatten_dims, True
        else:
            self.mlp = nn.Sequential(ScaleNorm(dim=flatten_dims), nn.Linear(flatten_dims, hidden_dims, bias=False))
            cls_in, cls_bias = hidden_dims, False
        self.gau: GatedAttentionUnit | None
        if use_gau:
            assert hidden_dims is not None                   # checked above
            self.gau = GatedAttentionUnit(dim=hidden_dims, expansion_factor=gau_expansion, s=gau_s,
                                          attention=gau_attention)
        else:
            self.gau = None
        self.cls_x = nn.Linear(cls_in, w_bins, bias=cls_bias)
        self.cls_y = nn.Linear(cls_in, h_bins, bias=cls_bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The official head init: conv N(0, 0.001), Linear N(0, 0.01), biases 0."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.001 if isinstance(m, nn.Conv2d) else 0.01)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, feats: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        x = feats[-1]
        if tuple(x.shape[-1:-3:-1]) != self.in_featuremap_size:
            raise ValueError(f"RTMCCHead built for feature maps (w, h) = {self.in_featuremap_size}, "
                             f"got (w, h) = {tuple(x.shape[-1:-3:-1])}")
        x = self.final_layer(x)              # (B, K, Hf, Wf)
        x = torch.flatten(x, 2)              # (B, K, Hf*Wf), row-major over (h, w)
        if self.mlp is not None:
            x = self.mlp(x)                  # (B, K, hidden)
        if self.gau is not None:
            x = self.gau(x)                  # (B, K, hidden)
        return self.cls_x(x), self.cls_y(x)  # (B, K, W*r), (B, K, H*r)
