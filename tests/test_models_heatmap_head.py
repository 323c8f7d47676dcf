"""SimpleBaseline heatmap head: Table 1 size, exact x2 deconvolutions, official init."""
from __future__ import annotations

import pytest
import torch

from rtmposelib.models.heatmap_head import HeatmapHead


def test_table1_head_size_by_hand():
    head = HeatmapHead(in_channels=2048, num_keypoints=17)
    deconvs = 2048 * 256 * 16 + 2 * 256 * 256 * 16          # k4 deconvs, no bias
    bns = 3 * 2 * 256
    final = 256 * 17 + 17                                     # 1x1 conv with bias
    assert sum(p.numel() for p in head.parameters()) == deconvs + bns + final == 10_491_665


@pytest.mark.parametrize("kernel", [2, 3, 4])
def test_each_deconv_doubles_the_map(kernel):
    head = HeatmapHead(in_channels=32, num_keypoints=5, deconv_out_channels=(16, 16), deconv_kernel_size=kernel)
    assert head((torch.randn(2, 32, 8, 6),)).shape == (2, 5, 32, 24)


def test_official_state_dict_names_and_init():
    torch.manual_seed(0)
    head = HeatmapHead(in_channels=64, num_keypoints=17)
    keys = set(head.state_dict())
    assert {"deconv_layers.0.weight", "deconv_layers.1.running_var", "deconv_layers.3.weight",
            "deconv_layers.6.weight", "final_layer.weight", "final_layer.bias"} <= keys
    assert "deconv_layers.0.bias" not in keys
    assert abs(head.deconv_layers[0].weight.std().item() - 0.001) < 1e-4
    assert torch.all(head.final_layer.bias == 0)


def test_bad_kernel():
    with pytest.raises(ValueError, match="deconv_kernel_size"):
        HeatmapHead(in_channels=8, num_keypoints=2, deconv_kernel_size=5)
