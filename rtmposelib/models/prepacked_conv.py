"""A CPU inference convolution whose weight is reordered once into oneDNN's own layout, with the SiLU
that follows it computed inside the same kernel.

PyTorch's eager CPU convolution keeps the weight in its plain layout and oneDNN reorders it into a
blocked layout on every call: on the late, narrow feature maps of a pose backbone (8 x 6 at 256 x 192
input) that reorder costs more than the arithmetic. A batch-1, single-thread 1 x 1 convolution (and
any convolution on an input of at most 20480 values) also leaves oneDNN for PyTorch's own im2col path.
:class:`PrepackedConv2d` calls oneDNN's convolution directly with a weight reordered at the first call
and kept, and optionally applies SiLU as the convolution's post-op, which saves one pass over the
output. Its outputs are the plain convolution's up to float rounding (the summation order differs).

Inference only: the kernel has no backward, so an input that requires grad is refused. The module
runs on CPU float32 tensors; :func:`prepack_available` says whether this PyTorch build has the kernel.
"""
from __future__ import annotations

from typing import TypeGuard

import torch
from torch import nn

__all__ = ["PrepackedConv2d", "prepack_available"]

ACTIVATIONS = {"none": "none", "silu": "swish"}    # our name -> the oneDNN post-op name


def prepack_available() -> bool:
    """Whether this PyTorch build has oneDNN and its pointwise-fused convolution kernel."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_convolution_pointwise") \
        and hasattr(torch.ops.mkldnn, "_reorder_convolution_weight")


class PrepackedConv2d(nn.Module):
    """``activation(conv(x))`` for a frozen ``nn.Conv2d`` (zero padding, any stride / dilation / groups).

    activation: ``"none"`` or ``"silu"``. Input (B, C_in, H, W) CPU float32 in either memory format;
    output (B, C_out, H', W') in the input's memory format.
    """

    @staticmethod
    def supports(conv: nn.Module) -> TypeGuard[nn.Conv2d]:
        """Whether ``conv`` is a plain CPU float32 ``nn.Conv2d`` with numeric zero padding."""
        return type(conv) is nn.Conv2d and conv.padding_mode == "zeros" and not isinstance(conv.padding, str) \
            and conv.weight.device.type == "cpu" and conv.weight.dtype == torch.float32

    def __init__(self, conv: nn.Conv2d, *, activation: str = "none") -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if not self.supports(conv):
            raise ValueError(f"PrepackedConv2d needs a CPU float32 nn.Conv2d with numeric zero padding, got "
                             f"{type(conv).__name__} padding={conv.padding!r}, padding_mode={conv.padding_mode!r}, "
                             f"{conv.weight.dtype} on {conv.weight.device}")
        self.in_channels, self.out_channels = conv.in_channels, conv.out_channels
        self.kernel_size = tuple(conv.kernel_size)
        self.stride, self.dilation = list(conv.stride), list(conv.dilation)
        self.padding = list(conv.padding)
        self.groups = conv.groups
        self.activation = activation
        self.register_buffer("weight", conv.weight.detach().contiguous(memory_format=torch.channels_last))
        self.register_buffer("bias", None if conv.bias is None else conv.bias.detach().contiguous())
        self._packed: torch.Tensor | None = None          # the weight in oneDNN's layout, made at first call

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={tuple(self.stride)}, padding={tuple(self.padding)}, groups={self.groups}, "
                f"activation={self.activation}")

    def _apply(self, fn, recurse=True):
        self._packed = None                                # a move or cast invalidates the packed copy
        return super()._apply(fn, recurse)

    def __getstate__(self):
        state = super().__getstate__()                     # copies and pickles repack at their first call
        return {**state, "_packed": None}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or x.dtype != torch.float32:
            raise ValueError(f"PrepackedConv2d runs CPU float32 inputs, got {x.dtype} on {x.device}")
        if x.requires_grad:
            raise RuntimeError("PrepackedConv2d is inference-only (its kernel has no backward); "
                               "run it under torch.inference_mode() or torch.no_grad()")
        if self._packed is None:
            self._packed = torch.ops.mkldnn._reorder_convolution_weight(
                self.weight, self.padding, self.stride, self.dilation, self.groups, list(x.shape))
        return torch.ops.mkldnn._convolution_pointwise(
            x, self._packed, self.bias, self.padding, self.stride, self.dilation, self.groups,
            ACTIVATIONS[self.activation], [], "")
