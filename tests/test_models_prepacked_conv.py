"""PrepackedConv2d: oneDNN convolution with a once-reordered weight (and SiLU fused) gives nn.Conv2d's
outputs for every kind of convolution the models hold, for other batch sizes than the one it packed
at, in both memory formats; it refuses what it cannot run."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from rtmposelib.models.prepacked_conv import PrepackedConv2d, prepack_available

pytestmark = pytest.mark.skipif(not prepack_available(), reason="this PyTorch build has no oneDNN kernel")

CASES = [   # (c_in, c_out, kernel, stride, groups, bias, h, w)
    (3, 16, 3, 2, 1, False, 32, 24),           # stem
    (64, 32, 1, 1, 1, False, 8, 6),            # 1 x 1 on a small map (PyTorch's im2col path at batch 1)
    (48, 48, 5, 1, 48, False, 16, 12),         # depthwise 5 x 5
    (32, 64, 3, 2, 1, False, 16, 12),          # strided 3 x 3
    (64, 17, 7, 1, 1, True, 8, 6),             # the head's final 7 x 7 with bias
    (32, 32, 1, 1, 1, True, 1, 1),             # channel attention on a pooled map
]


@pytest.mark.parametrize("case", CASES, ids=[f"k{c[2]}s{c[3]}g{c[4]}" for c in CASES])
@pytest.mark.parametrize("activation", ["none", "silu"])
def test_matches_conv2d(case, activation):
    c_in, c_out, k, s, g, bias, h, w = case
    gen = torch.Generator().manual_seed(0)
    conv = nn.Conv2d(c_in, c_out, k, stride=s, padding=k // 2, groups=g, bias=bias).eval()
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * 0.1)
    packed = PrepackedConv2d(conv, activation=activation)
    act = nn.SiLU() if activation == "silu" else nn.Identity()
    with torch.inference_mode():
        for batch, channels_last in ((1, True), (3, True), (2, False)):   # packed at the first shape
            x = torch.randn(batch, c_in, h, w, generator=gen)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            ref, got = act(conv(x)), packed(x)
            assert got.shape == ref.shape
            assert (got - ref).abs().max().item() <= 1e-5 * max(1.0, ref.abs().max().item())


def test_refuses_grad_other_dtypes_and_padding_modes():
    conv = nn.Conv2d(4, 4, 3, padding=1).eval()
    packed = PrepackedConv2d(conv)
    with pytest.raises(RuntimeError, match="inference-only"):
        packed(torch.randn(1, 4, 8, 8, requires_grad=True))
    with pytest.raises(ValueError, match="float32"):
        packed(torch.randn(1, 4, 8, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match="activation"):
        PrepackedConv2d(conv, activation="relu")
    with pytest.raises(ValueError, match="zero padding"):
        PrepackedConv2d(nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"))


def test_copies_and_pickles_repack():
    import copy
    import pickle

    conv = nn.Conv2d(4, 6, 3, padding=1).eval()
    packed = PrepackedConv2d(conv, activation="silu")
    x = torch.randn(2, 4, 7, 5)
    with torch.inference_mode():
        ref = packed(x)                                    # packed now
        for other in (copy.deepcopy(packed), pickle.loads(pickle.dumps(packed))):
            assert other._packed is None
            assert torch.equal(other(x), ref)


def test_weight_change_after_cast_is_picked_up():
    """A move or cast drops the packed copy, so the next call packs the current weight."""
    conv = nn.Conv2d(4, 4, 1).eval()
    packed = PrepackedConv2d(conv)
    x = torch.randn(1, 4, 5, 5)
    with torch.inference_mode():
        packed(x)
        packed.double().float()
        packed.weight.mul_(2)
        expect = nn.functional.conv2d(x, packed.weight, packed.bias)
        assert torch.allclose(packed(x), expect, atol=1e-5)
