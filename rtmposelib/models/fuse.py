"""An inference-ready copy of a pose model: BatchNorm folded into the convolution before it, weights
and activations in channels_last layout, on CPU each convolution prepacked for oneDNN with its SiLU
fused in (:mod:`rtmposelib.models.prepacked_conv`), gradients off; optionally ``torch.compile``-d with
frozen weights instead of prepacked.

In eval mode a BatchNorm after a convolution is a per-channel affine map with fixed statistics, so it
can be folded into the convolution's weight and bias:

    W' = W * gamma / sqrt(var + eps)        (per output channel)
    b' = (b - mean) * gamma / sqrt(var + eps) + beta

which removes one pass over every feature map. The outputs are those of the unfolded model up to
float rounding. Folded here: every ``ConvModule`` (``conv`` -> ``bn``) and every ``Conv2d`` /
``ConvTranspose2d`` directly followed by a ``BatchNorm2d`` inside an ``nn.Sequential`` (the heatmap
head's deconvolutions). BatchNorms elsewhere (e.g. the timm ResNet-50 blocks) stay as they are.

channels_last (NHWC) is the layout oneDNN's CPU convolutions run natively; the wrapper converts the
input once and the whole backbone stays in it. The head's ``flatten`` returns ordinary contiguous
tensors, so the outputs have the usual layout.

The source model is never modified: :func:`fuse_for_inference` works on a deep copy.
"""
from __future__ import annotations

import copy
from itertools import pairwise
from typing import cast

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from rtmposelib.models.conv_module import ConvModule
from rtmposelib.models.prepacked_conv import PrepackedConv2d, prepack_available


class InferenceModel(nn.Module):
    """A folded model plus the input layout it runs best in. forward(images (B, 3, H, W)) -> the
    wrapped model's outputs. Call it under ``torch.inference_mode()`` (:func:`fuse_for_inference`
    turns gradients off, but inference mode also skips autograd's version counting)."""

    def __init__(self, model: nn.Module, *, channels_last: bool, frozen_compile: bool = False) -> None:
        super().__init__()
        self.model = model
        self.channels_last = channels_last
        self.frozen_compile = frozen_compile          # model is torch.compile-d: compile with frozen weights
        self._compiled_shapes: set[tuple[int, ...]] = set()

    def forward(self, images: torch.Tensor):
        if self.channels_last and images.ndim == 4:
            images = images.contiguous(memory_format=torch.channels_last)
        shape = tuple(images.shape)
        if self.frozen_compile and shape not in self._compiled_shapes:
            # Inductor compiles at the first call of each input shape and reads ``freezing`` then, from its
            # global config (torch.compile's ``options`` do not reach that switch): set for that call only
            from torch._inductor import config as inductor_config
            with inductor_config.patch(freezing=True):
                out = self.model(images)
            self._compiled_shapes.add(shape)
            return out
        return self.model(images)


def _fold_sequential(seq: nn.Sequential) -> int:
    """Fold each (Conv2d | ConvTranspose2d, BatchNorm2d) pair of ``seq`` in place; returns the count."""
    folded = 0
    names = list(seq._modules)
    for a, b in pairwise(names):
        conv, bn = seq._modules[a], seq._modules[b]
        if isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(bn, nn.BatchNorm2d) \
                and bn.track_running_stats:
            seq._modules[a] = fuse_conv_bn_eval(conv, bn, transpose=isinstance(conv, nn.ConvTranspose2d))
            seq._modules[b] = nn.Identity()
            folded += 1
    return folded


def fold_batchnorm(model: nn.Module) -> int:
    """Fold BatchNorm into the preceding convolution, in place, for a model in eval mode.

    Returns the number of folded pairs. Raises if ``model`` is in training mode (folding uses the
    running statistics, which training-mode BatchNorm does not).
    """
    if model.training:
        raise ValueError("fold_batchnorm needs a model in eval mode (call .eval() first)")
    folded = 0
    for module in model.modules():
        if isinstance(module, ConvModule) and isinstance(module.bn, nn.BatchNorm2d):
            module.conv = fuse_conv_bn_eval(module.conv, module.bn)
            module.bn = nn.Identity()
            folded += 1
        elif isinstance(module, nn.Sequential):
            folded += _fold_sequential(module)
    return folded


def has_batchnorm(model: nn.Module) -> bool:
    """Whether ``model`` holds any BatchNorm layer (i.e. whether folding can change anything)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def prepack_convolutions(model: nn.Module) -> int:
    """Replace every plain ``nn.Conv2d`` of an eval-mode, CPU float32 ``model`` with a
    :class:`PrepackedConv2d`, in place; a ``ConvModule``'s SiLU moves into its convolution. Returns the
    number replaced (0 where this PyTorch has no oneDNN kernel for it)."""
    if model.training:
        raise ValueError("prepack_convolutions needs a model in eval mode (call .eval() first)")
    if not prepack_available():
        return 0
    replaced = 0
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if not PrepackedConv2d.supports(child):
                continue
            activation = "none"
            if isinstance(module, ConvModule) and name == "conv" and isinstance(module.bn, nn.Identity) \
                    and isinstance(module.activate, nn.SiLU):
                activation = "silu"
                module.activate = nn.Identity()
            setattr(module, name, PrepackedConv2d(child, activation=activation))
            replaced += 1
    return replaced


def fuse_for_inference(model: nn.Module, *, channels_last: bool = True, compile: bool = False,
                       prepack: bool = True) -> InferenceModel:
    """A new eval-mode model with BatchNorm folded, parameters frozen and (by default) channels_last
    weights; ``model`` itself is left exactly as it was (same mode, weights and layout).

    prepack: on CPU float32, run the convolutions as :class:`PrepackedConv2d` (weights reordered for
    oneDNN once, SiLU fused); the model then serves inference only. Ignored with ``compile``, which
    prepacks its own way.

    compile: wrap the folded model in ``torch.compile`` with Inductor's freezing (weights become
    constants of the compiled graph: oneDNN prepacks them and fuses each convolution with its
    activation). Off by default: the first call compiles (seconds to a minute) and needs a C++
    compiler, each new input shape compiles again, and the compiled model must run under
    ``torch.inference_mode()`` / ``torch.no_grad()``.
    """
    fused = copy.deepcopy(model).eval()
    fold_batchnorm(fused)
    for module in fused.modules():                 # the conv output is a fresh tensor: SiLU may overwrite it
        if isinstance(module, ConvModule) and type(module.activate) is nn.SiLU:
            module.activate = nn.SiLU(inplace=True)
    for p in fused.parameters():
        p.requires_grad_(False)
    if channels_last:
        fused = fused.to(memory_format=torch.channels_last)
    if prepack and not compile:
        prepack_convolutions(fused)
    if compile:
        # torch.compile of a module returns a module (OptimizedModule); its stub promises only a callable
        fused = cast(nn.Module, torch.compile(fused))
    return InferenceModel(fused, channels_last=channels_last, frozen_compile=compile).eval()
