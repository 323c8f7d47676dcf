"""RTMCCHead against docs/official-behaviour.md "RTMCC head" (parameter formula, shapes, init) and its roadmap
switches."""
from __future__ import annotations

import pytest
import torch

from rtmposelib.models.rtmcc_head import RTMCCHead


def _head(**kw):
    args = dict(in_channels=64, num_keypoints=17, input_size=(192, 256), in_featuremap_size=(6, 8))
    return RTMCCHead(**(args | kw))


def _n(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("channels", [384, 512, 768, 1024])
def test_param_formula_of_fact_sheet(channels):
    assert _n(_head(in_channels=channels)) == 833 * channels + 668_435


def test_output_shapes_and_row_major_flatten():
    head = _head().eval()
    feats = torch.randn(2, 64, 8, 6)
    x, y = head((feats,))
    assert x.shape == (2, 17, 384) and y.shape == (2, 17, 512)
    assert head.mlp[1].in_features == 48


@pytest.mark.parametrize("kernel", [1, 3, 5, 7, 9])
def test_final_kernel_sizes_keep_the_map_size(kernel):
    head = _head(final_layer_kernel_size=kernel)
    assert head.final_layer.kernel_size == (kernel, kernel)
    x, y = head((torch.randn(1, 64, 8, 6),))
    assert x.shape == (1, 17, 384)


def test_simcc_star_classifies_flattened_map_with_biased_linears():
    head = _head(in_channels=2048, final_layer_kernel_size=1, hidden_dims=None, use_gau=False)
    assert head.mlp is None and head.gau is None
    assert head.cls_x.in_features == 48 and head.cls_x.bias is not None
    # Table 1 SimCC* head: 0.079 M parameters
    assert _n(head) == 2048 * 17 + 17 + 48 * 384 + 384 + 48 * 512 + 512
    assert round(_n(head) / 1e6, 3) == 0.079


def test_feature_dim_without_gau():
    head = _head(final_layer_kernel_size=1, hidden_dims=256, use_gau=False)
    assert head.gau is None and head.cls_x.bias is None
    x, y = head((torch.randn(1, 64, 8, 6),))
    assert y.shape == (1, 17, 512)


def test_official_init():
    torch.manual_seed(0)
    head = _head(in_channels=512)
    assert abs(head.final_layer.weight.std().item() - 0.001) < 1e-4
    assert abs(head.cls_y.weight.std().item() - 0.01) < 1e-3
    assert abs(head.gau.uv.weight.std().item() - 0.01) < 1e-3
    assert torch.all(head.final_layer.bias == 0)
    assert head.mlp[0].g.item() == 1.0 and torch.all(head.gau.res_scale.scale == 1)
    assert 0 <= head.gau.gamma.min() and head.gau.gamma.max() < 1


def test_errors():
    with pytest.raises(ValueError, match="hidden_dims"):
        _head(hidden_dims=None, use_gau=True)
    with pytest.raises(ValueError, match="odd"):
        _head(final_layer_kernel_size=4)
    with pytest.raises(ValueError, match=r"\(w, h\)"):
        _head()((torch.randn(1, 64, 12, 9),))
