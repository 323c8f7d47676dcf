"""The standard SimCC head (Li et al. 2022, "SimCC"), the SimCC row of the paper's Table 1.

Matches MMPose's ``SimCCHead`` (``mmpose/models/heads/coord_cls_heads/simcc_head.py``) with
``deconv_out_channels=(256, 256, 256)``: the SimpleBaseline deconvolution head (kept under the
official name ``deconv_head``) produces a (B, K, Hh, Wh) map, which is flattened and classified by two
Linear layers *with* bias (``mlp_head_x``, ``mlp_head_y``). Forward only.

The trimmed SimCC* baseline of the paper (no deconvolutions) is not this class: it is
:class:`rtmposelib.models.rtmcc_head.RTMCCHead` with ``hidden_dims=None``, ``use_gau=False`` and a
1 x 1 final kernel.
"""
from __future__ import annotations

import torch
from torch import nn

from rtmposelib.models.heatmap_head import HeatmapHead


class SimCCHead(nn.Module):
    """SimCC with upsampling deconvolutions.

    forward(feats): last map (B, C, Hf, Wf) -> (simcc_x (B, K, W*r), simcc_y (B, K, H*r)), where
    input_size = (W, H) crop pixels and r = simcc_split_ratio.
    """

    def __init__(self, *, in_channels: int, num_keypoints: int, input_size: tuple[int, int],
                 in_featuremap_size: tuple[int, int], simcc_split_ratio: float = 2.0,
                 deconv_out_channels: tuple[int, ...] = (256, 256, 256)) -> None:
        super().__init__()
        self.deconv_head = HeatmapHead(in_channels=in_channels, num_keypoints=num_keypoints,
                                       deconv_out_channels=deconv_out_channels)
        up = 2 ** len(deconv_out_channels)
        flatten_dims = in_featuremap_size[0] * up * in_featuremap_size[1] * up
        self.mlp_head_x = nn.Linear(flatten_dims, int(input_size[0] * simcc_split_ratio))
        self.mlp_head_y = nn.Linear(flatten_dims, int(input_size[1] * simcc_split_ratio))
        for m in (self.mlp_head_x, self.mlp_head_y):
            nn.init.normal_(m.weight, 0.0, 0.01)
            nn.init.zeros_(m.bias)

    def forward(self, feats: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.flatten(self.deconv_head(feats), 2)     # (B, K, Hh * Wh)
        return self.mlp_head_x(x), self.mlp_head_y(x)     # (B, K, W*r), (B, K, H*r)
