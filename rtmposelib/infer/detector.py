"""Person detectors for the top-down pipeline: one call per frame -> boxes and scores.

RTMPose is top-down (paper Section 3.5, Table 5: RTMDet-nano 320x320 in front of the pose model).
Every detector here is a callable ``detector(image_bgr, key=None) -> (boxes (N, 4) float32 xyxy image
pixels, scores (N,) float32)``; ``key`` names the frame (a COCO image id or file name) for detectors
that look boxes up instead of computing them.

- :class:`GroundTruthDetector`: the annotated person boxes of a COCO keypoint file, score 1, clipped to
  the image as MMPose's dataset does (x2 = min(x + w, W - 1), ...).
- :class:`ResultsFileDetector`: a COCO detection-results JSON (image_id, bbox xywh, score,
  category_id), person category only, ``score >= score_thr``.
- :class:`RTMDetDetector`: the RTMDet/rtmlib conventions (docs/official-behaviour.md "Deployment"): top-left letterbox
to
  320x320 with pad 114, BGR mean (103.53, 116.28, 123.675) / std (57.375, 57.12, 58.395) without a
  channel swap, MMDeploy end-to-end outputs ``dets`` (1, N, 5: x1, y1, x2, y2, score in letterbox
  pixels) and ``labels`` (1, N); keeps label 0 with score > score_thr, IoU-NMS, divides by the resize
  ratio and clips. Runs an ONNX file (:meth:`RTMDetDetector.from_onnx`) or a torch module with the same
  I/O (:meth:`RTMDetDetector.from_torch`).
- :class:`CallableDetector`: any callable image -> (boxes, scores), torch tensors accepted.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from rtmposelib.data.bbox import xywh_to_clipped_xyxy
from rtmposelib.data.coco import load_json
from rtmposelib.data.person_filter import person_skip_reason
from rtmposelib.detect.letterbox import letterbox
from rtmposelib.infer.pose_nms import box_nms


class Detector(Protocol):
    def __call__(self, image_bgr: np.ndarray, key: int | str | None = None
                 ) -> tuple[np.ndarray, np.ndarray]: ...


def empty_detections() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)


class _CocoLookup:
    """Boxes stored per image id, looked up by id or by file name (COCO ``images`` table)."""

    def __init__(self, boxes: dict[int, list], file_to_id: dict[str, int], source: Path) -> None:
        self._boxes = boxes
        self._file_to_id = file_to_id
        self.source = source

    def image_id(self, key: int | str | None) -> int:
        if key is None:
            raise ValueError(f"{self.source}: this detector looks boxes up; pass key=<image id or file>")
        if isinstance(key, (int, np.integer)):
            return int(key)
        name = Path(str(key)).name
        if name in self._file_to_id:
            return self._file_to_id[name]
        stem = Path(name).stem
        if stem.isdigit():                                    # COCO names: 000000397133.jpg
            return int(stem)
        raise ValueError(f"{self.source}: no image named {name!r} and no numeric id in the name")

    def lookup(self, key: int | str | None) -> tuple[np.ndarray, np.ndarray]:
        rows = self._boxes.get(self.image_id(key), [])
        if not rows:
            return empty_detections()
        arr = np.asarray(rows, np.float32)
        return arr[:, :4].copy(), arr[:, 4].copy()


class GroundTruthDetector:
    """Annotated boxes of ``ann_file`` (COCO keypoints format), all with score 1.

    Crowd regions, boxes of non-positive size and (``require_keypoints``, as the evaluation dataset)
    people without labelled keypoints are left out, counted in ``skipped``.
    """

    def __init__(self, ann_file: str | Path, *, category_id: int = 1, require_keypoints: bool = True) -> None:
        coco = load_json(ann_file, "annotation file")
        if not isinstance(coco, dict) or "images" not in coco or "annotations" not in coco:
            raise ValueError(f"{ann_file}: expected a COCO dict with 'images' and 'annotations'")
        sizes = {img["id"]: (img["width"], img["height"]) for img in coco["images"]}
        boxes: dict[int, list] = {i: [] for i in sizes}
        self.skipped: dict[str, int] = defaultdict(int)
        for ann in coco["annotations"]:
            if ann.get("category_id", category_id) != category_id:
                continue
            if ann.get("image_id") not in sizes:
                raise ValueError(f"{ann_file}: annotation {ann.get('id')} refers to unknown image "
                                 f"{ann.get('image_id')}")
            reason = person_skip_reason(ann, sizes[ann["image_id"]], require_keypoints=require_keypoints)
            if reason:
                self.skipped[reason] += 1
                continue
            x1, y1, x2, y2 = xywh_to_clipped_xyxy(ann["bbox"], sizes[ann["image_id"]])
            boxes[ann["image_id"]].append([x1, y1, x2, y2, 1.0])
        self._lookup = _CocoLookup(boxes, {img["file_name"]: img["id"] for img in coco["images"]},
                                   Path(ann_file))

    def __call__(self, image_bgr: np.ndarray | None, key: int | str | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        return self._lookup.lookup(key)


class ResultsFileDetector:
    """Boxes from a COCO detection-results JSON, person category, ``score >= score_thr``.

    ann_file: optional COCO file whose ``images`` table maps file names to ids.
    """

    def __init__(self, results_file: str | Path, *, score_thr: float = 0.0, category_id: int = 1,
                 ann_file: str | Path | None = None) -> None:
        results = load_json(results_file, "detection results file")
        if not isinstance(results, list):
            raise ValueError(f"{results_file}: expected a list of COCO detection results")
        boxes: dict[int, list] = defaultdict(list)
        for i, det in enumerate(results):
            try:
                x, y, w, h = det["bbox"]
                image_id, score = int(det["image_id"]), float(det["score"])
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"{results_file}: entry {i} lacks image_id / bbox (4 numbers) / "
                                 f"score: {det!r}") from None
            if det.get("category_id", category_id) != category_id or score < score_thr:
                continue
            if w > 0 and h > 0:
                boxes[image_id].append([x, y, x + w, y + h, score])
        file_to_id = {}
        if ann_file is not None:
            file_to_id = {img["file_name"]: img["id"] for img in load_json(ann_file, "annotation "
                                                                                      "file")["images"]}
        self._lookup = _CocoLookup(dict(boxes), file_to_id, Path(results_file))

    def __call__(self, image_bgr: np.ndarray | None, key: int | str | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        return self._lookup.lookup(key)


class RTMDetDetector:
    """An RTMDet-style person detector with MMDeploy end-to-end outputs (dets, labels).

    run: (1, 3, H, W) float32 letterboxed input -> (dets (1, N, 5), labels (1, N)) numpy.
    input_size: letterbox (w, h). score_thr: keep score > thr (rtmlib 0.3). nms_thr: IoU-NMS on the
    kept boxes (MMPose demo 0.3; None = trust the file's own NMS). person_label: class index kept.
    """

    def __init__(self, run: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], *,
                 input_size: tuple[int, int] = (320, 320), score_thr: float = 0.3,
                 nms_thr: float | None = 0.3, person_label: int = 0) -> None:
        self.run = run
        self.input_size = input_size
        self.score_thr = score_thr
        self.nms_thr = nms_thr
        self.person_label = person_label

    @classmethod
    def from_onnx(cls, path: str | Path, *, threads: int = 1, **kwargs) -> RTMDetDetector:
        """Load an ONNX file with inputs (1, 3, H, W) and outputs named ``dets`` and ``labels``."""
        from rtmposelib.export.ort_runner import make_session

        session = make_session(path, threads=threads)
        names = [o.name for o in session.get_outputs()]
        if "dets" not in names or "labels" not in names:
            raise ValueError(f"{path}: expected MMDeploy end-to-end outputs 'dets' and 'labels', "
                             f"got {names}")
        inp = session.get_inputs()[0]
        if len(inp.shape) == 4 and all(isinstance(s, int) for s in inp.shape[2:]):
            kwargs.setdefault("input_size", (inp.shape[3], inp.shape[2]))

        def run(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            dets, labels = session.run(["dets", "labels"], {inp.name: batch})
            return dets, labels

        return cls(run, **kwargs)

    @classmethod
    def from_torch(cls, module, **kwargs) -> RTMDetDetector:
        """Wrap a torch module whose forward(batch) returns (dets, labels) as the ONNX file would."""
        import torch

        def run(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            with torch.no_grad():
                dets, labels = module(torch.from_numpy(batch))
            return dets.cpu().numpy(), labels.cpu().numpy()

        return cls(run, **kwargs)

    def __call__(self, image_bgr: np.ndarray, key: int | str | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        batch, ratio = letterbox(image_bgr, self.input_size)
        dets, labels = self.run(batch)
        dets = np.asarray(dets, np.float32).reshape(-1, 5)             # (N, 5) letterbox px
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(dets):
            raise ValueError(f"detector returned {len(dets)} dets but {len(labels)} labels")
        keep = (labels == self.person_label) & (dets[:, 4] > self.score_thr)
        boxes, scores = dets[keep, :4] / np.float32(ratio), dets[keep, 4]
        h, w = image_bgr.shape[:2]
        boxes = np.clip(boxes, 0, [w, h, w, h]).astype(np.float32)
        valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        boxes, scores = boxes[valid], scores[valid]
        if self.nms_thr is not None and len(boxes) > 1:
            order = box_nms(boxes, scores, self.nms_thr)
            boxes, scores = boxes[order], scores[order]
        return boxes, scores.astype(np.float32)


class CallableDetector:
    """Any callable ``fn(image_bgr) -> (boxes (N, 4) xyxy, scores (N,))`` (numpy or torch), with a
    score threshold (``score > score_thr``) and optional IoU-NMS."""

    def __init__(self, fn: Callable, *, score_thr: float = 0.0, nms_thr: float | None = None) -> None:
        self.fn = fn
        self.score_thr = score_thr
        self.nms_thr = nms_thr

    def __call__(self, image_bgr: np.ndarray, key: int | str | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        boxes, scores = self.fn(image_bgr)
        boxes = _to_numpy(boxes).reshape(-1, 4).astype(np.float32)
        scores = _to_numpy(scores).reshape(-1).astype(np.float32)
        if len(boxes) != len(scores):
            raise ValueError(f"detector callable returned {len(boxes)} boxes but {len(scores)} scores")
        keep = scores > self.score_thr
        boxes, scores = boxes[keep], scores[keep]
        if self.nms_thr is not None and len(boxes) > 1:
            order = box_nms(boxes, scores, self.nms_thr)
            boxes, scores = boxes[order], scores[order]
        return boxes, scores


def _to_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)
