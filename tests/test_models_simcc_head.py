"""Standard SimCC head (with deconvolutions): Table 1 size and MMPose's SimCCHead names."""
from __future__ import annotations

import torch

from rtmposelib.models.simcc_head import SimCCHead


def test_table1_head_size_and_shapes():
    head = SimCCHead(in_channels=2048, num_keypoints=17, input_size=(192, 256), in_featuremap_size=(6, 8))
    flatten = 64 * 48                                          # the 64 x 48 deconvolved map
    linears = flatten * 384 + 384 + flatten * 512 + 512       # mlp_head_x / _y with bias
    assert sum(p.numel() for p in head.parameters()) == 10_491_665 + linears == 13_245_073
    x, y = head((torch.randn(1, 2048, 8, 6),))
    assert x.shape == (1, 17, 384) and y.shape == (1, 17, 512)


def test_official_names():
    head = SimCCHead(in_channels=32, num_keypoints=3, input_size=(64, 64), in_featuremap_size=(2, 2),
                     deconv_out_channels=(8,))
    assert set(head.state_dict()) >= {"deconv_head.deconv_layers.0.weight", "deconv_head.final_layer.bias",
                                      "mlp_head_x.weight", "mlp_head_x.bias", "mlp_head_y.weight"}
    assert head.mlp_head_x.in_features == 4 * 4
    x, y = head((torch.randn(2, 32, 2, 2),))
    assert x.shape == (2, 3, 128) and y.shape == (2, 3, 128)
