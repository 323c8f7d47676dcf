"""ONNX export of a top-down pose model with the official deployment names (docs/official-behaviour.md "Deployment").

Matches MMDeploy's ``pose-detection_simcc`` export, which is also the file layout rtmlib and the
official ``projects/rtmpose/examples/onnxruntime`` reader expect:

- one input ``input``: (N, 3, H, W) float32, NCHW, already normalised; the batch axis is dynamic;
- SimCC models: outputs ``simcc_x`` (N, K, W*r) and ``simcc_y`` (N, K, H*r) raw logits;
- heatmap models: output ``heatmaps`` (N, K, Hh, Wh);
- no pre-processing and (by default) no decode in the graph.

Colour order. Our models are trained as MMPose trains them: the data preprocessor swaps the BGR image
to RGB and normalises with the RGB-ordered mean/std, so an exported file expects *RGB* channels. rtmlib
and the official ORT example feed the BGR crop normalised with the same RGB-ordered stats and do not
swap (docs/official-behaviour.md "Deployment"). Files interoperate both ways because the graph itself is identical;
only the runner's ``bgr_to_rgb`` switch differs (:class:`rtmposelib.export.ort_runner.OrtPoseRunner`:
``True`` for our files and official MMPose behaviour, ``False`` to mimic rtmlib).

``with_decode=True`` appends the SimCC decode of ``mmpose.codecs.SimCCLabel``
(docs/official-behaviour.md "SimCC codec") to the graph:
argmax per axis, score = min of the two maxima, bin = -1 where score <= 0, then bins / split ratio.
Outputs become ``keypoints`` (N, K, 2) float32 crop pixels and ``scores`` (N, K) float32.

Exporter: the legacy TorchScript exporter (``torch.onnx.export(..., dynamo=False)``). In torch 2.14 it
is still present, takes ~0.1 s instead of ~5 s, writes the requested opset directly (the dynamo
exporter starts at opset 18 and converts down) and names outputs exactly as asked.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

SIMCC_OUTPUTS = ("simcc_x", "simcc_y")
HEATMAP_OUTPUTS = ("heatmaps",)
DECODED_OUTPUTS = ("keypoints", "scores")


class SimCCDecode(nn.Module):
    """SimCC decode as graph ops: the official argmax decode, identical to the numpy codec.

    forward(simcc_x (N, K, Wb), simcc_y (N, K, Hb)) -> (keypoints (N, K, 2) crop px, scores (N, K)).
    """

    def __init__(self, *, split_ratio: float) -> None:
        super().__init__()
        if split_ratio <= 0:
            raise ValueError(f"split_ratio must be > 0, got {split_ratio}")
        self.split_ratio = float(split_ratio)

    def forward(self, simcc_x: torch.Tensor, simcc_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        max_x, bin_x = simcc_x.max(dim=-1)                  # (N, K), first index on ties as np.argmax
        max_y, bin_y = simcc_y.max(dim=-1)
        scores = torch.minimum(max_x, max_y)                # MMPose: min of the two maxima
        bins = torch.stack([bin_x, bin_y], dim=-1).float()  # (N, K, 2) bins
        bins = torch.where((scores <= 0).unsqueeze(-1), torch.full_like(bins, -1.0), bins)
        return bins / self.split_ratio, scores


class _ExportWrapper(nn.Module):
    """model, optionally followed by the SimCC decode; always returns a tuple of tensors."""

    def __init__(self, model: nn.Module, decode: SimCCDecode | None) -> None:
        super().__init__()
        self.model = model
        self.decode = decode

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(images)
        if isinstance(out, torch.Tensor):
            return (out,)
        out = tuple(out)
        if self.decode is not None:
            return self.decode(*out)
        return out


def output_kind(model: nn.Module, input_size: tuple[int, int]) -> str:
    """``"simcc"`` or ``"heatmap"``, from one forward of a (1, 3, h, w) zero image."""
    w, h = input_size
    with torch.no_grad():
        out = model(torch.zeros(1, 3, h, w))
    if isinstance(out, torch.Tensor) and out.ndim == 4:
        return "heatmap"
    if isinstance(out, (tuple, list)) and len(out) == 2 and all(o.ndim == 3 for o in out):
        return "simcc"
    shapes = [tuple(o.shape) for o in out] if isinstance(out, (tuple, list)) else getattr(out, "shape", out)
    raise ValueError(f"model output must be (simcc_x, simcc_y) 3-D tensors or one 4-D heatmap tensor, "
                     f"got {shapes}")


def _set_output_shapes(path: Path, names: tuple[str, ...], shapes: list[tuple[int, ...]],
                       dynamic_batch: bool) -> None:
    """Write the concrete output shapes (batch symbolic or 1) into the file's graph outputs.

    The TorchScript exporter leaves dims behind reshapes symbolic (e.g. K after a flatten); MMDeploy's
    files declare them, and readers that inspect shapes (rtmlib) expect them.
    """
    proto = onnx.load(str(path))
    for out, name, shape in zip(proto.graph.output, names, shapes):
        if out.name != name:
            raise RuntimeError(f"exported output {out.name!r} where {name!r} was requested")
        dims = out.type.tensor_type.shape.dim
        del dims[:]
        for i, size in enumerate(shape):
            dim = dims.add()
            if i == 0 and dynamic_batch:
                dim.dim_param = "batch"
            else:
                dim.dim_value = size
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def export_onnx(model: nn.Module, path: str | Path, *, input_size: tuple[int, int],
                with_decode: bool = False, opset: int = 17, dynamic_batch: bool = True) -> Path:
    """Write ``model`` (in eval mode, on CPU) to an ONNX file at ``path``; returns the path.

    input_size: (w, h) crop pixels of the input. Outputs are named as in the module docstring;
    ``with_decode`` is for SimCC models only. The model is exported in eval mode and restored after.
    """
    w, h = input_size
    if w <= 0 or h <= 0:
        raise ValueError(f"input_size must be positive (w, h), got {input_size}")
    if opset < 11:
        raise ValueError(f"opset must be >= 11 (MMDeploy uses 11), got {opset}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    was_training = model.training
    model = model.eval()
    try:
        kind = output_kind(model, input_size)
        decode = None
        if with_decode:
            if kind != "simcc":
                raise ValueError("with_decode=True needs a SimCC model; heatmap models export raw "
                                 "'heatmaps' only")
            with torch.no_grad():
                simcc_x, _ = model(torch.zeros(1, 3, h, w))
            decode = SimCCDecode(split_ratio=simcc_x.shape[-1] / w)
            names = DECODED_OUTPUTS
        else:
            names = SIMCC_OUTPUTS if kind == "simcc" else HEATMAP_OUTPUTS
        wrapper = _ExportWrapper(model, decode).eval()
        with torch.no_grad():
            shapes = [tuple(o.shape) for o in wrapper(torch.zeros(1, 3, h, w))]
        dynamic_axes = {n: {0: "batch"} for n in ("input", *names)} if dynamic_batch else None
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            torch.onnx.export(wrapper, (torch.zeros(1, 3, h, w),), str(path), dynamo=False,
                              input_names=["input"], output_names=list(names), opset_version=opset,
                              dynamic_axes=dynamic_axes, do_constant_folding=True)
        _set_output_shapes(path, names, shapes, dynamic_batch)
    finally:
        model.train(was_training)
    return path
