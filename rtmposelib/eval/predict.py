"""Top-down prediction over a dataset as COCO keypoint results (MMPose ``TopdownPoseEstimator`` + ``CocoMetric``).

For every instance crop: run the model (and, with ``flip_indices``, the horizontally flipped crop,
flipped back and averaged 0.5 / 0.5 on the raw outputs -- docs/official-behaviour.md "SimCC codec"), decode with the
codec, map the crop keypoints to the image with the sample's ``center`` and ``box_size`` (no
rotation at test time), and rescore the instance as MMPose's ``score_mode='bbox_keypoint'``: box score x mean of
the keypoint scores above 0.2 (0 when none is). The OKS-NMS per image happens in
:func:`rtmposelib.eval.coco_eval.coco_keypoint_eval`, where MMPose does it; each result carries the
NMS ``area`` = w*h of the padded, aspect-fixed box and, as MMPose's results, its input ``bbox`` (the
unpadded detection or ground-truth box, ``[x, y, w, h]``), whose w*h is the area the evaluator uses
for its medium / large ranges.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from rtmposelib.codecs import flip_test_average
from rtmposelib.codecs.image_space import crop_to_image
from rtmposelib.codecs.simcc import SimCCCodec
from rtmposelib.data.preprocess import normalize_images

KEYPOINT_SCORE_THR = 0.2   # CocoMetric keypoint_score_thr


class Samples(Protocol):
    """Indexable samples (dicts): a top-down dataset or a list."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> dict: ...


def batches(dataset: Samples, batch_size: int) -> Iterator[dict]:
    """Consecutive samples of ``dataset`` collated per key: tensors stacked, the rest as numpy arrays."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    for start in range(0, len(dataset), batch_size):
        samples = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        batch: dict[str, torch.Tensor | np.ndarray] = {}
        for key in samples[0]:
            values = [s[key] for s in samples]
            if isinstance(values[0], torch.Tensor):
                batch[key] = torch.stack(values)
            else:
                batch[key] = np.asarray(values)
        yield batch


def rescore(bbox_scores: np.ndarray, keypoint_scores: np.ndarray, thr: float = KEYPOINT_SCORE_THR) -> np.ndarray:
    """(N,) box scores, (N, K) keypoint scores -> (N,) box score x mean keypoint score above ``thr``."""
    above = keypoint_scores > thr
    count = above.sum(-1)
    mean = np.where(count > 0, (keypoint_scores * above).sum(-1) / np.maximum(count, 1), 0.0)
    return np.asarray(bbox_scores, np.float64) * mean


def results_from_outputs(outputs, batch: dict, *, codec) -> list[dict]:
    """Decode one batch of raw outputs (numpy) into COCO keypoint results in image pixels.

    outputs: (simcc_x (B, K, Wb), simcc_y (B, K, Hb)) for a SimCC codec, heatmaps (B, K, Hh, Wh) for a
    heatmap codec; batch: the collated samples (``center``, ``box_size``, ``image_id``, optionally
    ``bbox_score``, ``id``, ``category_id``, ``bbox`` (B, 4) xywh input boxes).
    """
    if isinstance(codec, SimCCCodec):
        keypoints, scores = codec.decode(*outputs)
    else:
        keypoints, scores = codec.decode(outputs)
    center, box_size = np.asarray(batch["center"]), np.asarray(batch["box_size"])
    keypoints = crop_to_image(keypoints, center, box_size, codec.input_size)
    n = len(keypoints)
    bbox_scores = np.asarray(batch.get("bbox_score", np.ones(n)), np.float64).reshape(n)
    inst_scores = rescore(bbox_scores, scores)
    areas = np.prod(box_size.reshape(n, 2), axis=1)
    results = []
    for i in range(n):
        kpts = np.concatenate([keypoints[i], scores[i][:, None]], axis=1)          # (K, 3)
        result = {"image_id": int(batch["image_id"][i]),
                  "category_id": int(batch["category_id"][i]) if "category_id" in batch else 1,
                  "keypoints": kpts.reshape(-1).astype(float).tolist(),
                  "score": float(inst_scores[i]), "area": float(areas[i]),
                  "bbox_score": float(bbox_scores[i])}
        if "bbox" in batch:
            result["bbox"] = np.asarray(batch["bbox"][i], np.float64).reshape(4).tolist()
        if "id" in batch:
            result["id"] = int(batch["id"][i])
        results.append(result)
    return results


def _to_numpy(out) -> np.ndarray | tuple[np.ndarray, ...]:
    if isinstance(out, (tuple, list)):
        return tuple(o.detach().float().cpu().numpy() for o in out)
    return out.detach().float().cpu().numpy()


@torch.inference_mode()
def predict(model: nn.Module, dataset: Samples, *, codec, flip_indices: Sequence[int] | None = None,
            batch_size: int = 32, device: str = "cpu", fuse: bool = True) -> list[dict]:
    """COCO keypoint results (image pixels, official rescoring) for every instance of ``dataset``.

    model: returns (simcc_x, simcc_y) or heatmaps for images (B, 3, H, W); dataset: indexable samples
    with ``image`` (3, H, W) (a uint8 BGR crop, normalised here; or float32, normalised already),
    ``center``, ``box_size``, ``image_id`` (and ``bbox_score``, ``id``); flip_indices: enables the flip
    test. The model is put in eval mode; with ``fuse`` a model with BatchNorm runs as its inference copy
    (:func:`rtmposelib.models.fuse.fuse_for_inference`: folded, channels_last, prepacked on CPU; the
    same outputs up to float rounding).
    """
    from rtmposelib.models.fuse import fuse_for_inference, has_batchnorm
    model.eval().to(device)
    if fuse and has_batchnorm(model):
        model = fuse_for_inference(model)
    results: list[dict] = []
    n_batches = -(-len(dataset) // batch_size)
    # a progress bar on a terminal only (disable=None), never in logs or notebooks' records
    for batch in tqdm(batches(dataset, batch_size), total=n_batches, desc="evaluate", unit="batch",
                      disable=None, leave=False):
        images = normalize_images(batch["image"].to(device))
        outputs = _to_numpy(model(images))
        if flip_indices is not None:
            flipped = _to_numpy(model(images.flip(-1)))
            if isinstance(outputs, tuple):                               # SimCC: (simcc_x, simcc_y)
                assert isinstance(flipped, tuple)
                outputs = flip_test_average(codec, outputs, flipped, flip_indices)
            else:                                                        # heatmaps
                outputs = flip_test_average(codec, (outputs,), (flipped,), flip_indices)[0]
        results.extend(results_from_outputs(outputs, batch, codec=codec))
    return results


def predict_targets(dataset: Samples, *, codec, batch_size: int = 64) -> list[dict]:
    """The same results with each sample's encoded targets in place of model outputs: checks the
    dataset -> codec encode -> decode -> image space -> evaluation path without a model."""
    results: list[dict] = []
    for batch in batches(dataset, batch_size):
        if isinstance(codec, SimCCCodec):
            outputs = (np.asarray(batch["target_x"]), np.asarray(batch["target_y"]))
        else:
            outputs = np.asarray(batch["heatmaps"])
        results.extend(results_from_outputs(outputs, batch, codec=codec))
    return results
