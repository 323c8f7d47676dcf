"""ONNX export of RTMDet in MMDeploy's end-to-end detection convention (docs/official-behaviour.md "Deployment").

The file is what ``rtmposelib.infer.detector.RTMDetDetector.from_onnx`` and rtmlib's RTMDet read:

- input ``input``: (1, 3, H, W) float32, the top-left letterboxed image (pad 114) normalised with the
  BGR mean (103.53, 116.28, 123.675) / std (57.375, 57.12, 58.395), no channel swap;
- outputs ``dets`` (1, N, 5: x1, y1, x2, y2, score, letterboxed pixels) and ``labels`` (1, N) int64,
  N dynamic (at most ``max_per_img``), best first;
- score threshold, per-level top-k, decode and NMS are inside the graph (``postprocess.py``).

Exporter: the legacy TorchScript exporter (as ``rtmposelib.export.onnx``), opset 11, batch 1 (NMS is
per image). Export runs the traced graph once in ONNX Runtime on a test input and raises if it fails.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import onnx
import torch

from rtmposelib.detect.postprocess import IOU_THR, MAX_PER_IMG, NMS_PRE, SCORE_THR, RTMDetEndToEnd
from rtmposelib.detect.rtmdet import RTMDet

INPUT_NAME = "input"
OUTPUT_NAMES = ("dets", "labels")


def export_rtmdet_onnx(model: RTMDet, path: str | Path, *, input_size: tuple[int, int] = (320, 320),
                       score_thr: float = SCORE_THR, nms_pre: int = NMS_PRE, iou_thr: float = IOU_THR,
                       max_per_img: int = MAX_PER_IMG, opset: int = 11) -> Path:
    """Write ``model`` + post-processing to ``path`` (input (1, 3, h, w), ``input_size`` = (w, h))."""
    w, h = input_size
    stride = max(model.strides)
    if w <= 0 or h <= 0 or w % stride or h % stride:
        raise ValueError(f"input_size must be positive multiples of {stride}, got {input_size}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapper = RTMDetEndToEnd(model, score_thr=score_thr, nms_pre=nms_pre, iou_thr=iou_thr,
                             max_per_img=max_per_img).eval()
    example = torch.zeros(1, 3, h, w)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")               # tracer warnings about shape-derived constants
        torch.onnx.export(wrapper, (example,), str(path), dynamo=False, opset_version=opset,
                          input_names=[INPUT_NAME], output_names=list(OUTPUT_NAMES),
                          dynamic_axes={"dets": {1: "num_dets"}, "labels": {1: "num_dets"}})
    onnx.checker.check_model(onnx.load(str(path)))
    return path
