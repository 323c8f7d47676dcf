"""Top-down pose inference with ONNX Runtime and numpy only, and torch-vs-ORT parity.

The runner does what MMDeploy's SDK / rtmlib do around an exported file (docs/official-behaviour.md "Deployment"): per
box,
pad 1.25 and fix the aspect ratio, warp a crop with ``cv2.warpAffine`` (bilinear), normalise with the
RGB-ordered ImageNet stats, run the batch, decode SimCC by argmax and map crop pixels back to the
image: ``kp_img = kp_crop / input_size * S + c - S / 2`` per axis (no rotation at test time).

Colour order (see :mod:`rtmposelib.export.onnx`): ``bgr_to_rgb=True`` swaps the BGR image to RGB
before normalising, as MMPose's data preprocessor does for our models and the official checkpoints;
``bgr_to_rgb=False`` normalises the BGR channels with the RGB-ordered stats, as rtmlib and the
official ONNX Runtime example do (no swap).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from rtmposelib.codecs import Codec
from rtmposelib.codecs.heatmap import MSRAHeatmapCodec, UDPHeatmapCodec
from rtmposelib.codecs.image_space import crop_to_image
from rtmposelib.codecs.simcc import SimCCCodec
from rtmposelib.config import simcc_sigma
from rtmposelib.data.preprocess import preprocess_boxes
from rtmposelib.export.onnx import DECODED_OUTPUTS, HEATMAP_OUTPUTS, SIMCC_OUTPUTS, SimCCDecode


def make_session(path: str | Path, *, threads: int = 1, providers: list[str] | None = None
                 ) -> ort.InferenceSession:
    """An ORT session with ``threads`` intra-op threads, 1 inter-op thread, sequential execution."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ONNX file not found: {path}")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts,
                                providers=providers or ["CPUExecutionProvider"])


def file_kind(session: ort.InferenceSession, path: str | Path = "<session>") -> str:
    """``"simcc"``, ``"heatmap"`` or ``"decoded"`` from the output names (raises on anything else)."""
    names = tuple(o.name for o in session.get_outputs())
    inputs = [i.name for i in session.get_inputs()]
    if inputs != ["input"]:
        raise ValueError(f"{path}: expected one input named 'input', got {inputs}")
    for kind, expected in (("simcc", SIMCC_OUTPUTS), ("heatmap", HEATMAP_OUTPUTS),
                           ("decoded", DECODED_OUTPUTS)):
        if names == expected:
            return kind
    raise ValueError(f"{path}: outputs {names} are none of {SIMCC_OUTPUTS}, {HEATMAP_OUTPUTS}, "
                     f"{DECODED_OUTPUTS}")

def onnx_input_size(path: str | Path) -> tuple[int, int]:
    """The (w, h) crop size an exported pose file expects, read from its input shape [N, 3, h, w]."""
    dims = _shape(_onnx_graph(path).input[0])
    if len(dims) != 4 or dims[1] != 3 or not dims[2] or not dims[3]:
        raise ValueError(f"{path}: input shape {dims} is not [N, 3, h, w] with a fixed h and w")
    return dims[3], dims[2]


def onnx_heatmap_size(path: str | Path) -> tuple[int, int] | None:
    """The (w, h) of a heatmap file's ``heatmaps`` output [N, K, h, w], or None for other files."""
    outputs = _onnx_graph(path).output
    if [o.name for o in outputs] != list(HEATMAP_OUTPUTS):
        return None
    dims = _shape(outputs[0])
    assert dims[3] is not None and dims[2] is not None             # exported heatmap sizes are fixed
    return dims[3], dims[2]


def _onnx_graph(path: str | Path):
    import onnx

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ONNX file not found: {path}")
    try:
        return onnx.load(str(path), load_external_data=False).graph
    except Exception as err:
        raise ValueError(f"{path} is not a readable ONNX file: {err}") from None


def _shape(value_info) -> list[int | None]:
    return [d.dim_value if d.HasField("dim_value") else None for d in value_info.type.tensor_type.shape.dim]


class OrtPoseRunner:
    """ONNX Runtime top-down pose estimator for files written by :func:`export_onnx` or MMDeploy.

    path: the .onnx file. threads: ORT intra-op threads (paper protocol: 1). providers: ORT execution
    providers (default CPU). input_size: (w, h) crop pixels the file was exported with.
    bgr_to_rgb: colour convention, see module docstring. codec: the numpy codec used to decode raw
    outputs; default the official SimCC codec for ``input_size`` (heatmap files need one passed).
    bbox_padding: box expansion before the warp (official 1.25).
    """

    def __init__(self, path: str | Path, *, threads: int = 1, providers: list[str] | None = None,
                 input_size: tuple[int, int], bgr_to_rgb: bool = True, codec: Codec | None = None,
                 bbox_padding: float = 1.25) -> None:
        self.path = Path(path)
        self.session = make_session(self.path, threads=threads, providers=providers)
        self.kind = file_kind(self.session, self.path)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        shape = self.session.get_inputs()[0].shape                 # [N, 3, H, W]; N may be symbolic
        w, h = self.input_size
        if len(shape) != 4 or shape[1] != 3 or shape[2:] != [h, w]:
            raise ValueError(f"{self.path}: input shape {shape} does not match input_size (w, h) = "
                             f"{self.input_size}; expected [N, 3, {h}, {w}]")
        self.dynamic_batch = not isinstance(shape[0], int)
        self.bgr_to_rgb = bgr_to_rgb
        self.bbox_padding = bbox_padding
        if codec is None and self.kind == "simcc":
            codec = SimCCCodec(input_size=self.input_size, sigma=simcc_sigma(self.input_size))
        if codec is None and self.kind == "heatmap":
            raise ValueError(f"{self.path}: a heatmap file needs codec= (UDP or MSRA heatmap codec)")
        self.codec = codec

    # -- model ---------------------------------------------------------------------------------
    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """Raw outputs by name for ``batch`` (N, 3, H, W) float32 normalised crops."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        w, h = self.input_size
        if batch.ndim != 4 or batch.shape[1:] != (3, h, w):
            raise ValueError(f"batch must be (N, 3, {h}, {w}), got {batch.shape}")
        names = [o.name for o in self.session.get_outputs()]
        if self.dynamic_batch or len(batch) == 1:
            outs = self.session.run(names, {"input": batch})
        else:                                                     # static batch-1 file: one by one
            per = [self.session.run(names, {"input": batch[i:i + 1]}) for i in range(len(batch))]
            outs = [np.concatenate([p[j] for p in per]) for j in range(len(names))]
        return dict(zip(names, outs))

    def decode(self, outputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(keypoints (N, K, 2) crop px, scores (N, K)) from :meth:`run` outputs."""
        if self.kind == "decoded":
            return outputs["keypoints"], outputs["scores"]
        if self.kind == "simcc":
            assert isinstance(self.codec, SimCCCodec)
            return self.codec.decode(outputs["simcc_x"], outputs["simcc_y"])
        assert isinstance(self.codec, (MSRAHeatmapCodec, UDPHeatmapCodec))
        return self.codec.decode(outputs["heatmaps"])

    # -- pre-processing ------------------------------------------------------------------------
    def preprocess(self, image_bgr: np.ndarray, boxes_xyxy: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`~rtmposelib.data.preprocess.preprocess_boxes` with this runner's input size, colour order, padding."""
        return preprocess_boxes(image_bgr, boxes_xyxy, input_size=self.input_size,
                                bgr_to_rgb=self.bgr_to_rgb, bbox_padding=self.bbox_padding)

    def __call__(self, image_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Poses of the people in ``boxes_xyxy``: (keypoints (N, K, 2) image px, scores (N, K))."""
        batch, centers, box_sizes = self.preprocess(image_bgr, boxes_xyxy)
        if len(batch) == 0:
            return np.zeros((0, 0, 2), np.float32), np.zeros((0, 0), np.float32)
        keypoints, scores = self.decode(self.run(batch))
        return crop_to_image(keypoints, centers, box_sizes, self.input_size), scores


def _argmax_points(outputs: tuple[np.ndarray, ...], kind: str, input_w: int) -> np.ndarray:
    """(N, K, 2) crop px from argmax bins, no score threshold (for comparing two runs of one model)."""
    if kind == "simcc":
        x, y = outputs
        ratio = x.shape[-1] / input_w
        return np.stack([x.argmax(-1), y.argmax(-1)], -1).astype(np.float32) / ratio
    if kind == "heatmap":
        (hm,) = outputs
        n, k, hh, wh = hm.shape
        flat = hm.reshape(n, k, -1).argmax(-1)
        return np.stack([flat % wh, flat // wh], -1).astype(np.float32) * (input_w / wh)
    return outputs[0]


def parity(model: nn.Module, onnx_path: str | Path, images) -> dict[str, float]:
    """Compare ``model`` (torch, eval) with its ONNX file on the same normalised crops.

    images: (N, 3, H, W) float32 normalised crops (numpy or torch). Returns
    max_abs_logit (max |torch - ORT| over all raw outputs; over scores for decoded files),
    max_kpt_px (max Euclidean distance between argmax keypoints, crop px) and
    argmax_agree (fraction of the N*K keypoints whose argmax locations are identical).
    """
    batch = torch.as_tensor(np.asarray(images, dtype=np.float32))
    session = make_session(onnx_path, threads=1)
    kind = file_kind(session, onnx_path)
    ort_out = tuple(session.run(None, {"input": batch.numpy()}))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(batch)
    finally:
        model.train(was_training)
    torch_out = (out,) if isinstance(out, torch.Tensor) else tuple(out)
    if kind == "decoded":
        ratio = torch_out[0].shape[-1] / batch.shape[-1]
        torch_out = SimCCDecode(split_ratio=ratio)(*torch_out)
    torch_out = tuple(t.numpy() for t in torch_out)
    if len(torch_out) != len(ort_out) or any(a.shape != b.shape for a, b in zip(torch_out, ort_out)):
        raise ValueError(f"{onnx_path}: output shapes differ from the model's: "
                         f"{[a.shape for a in torch_out]} vs {[b.shape for b in ort_out]}")
    if kind == "decoded":
        max_abs = float(np.abs(torch_out[1] - ort_out[1]).max())
    else:
        max_abs = max(float(np.abs(a - b).max()) for a, b in zip(torch_out, ort_out))
    input_w = batch.shape[-1]
    pt_torch = _argmax_points(torch_out, kind, input_w)
    pt_ort = _argmax_points(ort_out, kind, input_w)
    dist = np.linalg.norm(pt_torch - pt_ort, axis=-1)
    return {"max_abs_logit": max_abs, "max_kpt_px": float(dist.max()),
            "argmax_agree": float((dist == 0).mean())}
