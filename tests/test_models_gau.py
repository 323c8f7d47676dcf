"""GAU and ScaleNorm against a hand computation of docs/official-behaviour.md "RTMCC head" / paper Eq. 2-4 (numpy,
float64)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rtmposelib.models.gau import GatedAttentionUnit, ScaleNorm


def _scale_norm(x, g, eps=1e-5):
    return g * x / np.maximum(np.sqrt((x ** 2).sum(-1, keepdims=True)) / np.sqrt(x.shape[-1]), eps)


def _silu(x):
    return x / (1 + np.exp(-x))


def _gau_reference(gau: GatedAttentionUnit, x: np.ndarray, one_over_n: bool) -> np.ndarray:
    p = {k: v.detach().double().numpy() for k, v in gau.named_parameters()}
    e, s = gau.e, gau.s
    out = np.empty_like(x)
    for b in range(x.shape[0]):
        xn = _scale_norm(x[b], p["ln.g"][0])
        uv = _silu(xn @ p["uv.weight"].T)
        u, v, base = uv[:, :e], uv[:, e:2 * e], uv[:, 2 * e:]
        q = base * p["gamma"][0] + p["beta"][0]
        k = base * p["gamma"][1] + p["beta"][1]
        a = np.maximum(q @ k.T / np.sqrt(s), 0) ** 2
        if one_over_n:
            a = a / x.shape[1]
        out[b] = p["res_scale.scale"] * x[b] + (u * (a @ v)) @ p["o.weight"].T
    return out


@pytest.mark.parametrize("attention", ["official", "paper"])
def test_gau_matches_hand_computation(attention):
    torch.manual_seed(0)
    gau = GatedAttentionUnit(dim=16, expansion_factor=2, s=8, attention=attention).double()
    with torch.no_grad():
        gau.ln.g.fill_(1.3)
        gau.res_scale.scale.uniform_(0.5, 1.5)
    x = torch.randn(2, 5, 16, dtype=torch.float64)
    ours = gau(x).detach().numpy()
    ref = _gau_reference(gau, x.numpy(), one_over_n=attention == "paper")
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)


def test_paper_attention_is_official_attention_divided_by_n():
    torch.manual_seed(1)
    official = GatedAttentionUnit(dim=16, s=8).double()
    paper = GatedAttentionUnit(dim=16, s=8, attention="paper").double()
    paper.load_state_dict(official.state_dict())
    x = torch.randn(1, 7, 16, dtype=torch.float64)
    assert not torch.allclose(official(x), paper(x))


def test_scale_norm_formula_and_eps():
    norm = ScaleNorm(dim=4)
    x = torch.tensor([[3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    y = norm(x)
    # ||x|| / sqrt(4) = 2.5 -> x / 2.5; an all-zero row stays zero (clamped by eps, no NaN)
    torch.testing.assert_close(y[0], torch.tensor([1.2, 1.6, 0.0, 0.0]))
    assert torch.equal(y[1], torch.zeros(4))


def test_parameter_names_and_shapes_are_official():
    gau = GatedAttentionUnit(dim=256, expansion_factor=2, s=128)
    shapes = {k: tuple(v.shape) for k, v in gau.state_dict().items()}
    assert shapes == {"ln.g": (1,), "uv.weight": (1152, 256), "o.weight": (256, 512), "gamma": (2, 128),
                      "beta": (2, 128), "res_scale.scale": (256,)}


def test_bad_attention_raises():
    with pytest.raises(ValueError, match="attention"):
        GatedAttentionUnit(dim=8, attention="linear")
