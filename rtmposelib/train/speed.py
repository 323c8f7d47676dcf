"""CPU speed settings of the training step: denormal flushing, channels-last layout, bfloat16 autocast.

None of them changes the recipe; they change which kernels run and in which memory layout:

- ``flush_denormal``: denormal floats (magnitudes below ~1e-38) are treated as zero while training.
  Arithmetic on denormals takes a slow path on x86 cores; small gradients and Adam moments produce them.
- ``channels_last``: the model's 4-D weights and the input batch are stored NHWC, the layout oneDNN's
  CPU convolutions run natively (no reorder around every convolution).
- ``bf16``: the forward pass runs under ``torch.autocast("cpu", torch.bfloat16)`` (convolutions and
  matrix products in bfloat16 with float32 accumulation, weights and optimiser state stay float32);
  the loss is computed in float32 from the outputs. Only worthwhile on CPUs with native bfloat16
  arithmetic (AVX512-BF16 or AMX); elsewhere it is emulated and refused.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
from torch import nn

from rtmposelib.config import TrainConfig
from rtmposelib.data.preprocess import normalize_images

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """True when the CPU does bfloat16 arithmetic natively (AVX512-BF16 or AMX), per /proc/cpuinfo, else
    per oneDNN's own check (other systems)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        flags = set()
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("flags"):
                flags.update(line.split(":", 1)[1].split())
        return any(f in flags for f in BF16_CPU_FLAGS)
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check()) if check is not None else False


def check_bf16(cfg: TrainConfig, device: torch.device) -> None:
    """ValueError when ``cfg.bf16`` asks for CPU bfloat16 on a CPU without native support."""
    if cfg.bf16 and device.type == "cpu" and not cpu_has_bf16():
        raise ValueError("TrainConfig.bf16 is on but this CPU has neither AVX512-BF16 nor AMX "
                         "(bfloat16 would be emulated, slower than float32); set bf16=False")


def prepare_model(model: nn.Module, cfg: TrainConfig) -> nn.Module:
    """``model`` in the memory format of ``cfg`` (in place; the same Parameter objects)."""
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    return model


def prepare_images(images: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    """A (B, 3, H, W) batch as model input: uint8 BGR crops normalised (:func:`normalize_images`; a float
    batch is taken as normalised), in the memory format of ``cfg``."""
    images = normalize_images(images)
    return images.contiguous(memory_format=torch.channels_last) if cfg.channels_last else images


def forward_context(cfg: TrainConfig, device: torch.device):
    """The autocast context of the forward pass: CUDA float16 with ``amp``, CPU bfloat16 with ``bf16``."""
    if device.type == "cuda" and cfg.amp:
        return torch.autocast("cuda")
    if device.type == "cpu" and cfg.bf16:
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return nullcontext()


def float_outputs(outputs):
    """The model's outputs (a tensor or a tuple of tensors) in float32, for a float32 loss."""
    if isinstance(outputs, torch.Tensor):
        return outputs.float()
    return type(outputs)(o.float() for o in outputs)


@contextmanager
def flushing_denormals(enabled: bool = True):
    """Flush denormals to zero inside the block (when supported), and restore the default after it."""
    active = enabled and torch.set_flush_denormal(True)
    try:
        yield active
    finally:
        if active:
            torch.set_flush_denormal(False)
