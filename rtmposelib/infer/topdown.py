"""The top-down pipeline on one image: detect people, crop every box, one batched pose forward,
decode to image pixels, rescore, OKS pose-NMS.

Matches MMPose's test-time behaviour (docs/official-behaviour.md "SimCC codec"): each box is padded 1.25 and
aspect-fixed,
warped without rotation, normalised (BGR -> RGB, ImageNet stats); the pose outputs are decoded by the
codec (optional flip test: flipped crop, ``flip_back``, raw logits averaged 0.5 / 0.5); crop keypoints
map back as ``kp / input_size * S + c - S / 2``; the instance score is ``box score x mean of the
keypoint scores above 0.2`` and the instance area is ``S_w * S_h``; OKS-NMS (COCO area-based,
:mod:`rtmposelib.infer.oks_nms`) keeps the best-scored of overlapping poses. The pose model is a torch
module or an ONNX file run by ONNX Runtime (``input`` -> ``simcc_x``, ``simcc_y`` / ``heatmaps``).
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from rtmposelib.codecs import crop_to_image, flip_test_average
from rtmposelib.data.preprocess import preprocess_boxes
from rtmposelib.eval.predict import rescore


@dataclass
class Poses:
    """The people found in one frame (N instances, K keypoints), all in image pixels.

    keypoints (N, K, 2) float32; keypoint_scores (N, K); boxes (N, 4) xyxy the crops were made from;
    box_scores (N,); scores (N,) float64 instance scores (box score x mean keypoint score > 0.2);
    centers / box_sizes (N, 2) the padded aspect-fixed crop boxes (centre, (w, h)); areas (N,) = w * h.
    """

    keypoints: np.ndarray
    keypoint_scores: np.ndarray
    boxes: np.ndarray
    box_scores: np.ndarray
    scores: np.ndarray
    centers: np.ndarray
    box_sizes: np.ndarray
    areas: np.ndarray

    @classmethod
    def empty(cls, num_keypoints: int) -> Poses:
        z = np.zeros
        return cls(z((0, num_keypoints, 2), np.float32), z((0, num_keypoints), np.float32),
                   z((0, 4), np.float32), z(0, np.float32), z(0, np.float32), z((0, 2), np.float32),
                   z((0, 2), np.float32), z(0, np.float32))

    def __len__(self) -> int:
        return len(self.keypoints)

    def select(self, index) -> Poses:
        return Poses(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    def to_coco(self, image_id: int | str, category_id: int = 1) -> list[dict]:
        """COCO keypoint results: keypoints flattened [x, y, score] * K, score, plus area and bbox."""
        out = []
        for i in range(len(self)):
            kpts = np.concatenate([self.keypoints[i], self.keypoint_scores[i][:, None]], axis=1)
            x1, y1, x2, y2 = (float(v) for v in self.boxes[i])
            out.append({"image_id": image_id, "category_id": category_id,
                        "keypoints": kpts.reshape(-1).astype(float).tolist(),
                        "score": float(self.scores[i]), "area": float(self.areas[i]),
                        "bbox": [x1, y1, x2 - x1, y2 - y1]})
        return out


class PoseRunner:
    """The pose model as a function of normalised crops: (N, 3, H, W) float32 -> raw numpy outputs.

    pose: a torch module (SimCC: (simcc_x, simcc_y); heatmap: heatmaps), an
    :class:`~rtmposelib.export.ort_runner.OrtPoseRunner`, or a path to a .onnx file. A torch module
    runs under ``torch.inference_mode``; with ``fuse`` and BatchNorm in it, as its inference copy
    (:func:`rtmposelib.models.fuse.fuse_for_inference`: folded, channels_last, on CPU with prepacked
    convolutions; ``pose`` is left as it is); with ``compile``, that copy is ``torch.compile``-d with
    frozen weights instead of prepacked (each new batch size compiles once).
    """

    def __init__(self, pose, *, input_size: tuple[int, int], device: str = "cpu", threads: int = 1,
                 codec=None, fuse: bool = True, compile: bool = False) -> None:
        if isinstance(pose, (str, Path)):
            from rtmposelib.export.ort_runner import OrtPoseRunner
            pose = OrtPoseRunner(pose, input_size=input_size, threads=threads, codec=codec)
        self.pose = pose
        self.device = device
        self.is_onnx = hasattr(pose, "session")
        self.decoded = self.is_onnx and getattr(pose, "kind", "simcc") == "decoded"   # outputs keypoints, scores
        self.model = pose
        if not self.is_onnx:
            assert isinstance(pose, nn.Module)
            pose.eval().to(device)
            from rtmposelib.models.fuse import fuse_for_inference, has_batchnorm
            if compile or (fuse and has_batchnorm(pose)):
                self.model = fuse_for_inference(pose, compile=compile)

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        if self.is_onnx:
            return tuple(self.pose.run(batch).values())
        import torch
        assert isinstance(self.model, nn.Module)
        with torch.inference_mode():
            out = self.model(torch.from_numpy(batch).to(self.device))
        out = (out,) if isinstance(out, torch.Tensor) else tuple(out)
        return tuple(o.float().cpu().numpy() for o in out)


class TopdownPipeline:
    """Detector + top-down pose model for single images.

    pose: torch module, OrtPoseRunner or .onnx path. detector: a :class:`~rtmposelib.infer.detector.
    Detector` (or None when boxes are always passed to :meth:`estimate`). metainfo: the dataset's
    MetaInfo (sigmas, flip_indices). codec: SimCC or heatmap codec (its input_size is the crop size).
    flip_test: average with the flipped crop. pose_nms_thr: COCO OKS-NMS threshold (None = off;
    MMPose evaluation 0.9). bbox_padding: box expansion (1.25). batch_size: crops per forward (None =
    all crops of a frame at once).
    """

    def __init__(self, pose, detector=None, *, metainfo, codec, flip_test: bool = False,
                 pose_nms_thr: float | None = 0.9, bbox_padding: float = 1.25,
                 batch_size: int | None = None, device: str = "cpu") -> None:
        self.codec = codec
        self.input_size = tuple(codec.input_size)
        self.runner = pose if isinstance(pose, PoseRunner) else PoseRunner(
            pose, input_size=self.input_size, device=device, codec=codec)
        if flip_test and self.runner.decoded:
            raise ValueError(f"{self.runner.pose.path}: a file with the decode inside (export --with-decode) "
                             f"cannot be flip-tested; export without --with-decode to use the flip test")
        self.detector = detector
        self.metainfo = metainfo
        self.flip_test = flip_test
        self.pose_nms_thr = pose_nms_thr
        self.bbox_padding = bbox_padding
        self.batch_size = batch_size
        self.timings: dict[str, float] = defaultdict(float)   # seconds per stage, accumulated

    def __call__(self, image_bgr: np.ndarray, key: int | str | None = None) -> Poses:
        """Detect and estimate: the poses of everyone in ``image_bgr`` (H, W, 3) uint8 BGR."""
        if self.detector is None:
            raise ValueError("this pipeline has no detector; call estimate(image, boxes) instead")
        t0 = time.perf_counter()
        boxes, scores = self.detector(image_bgr, key=key)
        self.timings["detector"] += time.perf_counter() - t0
        return self.estimate(image_bgr, boxes, scores)

    def estimate(self, image_bgr: np.ndarray, boxes: np.ndarray, box_scores: np.ndarray | None = None,
                 *, nms: bool = True) -> Poses:
        """Poses for given boxes (N, 4) xyxy image px with scores (N,) (default 1); OKS-NMS if ``nms``."""
        if image_bgr is None or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ValueError(f"image must be (H, W, 3) BGR uint8, got "
                             f"{None if image_bgr is None else image_bgr.shape}")
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        box_scores = np.ones(len(boxes), np.float32) if box_scores is None else \
            np.asarray(box_scores, np.float32).reshape(-1)
        positive = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        if not positive.all():
            raise ValueError(f"boxes {np.flatnonzero(~positive).tolist()} have zero or negative area: "
                             f"{boxes[~positive].tolist()} (xyxy image px expected)")
        k = self.metainfo.num_keypoints
        if len(boxes) == 0:
            return Poses.empty(k)
        t0 = time.perf_counter()
        batch, centers, box_sizes = self.crops(image_bgr, boxes)
        t1 = time.perf_counter()
        keypoints, kpt_scores = self._infer(batch)
        t2 = time.perf_counter()
        keypoints = crop_to_image(keypoints, centers, box_sizes, self.input_size)
        poses = Poses(keypoints, kpt_scores.astype(np.float32), boxes, box_scores,
                      rescore(box_scores, kpt_scores), centers, box_sizes,
                      (box_sizes[:, 0] * box_sizes[:, 1]).astype(np.float32))
        if nms and self.pose_nms_thr is not None and len(poses) > 1:
            from rtmposelib.eval.oks_nms import oks_nms
            kpts3 = np.concatenate([poses.keypoints, poses.keypoint_scores[..., None]], axis=-1)
            keep = np.asarray(oks_nms(kpts3, poses.scores, poses.areas, self.metainfo.sigmas,
                                      thr=self.pose_nms_thr), dtype=np.int64)
            poses = poses.select(np.sort(keep))                # survivors in detector order
        t3 = time.perf_counter()
        self.timings["pre"] += t1 - t0
        self.timings["pose"] += t2 - t1
        self.timings["post"] += t3 - t2
        return poses

    def crops(self, image_bgr: np.ndarray, boxes: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(batch (N, 3, h, w) float32 normalised RGB, centers (N, 2), box_sizes (N, 2)) image px."""
        return preprocess_boxes(image_bgr, boxes, input_size=self.input_size, bbox_padding=self.bbox_padding)

    def _infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Normalised crops -> (keypoints (N, K, 2) crop px, scores (N, K)), flip test included."""
        step = self.batch_size or len(batch)
        outputs = [self._forward(batch[i:i + step]) for i in range(0, len(batch), step)]
        outputs = tuple(np.concatenate(parts) for parts in zip(*outputs))
        if self.runner.decoded:                            # the file decoded already: (keypoints, scores)
            return outputs[0], outputs[1]
        return self.codec.decode(*outputs)

    def _forward(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        outputs = self.runner(batch)
        if not self.flip_test:
            return outputs
        flipped = self.runner(np.ascontiguousarray(batch[..., ::-1]))
        return flip_test_average(self.codec, outputs, flipped, self.metainfo.flip_indices)
