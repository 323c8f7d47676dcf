"""Gated Attention Unit over keypoint tokens (paper Sec. 3.3 "Gated Attention Unit", Eq. 2-4;
docs/official-behaviour.md "RTMCC head"), matching MMPose's ``RTMCCBlock`` in ``mmpose/models/utils/rtmcc_block.py``
with the
RTMPose settings (self-attention, no relative-position bias, no RoPE, dropout 0, drop-path 0).

For tokens x (B, n, d) (n = K keypoints, d = hidden dims), e = expansion * d, s = key dims:
    x' = ScaleNorm(x)
    u, v, base = split(SiLU(x' W_uv), [e, e, s])        W_uv: d -> 2e + s, no bias
    q = base * gamma[0] + beta[0];  k = base * gamma[1] + beta[1]
    A = relu(q k^T / sqrt(s)) ** 2                       (B, n, n)
    y = res_scale * x + (u * (A v)) W_o                  W_o: e -> d, no bias; shortcut is pre-norm x

``attention="official"`` is the formula above, as the released code and checkpoints. The paper's
Eq. 2 writes A = (1/n) relu^2(q k^T / sqrt(s)); ``attention="paper"`` adds that 1/n (n = number of
tokens). The two differ only by a constant factor K on A, which the following W_o can absorb in
training, but weights trained with one do not give the same outputs under the other.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class ScaleNorm(nn.Module):
    """y = g * x / max(||x||_2 / sqrt(dim), eps) over the last dim; g a learnable scalar, init 1.

    Input (..., dim) -> same shape.
    """

    def __init__(self, *, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.scale = dim ** -0.5
        self.eps = eps
        self.g = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True) * self.scale
        return x / norm.clamp(min=self.eps) * self.g


class ChannelScale(nn.Module):
    """Learnable per-channel multiplier (last dim), init 1: the GAU's ``res_scale``; its parameter keeps
    the official name ``scale``. (..., dim) -> same."""

    def __init__(self, *, dim: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


class GatedAttentionUnit(nn.Module):
    """RTMPose's GAU (self-attention between the K keypoint tokens). (B, n, dim) -> (B, n, dim).

    Parameter names follow MMPose's RTMCCBlock: ``uv``, ``o``, ``gamma``, ``beta``, ``ln.g``,
    ``res_scale.scale``.
    """

    def __init__(self, *, dim: int, expansion_factor: int = 2, s: int = 128,
                 attention: str = "official") -> None:
        super().__init__()
        if attention not in ("official", "paper"):
            raise ValueError(f"attention must be 'official' or 'paper', got {attention!r}")
        self.attention = attention
        self.e = int(dim * expansion_factor)
        self.s = s
        self.ln = ScaleNorm(dim=dim)
        self.uv = nn.Linear(dim, 2 * self.e + s, bias=False)
        self.o = nn.Linear(self.e, dim, bias=False)
        self.gamma = nn.Parameter(torch.rand(2, s))         # U[0, 1), as official
        self.beta = nn.Parameter(torch.rand(2, s))
        self.res_scale = ChannelScale(dim=dim)
        self.act = nn.SiLU()
        nn.init.xavier_uniform_(self.uv.weight)             # the block's own init (head init may override)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[1]
        uv = self.act(self.uv(self.ln(x)))                                  # (B, n, 2e + s)
        u, v, base = torch.split(uv, [self.e, self.e, self.s], dim=-1)
        base = base.unsqueeze(2) * self.gamma + self.beta                   # (B, n, 2, s)
        q, k = torch.unbind(base, dim=2)                                    # (B, n, s) each
        kernel = F.relu(torch.bmm(q, k.transpose(1, 2)) / math.sqrt(self.s)) ** 2   # (B, n, n)
        if self.attention == "paper":
            kernel = kernel / n
        out = self.o(u * torch.bmm(kernel, v))                              # (B, n, dim)
        return self.res_scale(x) + out
