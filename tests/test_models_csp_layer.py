"""CSP building blocks recomputed by hand from their submodules (order of operations:
docs/official-behaviour.md "CSPNeXt backbone")."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rtmposelib.models.conv_module import ConvModule, DepthwiseSeparableConvModule
from rtmposelib.models.csp_layer import ChannelAttention, CSPLayer, CSPNeXtBlock, SPPBottleneck


def _bn_eval(x, bn):
    return (x - bn.running_mean[None, :, None, None]) / torch.sqrt(bn.running_var[None, :, None, None] + 1e-5) \
        * bn.weight[None, :, None, None] + bn.bias[None, :, None, None]


def _randomise(module):
    torch.manual_seed(0)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    return module.eval()


def test_conv_module_is_conv_bn_silu_without_bias():
    m = _randomise(ConvModule(in_channels=3, out_channels=4, kernel_size=3, stride=2))
    assert m.conv.bias is None and m.conv.padding == (1, 1)
    x = torch.randn(1, 3, 9, 7)
    expected = F.silu(_bn_eval(F.conv2d(x, m.conv.weight, stride=2, padding=1), m.bn))
    torch.testing.assert_close(m(x), expected)


def test_depthwise_separable_is_depthwise_then_pointwise():
    m = DepthwiseSeparableConvModule(in_channels=6, out_channels=8, kernel_size=5)
    assert m.depthwise_conv.conv.groups == 6 and m.depthwise_conv.conv.weight.shape == (6, 1, 5, 5)
    assert m.pointwise_conv.conv.weight.shape == (8, 6, 1, 1)


def test_channel_attention():
    m = ChannelAttention(channels=4).eval()
    x = torch.randn(2, 4, 5, 3)
    weights = F.hardsigmoid(F.conv2d(x.mean((2, 3), keepdim=True), m.fc.weight, m.fc.bias))
    torch.testing.assert_close(m(x), x * weights)


def test_spp_is_parallel_and_ordered():
    m = _randomise(SPPBottleneck(in_channels=8, out_channels=8))
    x = torch.randn(1, 8, 8, 6)
    y = m.conv1(x)
    pools = [F.max_pool2d(y, k, stride=1, padding=k // 2) for k in (5, 9, 13)]   # all from y: parallel
    torch.testing.assert_close(m(x), m.conv2(torch.cat([y, *pools], dim=1)))


@pytest.mark.parametrize("add_identity", [True, False])
def test_csp_layer_order(add_identity):
    m = _randomise(CSPLayer(in_channels=8, out_channels=8, num_blocks=2, add_identity=add_identity))
    x = torch.randn(1, 8, 6, 6)
    main = m.main_conv(x)
    for block in m.blocks:
        out = block.conv2(block.conv1(main))
        main = out + main if add_identity else out
    expected = m.final_conv(m.attention(torch.cat([main, m.short_conv(x)], dim=1)))   # main first
    torch.testing.assert_close(m(x), expected)


def test_block_depthwise_option():
    assert isinstance(CSPNeXtBlock(in_channels=4, out_channels=4, use_depthwise=True).conv1,
                      DepthwiseSeparableConvModule)
    with pytest.raises(ValueError):
        CSPLayer(in_channels=4, out_channels=4, num_blocks=0)
