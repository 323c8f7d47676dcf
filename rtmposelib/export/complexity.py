"""Parameter and FLOP counts as the RTMPose model zoo and the paper's Table 1 report them
(docs/official-behaviour.md "Complexity").

The README numbers are "FLOPs" in the MAC sense of the legacy mmcv ``get_model_complexity_info``
(``tools/analysis_tools/get_flops.py`` before April 2023): input 1 x 3 x H x W, backbone + head only
(no preprocessing, no decode). We count with ``thop`` and replace its default rules by those of mmcv:

| module                       | counted as                                                   |
|------------------------------|--------------------------------------------------------------|
| Conv2d                       | k^2 (C_in / groups) C_out H_out W_out + (bias: C_out H_out W_out) |
| ConvTranspose2d              | k^2 (C_in / groups) C_out H_in W_in + (bias: C_out H_out W_out)   |
| BatchNorm2d (affine)         | 2 x numel                                                    |
| MaxPool2d, AdaptiveAvgPool2d | input numel                                                  |
| Linear                       | input numel x out_features (per token in x out, no bias term) |
| ReLU                         | output numel                                                 |
| SiLU, Hardsigmoid, ScaleNorm, ChannelScale, GAU bmm / mul / add | 0                         |

thop's own defaults differ (no conv bias, BN 4 x numel, MaxPool 0, AdaptiveAvgPool numel + C,
ConvTranspose over output positions), which would give ~0.362 / 0.687 / 1.939 / 4.177 G for t/s/m/l
instead of the official 0.35864 / 0.68203 / 1.92853 / 4.15995 G.

RTMPose has no ReLU, so the ReLU rule only matters for the ResNet-50 baselines of Table 1. The paper's
Table 1 is reproduced to every printed digit when ReLU counts 0 (``count_relu=False``, what
:func:`table1` uses); with mmcv's numel rule the ResNet-50 rows come out 0.2 % higher (ResNet-50 has
9.4 M ReLU outputs at 256 x 192, the heatmap deconvolution head 1.0 M).
"""
from __future__ import annotations

import math

import pandas as pd
import thop
import torch
from torch import nn

from rtmposelib.config import ModelConfig
from rtmposelib.models.gau import ChannelScale, ScaleNorm
from rtmposelib.models.pose_model import build_model

# our quantity -> the paper's Table 1 column (ResNet-50, 256 x 192; values in rtmposelib.reference)
TABLE1_COLUMNS: dict[str, str] = {"gflops": "Total FLOPs(G)", "params_m": "Total Params(M)",
                                  "head_gflops": "Head FLOPs(G)", "head_params_m": "Head Params(M)"}
TABLE1_CONFIGS: dict[str, ModelConfig] = {
    "Heatmap": ModelConfig(backbone="resnet50", head="heatmap"),
    "SimCC": ModelConfig(backbone="resnet50", head="simcc"),
    "SimCC*": ModelConfig(backbone="resnet50", head="rtmcc", final_kernel_size=1, hidden_dims=None,
                          use_gau=False),
}


def _add(m: nn.Module, ops: float) -> None:
    total_ops = m.total_ops                                       # thop's (1,) float64 counter buffer
    assert isinstance(total_ops, torch.Tensor)
    total_ops += torch.tensor([float(ops)], dtype=torch.float64)
    m.total_ops = total_ops


def _conv(m: nn.Conv2d, x, y) -> None:
    k = math.prod(m.kernel_size)
    _add(m, k * (m.in_channels // m.groups) * m.out_channels * y[0, 0].numel() * y.shape[0]
         + (y.numel() if m.bias is not None else 0))


def _deconv(m: nn.ConvTranspose2d, x, y) -> None:
    k = math.prod(m.kernel_size)
    inp = x[0]
    _add(m, k * (m.in_channels // m.groups) * m.out_channels * inp[0, 0].numel() * inp.shape[0]
         + (y.numel() if m.bias is not None else 0))


def _bn(m: nn.BatchNorm2d, x, y) -> None:
    _add(m, x[0].numel() * (2 if m.affine else 1))


def _input_numel(m: nn.Module, x, y) -> None:
    _add(m, x[0].numel())


def _output_numel(m: nn.Module, x, y) -> None:
    _add(m, y.numel())


def _linear(m: nn.Linear, x, y) -> None:
    _add(m, x[0].numel() * m.out_features)


def _zero(m: nn.Module, x, y) -> None:
    pass


OFFICIAL_RULES = {
    nn.Conv2d: _conv, nn.ConvTranspose2d: _deconv, nn.BatchNorm2d: _bn,
    nn.MaxPool2d: _input_numel, nn.AdaptiveAvgPool2d: _input_numel, nn.Linear: _linear,
    nn.ReLU: _output_numel, nn.SiLU: _zero, nn.Hardsigmoid: _zero, nn.Identity: _zero,
    ScaleNorm: _zero, ChannelScale: _zero,
}


def count_params(module: nn.Module) -> int:
    """Number of parameter values of ``module`` (trainable or not; buffers excluded)."""
    return sum(p.numel() for p in module.parameters())


def _profile(model: nn.Module, input_size: tuple[int, int], count_relu: bool = True) -> tuple[float, dict]:
    rules = OFFICIAL_RULES if count_relu else OFFICIAL_RULES | {nn.ReLU: _zero}
    w, h = input_size
    device = next(model.parameters()).device
    images = torch.zeros(1, 3, h, w, device=device)
    try:
        ops, _, layers = thop.profile(model, inputs=(images,), custom_ops=rules, verbose=False,
                                      ret_layer_info=True)
    finally:
        # thop registers its counters as buffers on *every* module but removes them only from the
        # modules it hooked; left behind they would end up in the model's state_dict.
        for m in model.modules():
            for name in ("total_ops", "total_params"):
                m._buffers.pop(name, None)
    return float(ops), layers


def count_flops(model: nn.Module, input_size: tuple[int, int], *, count_relu: bool = True) -> float:
    """GFLOPs (MACs, official counting rules) of one forward pass on a 1 x 3 x h x w input, (w, h) pixels.

    ``count_relu=False`` counts ReLU as 0, as the paper's Table 1 does.
    """
    if len(input_size) != 2 or min(input_size) <= 0:
        raise ValueError(f"input_size must be (w, h) with positive entries, got {input_size}")
    return _profile(model, input_size, count_relu)[0] / 1e9


def complexity(cfg: ModelConfig, *, count_relu: bool = True) -> dict:
    """Parameters and GFLOPs of the model of ``cfg``, whole and split into backbone and head.

    Returns dict(params, gflops, backbone_params, backbone_gflops, head_params, head_gflops).
    """
    with torch.device("meta"):         # shapes only: counting needs no weights and no arithmetic
        model = build_model(cfg)
    total, layers = _profile(model, cfg.input_size, count_relu)
    return dict(params=count_params(model), gflops=total / 1e9,
                backbone_params=count_params(model.backbone), backbone_gflops=layers["backbone"][0] / 1e9,
                head_params=count_params(model.head), head_gflops=layers["head"][0] / 1e9)


def table1() -> pd.DataFrame:
    """The paper's Table 1 (Heatmap / SimCC / SimCC* heads on ResNet-50, 256 x 192): ours beside the paper's.

    One row per method; for each quantity q in (gflops, params_m, head_gflops, head_params_m) the
    columns ``q`` (ours), ``q_paper`` and ``q_rel_diff`` = (ours - paper) / paper. FLOPs count ReLU as
    0, as the paper (see the module docstring). SimCC*'s head GFLOPs (0.0024) differ from the printed
    0.002 by 20 % only because the paper prints three decimals.
    """
    from rtmposelib.reference import paper_table

    reference = paper_table(1)
    rows = []
    for method, cfg in TABLE1_CONFIGS.items():
        c = complexity(cfg, count_relu=False)
        ours = dict(gflops=c["gflops"], params_m=c["params"] / 1e6, head_gflops=c["head_gflops"],
                    head_params_m=c["head_params"] / 1e6)
        row: dict[str, object] = {"method": method}
        for q, value in ours.items():
            paper = float(reference.loc[method, TABLE1_COLUMNS[q]])
            row.update({q: value, f"{q}_paper": paper, f"{q}_rel_diff": (value - paper) / paper})
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")
