"""CSPNeXt against the official sizes (docs/official-behaviour.md "CSPNeXt backbone") and MMDetection's structure."""
from __future__ import annotations

import pytest
import torch

from rtmposelib.config import CSPNEXT_FACTORS
from rtmposelib.models.conv_module import ConvModule, DepthwiseSeparableConvModule
from rtmposelib.models.cspnext import CSPNeXt

# backbone params (docs/official-behaviour.md "CSPNeXt backbone")
OFFICIAL_BACKBONE_PARAMS = {"t": 2_348_700, "s": 4_378_320, "m": 12_279_432, "l": 26_138_912, "x": 47_569_560}
# docs/official-behaviour.md "CSPNeXt backbone": stage-4 output channels and blocks per stage
OFFICIAL_LAYOUT = {"t": (384, (1, 1, 1, 1)), "s": (512, (1, 2, 2, 1)), "m": (768, (2, 4, 4, 2)),
                   "l": (1024, (3, 6, 6, 3)), "x": (1280, (4, 8, 8, 4))}


@pytest.mark.parametrize("size", sorted(OFFICIAL_BACKBONE_PARAMS))
def test_param_count_and_layout_match_official(size):
    deepen, widen = CSPNEXT_FACTORS[size]
    net = CSPNeXt(deepen_factor=deepen, widen_factor=widen)
    assert sum(p.numel() for p in net.parameters()) == OFFICIAL_BACKBONE_PARAMS[size]
    channels, blocks = OFFICIAL_LAYOUT[size]
    assert net.out_channels == [channels]
    assert tuple(len(getattr(net, f"stage{i}")[-1].blocks) for i in range(1, 5)) == blocks


def test_bn_uses_pytorch_defaults_not_cspnext_defaults():
    net = CSPNeXt(deepen_factor=0.167, widen_factor=0.375)
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(m.momentum == 0.1 and m.eps == 1e-5 for m in bns)


def test_rtmpose_output_is_one_stride_32_map():
    net = CSPNeXt(deepen_factor=0.167, widen_factor=0.375).eval()
    (out,) = net(torch.randn(2, 3, 256, 192))
    assert out.shape == (2, 384, 8, 6)


def test_detector_out_indices_and_depthwise_variant():
    # RTMDet-nano: df 0.33, wf 0.25, depthwise, outputs of stages 2-4 (strides 8, 16, 32)
    net = CSPNeXt(deepen_factor=0.33, widen_factor=0.25, use_depthwise=True, out_indices=(2, 3, 4)).eval()
    outs = net(torch.randn(1, 3, 320, 320))
    assert [tuple(o.shape) for o in outs] == [(1, 64, 40, 40), (1, 128, 20, 20), (1, 256, 10, 10)]
    assert net.out_channels == [64, 128, 256]
    assert isinstance(net.stem[0], ConvModule)                       # the stem never goes depthwise
    assert isinstance(net.stage1[0], DepthwiseSeparableConvModule)   # downsample conv
    block = net.stage1[-1].blocks[0]
    assert isinstance(block.conv1, DepthwiseSeparableConvModule)
    assert isinstance(block.conv2, DepthwiseSeparableConvModule)
    dense = CSPNeXt(deepen_factor=0.33, widen_factor=0.25)
    assert isinstance(dense.stage1[-1].blocks[0].conv1, ConvModule)
    assert sum(p.numel() for p in net.parameters()) < sum(p.numel() for p in dense.parameters())


def test_stage4_has_parallel_spp_and_no_residual():
    net = CSPNeXt(deepen_factor=0.167, widen_factor=0.375)
    spp = net.stage4[1]
    assert [p.kernel_size for p in spp.poolings] == [5, 9, 13]
    assert spp.conv2.conv.in_channels == 4 * spp.conv1.conv.out_channels   # concat [x, p5, p9, p13]
    assert not net.stage4[-1].blocks[0].add_identity
    assert net.stage1[-1].blocks[0].add_identity


@pytest.mark.parametrize("bad", [dict(out_indices=(5,)), dict(out_indices=()), dict(deepen_factor=0.0)])
def test_bad_arguments_raise(bad):
    kwargs = dict(deepen_factor=0.167, widen_factor=0.375) | bad
    with pytest.raises(ValueError):
        CSPNeXt(**kwargs)
