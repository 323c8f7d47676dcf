"""One model on every real sample set: the paper's Tables 8 and 9 datasets (and COCO) at sample scale.

A root laid out like the project's shared sample folder (``coco/test_coco.json``,
``crowdpose/test_crowdpose.json``, ``ap10k/test_ap10k.json``, ``aic/test_aic.json``,
``mpii/test_mpii.json``, images beside each json) is evaluated set by set with each set's official
protocol (:func:`rtmposelib.eval.evaluate.protocol_for`): COCO-style AP for COCO, CrowdPose (plus
AP(E/M/H)), AP-10K and AIC, PCKh@0.5 for MPII; COCO also with the detector boxes of
``coco/test_coco_det_AP_H_56.json`` (the paper's headline protocol; docs/official-behaviour.md "Model zoo").

A model predicts one keypoint set (``keypoints``, COCO's 17 by default), so per set the predictor is:

- ``model`` when the set has the model's keypoints;
- ``model (gt aic->coco)`` / ``model (gt crowdpose->coco)`` when a mapping to the model's keypoints
  exists: the set's ground truth is mapped (as MMPose's ``KeypointConverter``; unmapped keypoints
  become unlabelled) and scored with the model keypoint set's sigmas on the shared joints, the set's
  own protocol kept (``use_area``, CrowdPose's AP(E/M/H));
- ``oracle`` otherwise (MPII's 16 joints, AP-10K's animals): the dataset's own encoded targets
  replace the model outputs (:func:`rtmposelib.eval.predict.predict_targets`), proving that the set
  loads and evaluates end to end, not measuring the model.

Values are in percent, as the paper's tables.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from torch import nn

from rtmposelib.codecs import SimCCCodec
from rtmposelib.config import simcc_sigma
from rtmposelib.data.coco import TopdownCocoDataset, load_json
from rtmposelib.data.combined import AIC_TO_COCO, KeypointMapping
from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.data.mpii import TopdownMpiiDataset
from rtmposelib.eval.evaluate import protocol_for, score_results
from rtmposelib.eval.predict import predict, predict_targets

# CrowdPose's first 12 keypoints (shoulders ... ankles) are COCO's 5..16; head top and neck have no
# COCO counterpart.
CROWDPOSE_TO_COCO = KeypointMapping("crowdpose->coco", 14, 17, tuple((i, i + 5) for i in range(12)))
MAPPINGS = {("aic", "coco"): AIC_TO_COCO, ("crowdpose", "coco"): CROWDPOSE_TO_COCO}

# (row name, annotation json, metainfo name, detection-results json or None), relative to the root
SAMPLE_SETS = (
    ("coco", "coco/test_coco.json", "coco", None),
    ("coco (detector boxes)", "coco/test_coco.json", "coco", "coco/test_coco_det_AP_H_56.json"),
    ("crowdpose", "crowdpose/test_crowdpose.json", "crowdpose", None),
    ("ap10k", "ap10k/test_ap10k.json", "ap10k", None),
    ("aic", "aic/test_aic.json", "aic", None),
    ("mpii", "mpii/test_mpii.json", "mpii", None),
)
COLUMNS = ["dataset", "ann_file", "boxes", "predictor", "metric", "value", "num_instances", "details",
           "skipped", "reason"]


def map_ground_truth(ann_file: str | Path, mapping: KeypointMapping, keypoint_names) -> dict:
    """A COCO-format ground-truth dict with every annotation's keypoints moved by ``mapping``
    (unmapped target keypoints unlabelled, v = 0) and the category's names set to ``keypoint_names``."""
    data = load_json(ann_file)
    annotations = []
    for ann in data["annotations"]:
        raw = np.asarray(ann.get("keypoints", []), np.float64)
        if raw.size != 3 * mapping.num_source_keypoints:
            annotations.append(ann)            # left to the dataset's own checks / filtering
            continue
        raw = raw.reshape(-1, 3)
        out = np.zeros((mapping.num_target_keypoints, 3))
        for src, dst in mapping.pairs:
            out[dst] = raw[src]
        annotations.append(dict(ann, keypoints=out.reshape(-1).tolist(),
                                num_keypoints=int(np.count_nonzero(out[:, 2] > 0))))
    categories = [dict(c, keypoints=list(keypoint_names), skeleton=[]) for c in data["categories"]]
    return dict(data, annotations=annotations, categories=categories)


def _row(name: str, ann: str, boxes: str, **kw) -> dict:
    row = dict.fromkeys(COLUMNS)
    row.update(dataset=name, ann_file=ann, boxes=boxes, details="", skipped="", reason="")
    row.update(kw)
    return row


def evaluate_on_samples(model: nn.Module, *, root: str | Path, input_size: tuple[int, int] = (192, 256),
                        flip_test: bool = True, keypoints: str = "coco", codec=None, batch_size: int = 16,
                        device: str = "cpu") -> pd.DataFrame:
    """One row per sample set under ``root`` (see :data:`SAMPLE_SETS`), in percent.

    model: a top-down pose model for ``keypoints`` (a metainfo name) at ``input_size`` (w, h);
    codec: its codec (default: SimCC with the paper's sigmas for ``input_size``). Columns: dataset,
    ann_file, boxes ("ground truth" | "detector"), predictor ("model" | "model (gt <a>-><b>)" |
    "oracle"), metric ("AP" | "PCKh"), value (percent), num_instances, details (the other numbers:
    AP50, AP75, AR, AP(E/M/H), the PCKh groups, head-size source), skipped (the dataset's counted
    skips) and reason (why a set was not evaluated: its files are missing).
    """
    root = Path(root)
    codec = codec or SimCCCodec(input_size=input_size, sigma=simcc_sigma(input_size))
    rows = []
    for name, ann_rel, set_name, det_rel in SAMPLE_SETS:
        boxes = "detector" if det_rel else "ground truth"
        missing = [rel for rel in (ann_rel, det_rel) if rel and not (root / rel).is_file()]
        if missing:
            rows.append(_row(name, ann_rel, boxes, reason=f"not present under the root: {', '.join(missing)}"))
            continue
        rows.append(_evaluate_set(model, root, name, ann_rel, set_name, det_rel, codec=codec,
                                  input_size=input_size, flip_test=flip_test, keypoints=keypoints,
                                  batch_size=batch_size, device=device))
    return pd.DataFrame(rows, columns=COLUMNS)


def _evaluate_set(model, root: Path, name: str, ann_rel: str, set_name: str, det_rel: str | None, *, codec,
                  input_size, flip_test: bool, keypoints: str, batch_size: int, device: str) -> dict:
    ann_file, image_dir = root / ann_rel, (root / ann_rel).parent
    mapping = MAPPINGS.get((set_name, keypoints))
    common = dict(ann_file=ann_file, image_dir=image_dir, codec=codec, input_size=input_size)
    ground_truth, protocol = None, None
    if set_name == "mpii":
        dataset = TopdownMpiiDataset(metainfo=get_metainfo("mpii"), **common)
    elif mapping is not None:
        target = get_metainfo(keypoints)
        dataset = TopdownCocoDataset(metainfo=target, keypoint_mapping=mapping, **common)
        ground_truth = map_ground_truth(ann_file, mapping, target.keypoint_names)
        protocol = protocol_for(set_name)                        # the set's rules (use_area, crowdIndex)
    else:
        dataset = TopdownCocoDataset(metainfo=get_metainfo(set_name), bbox_file=root / det_rel if det_rel else None,
                                     **common)
    if set_name == keypoints or mapping is not None:
        predictor = "model" if mapping is None else f"model (gt {mapping.name})"
        flip = dataset.metainfo.flip_indices if flip_test else None
        was_training = model.training
        try:
            results = predict(model, dataset, codec=codec, flip_indices=flip, batch_size=batch_size, device=device)
        finally:
            model.train(was_training)
    else:
        predictor = "oracle"
        results = predict_targets(dataset, codec=codec, batch_size=batch_size)
    metrics = score_results(dataset, results, ground_truth=ground_truth, protocol=protocol)
    headline = metrics["metric"]
    scale = 100.0 if headline == "AP" else 1.0                   # COCO stats are fractions, PCKh percent
    details = {k: round(float(v) * scale, 2) for k, v in metrics.items()
               if k != headline and isinstance(v, float) and k in _DETAIL_KEYS}
    if "head_size_source" in metrics:
        details["head_size_source"] = metrics["head_size_source"]
    return _row(name, ann_rel, "detector" if det_rel else "ground truth", predictor=predictor, metric=headline,
                value=float(metrics[headline]) * scale, num_instances=len(dataset),
                details=json.dumps(details), skipped=json.dumps(dict(dataset.skipped)))


_DETAIL_KEYS = ("AP50", "AP75", "AR", "AP(E)", "AP(M)", "AP(H)", "Head", "Shoulder", "Elbow", "Wrist", "Hip",
                "Knee", "Ankle", "PCKh@0.1")
