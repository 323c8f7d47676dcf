"""Evaluate a pose model on a run's validation data: the metric of its dataset, with a per-keypoint breakdown.

The protocol of the official RTMPose configs (docs/official-behaviour.md "Evaluation"): the
val dataset of ``cfg`` (ground-truth boxes, or a detection-results file when ``cfg.data.val_bbox_file``
is set), crops without augmentation, flip test as ``cfg.flip_test``, rescoring by box score x mean
keypoint score above 0.2, OKS-NMS at 0.9 per image, pycocotools with the dataset's sigmas, each result
with its input box (whose w x h is its area for APm / APl) and without the results that have no
positive keypoint score (counted as ``num_dropped_no_positive_score``), as the official evaluator.

Per dataset, as MMPose's configs for the paper's Tables 8 and 9:

- COCO, COCO-WholeBody body part, AP-10K: ``CocoMetric`` with the annotated ``area``; AP-10K scores
  each species as its own category (results take their annotation's ``category_id``);
- AIC: ``CocoMetric(use_area=False)`` (no ``area`` in its json: bbox w x h x 0.53);
- CrowdPose: ``CocoMetric(use_area=False, iou_type='keypoints_crowd')``: the same AP with the
  CrowdPose sigmas, plus AP(E) / AP(M) / AP(H) by crowdIndex (:mod:`rtmposelib.eval.crowdpose`);
- MPII: ``MpiiPCKAccuracy`` (PCKh@0.5 and @0.1, Head ... Ankle; :func:`rtmposelib.eval.pckh.dataset_pckh`).
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from rtmposelib.codecs import build_codec
from rtmposelib.config import RunConfig
from rtmposelib.eval.coco_eval import coco_keypoint_eval, load_coco
from rtmposelib.eval.predict import predict


@dataclass(frozen=True)
class Protocol:
    """How one dataset is scored: ``metric`` "coco_ap" | "pckh" and the CocoMetric options."""

    metric: str = "coco_ap"
    use_area: bool = True
    crowd_index: bool = False


def protocol_for(dataset_name: str) -> Protocol:
    """The official evaluation protocol of a metainfo name (coco, aic, crowdpose, mpii, ap10k, ...)."""
    if dataset_name == "mpii":
        return Protocol(metric="pckh")
    if dataset_name == "crowdpose":
        return Protocol(use_area=False, crowd_index=True)
    if dataset_name == "aic":
        return Protocol(use_area=False)
    return Protocol()


def with_annotation_categories(results: list[dict], coco) -> list[dict]:
    """Results of ground-truth boxes take their annotation's ``category_id`` (multi-category sets
    such as AP-10K); others are returned unchanged."""
    if len(coco.getCatIds()) <= 1:
        return results
    return [dict(r, category_id=coco.anns[r["id"]]["category_id"]) if r.get("id") in coco.anns else r
            for r in results]


def score_results(dataset, results: list[dict], *, ground_truth=None, protocol: Protocol | None = None) -> dict:
    """Metrics of ``results`` (from :func:`predict` or :func:`~rtmposelib.eval.predict.predict_targets`)
    against ``dataset``'s ground truth, with its metainfo's protocol (:func:`protocol_for`).

    ground_truth: a COCO json path or dict to score against (default ``dataset.ann_file``; e.g. ground
    truth mapped to the model's keypoints); protocol: None = ``protocol_for(dataset.metainfo.name)``.
    Returns the COCO stats (fractions) and ``per_keypoint``, or for
    MPII the PCKh summary (percent); always ``metric`` (the headline key: "AP" or "PCKh").
    """
    meta = dataset.metainfo
    proto = protocol or protocol_for(meta.name)
    if proto.metric == "pckh":
        from rtmposelib.eval.pckh import dataset_pckh
        if not hasattr(dataset, "head_sizes"):
            raise ValueError(f"{meta.name!r} is scored by PCKh, which needs an MPII-format dataset with head "
                             f"sizes (rtmposelib.data.mpii.TopdownMpiiDataset), got {type(dataset).__name__}")
        return dict(dataset_pckh(dataset, results), metric="PCKh")
    ann = ground_truth if ground_truth is not None else getattr(dataset, "ann_file", None)
    if ann is None:
        raise ValueError(f"the dataset ({type(dataset).__name__}) has no COCO annotation file to evaluate against")
    results = with_annotation_categories(results, load_coco(ann, use_area=proto.use_area))
    metrics = coco_keypoint_eval(ann, results, sigmas=meta.sigmas, per_keypoint=True,
                                 keypoint_names=list(meta.keypoint_names), use_area=proto.use_area,
                                 crowd_index=proto.crowd_index)
    return dict(metrics, metric="AP")


def evaluate(model: nn.Module, cfg: RunConfig, *, split: str = "val", flip_test: bool | None = None,
             device: str = "cpu", batch_size: int = 32, datasets=None) -> dict:
    """Metrics of ``model`` on ``split`` ("val" or "train", the latter without augmentation).

    flip_test: None = ``cfg.flip_test``. datasets: an already-built ``(train, val)`` pair, else built
    with :func:`rtmposelib.data.sources.build_datasets`. Returns :func:`score_results` -- for COCO-style
    sets AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl (floats in [0, 1]; CrowdPose adds AP(E),
    AP(M), AP(H)) and ``per_keypoint`` (keypoint, matched, mean_similarity, frac_ks50, frac_ks75); for
    MPII Head, Shoulder, Elbow, Wrist, Hip, Knee, Ankle, PCKh, PCKh@0.1 (percent), ``head_size_source``
    and ``per_keypoint`` (keypoint, visible, PCKh, PCKh@0.1) -- plus ``num_instances``, ``flip_test``,
    ``skipped`` (reason -> count, from the dataset). The model's train/eval mode is restored.
    """
    if split not in ("val", "train"):
        raise ValueError(f"split must be 'val' or 'train', got {split!r}")
    if datasets is None:
        from rtmposelib.data.sources import build_datasets
        datasets = build_datasets(cfg)
    dataset = datasets[1] if split == "val" else datasets[0]
    if split == "train" and hasattr(dataset, "set_augment"):
        dataset.set_augment(None)
    meta = dataset.metainfo
    flip = cfg.flip_test if flip_test is None else flip_test
    codec = build_codec(cfg.codec)
    was_training = model.training
    try:
        results = predict(model, dataset, codec=codec, flip_indices=meta.flip_indices if flip else None,
                          batch_size=batch_size, device=device)
    finally:
        model.train(was_training)
    metrics = score_results(dataset, results)
    metrics.update(num_instances=len(dataset), flip_test=bool(flip),
                   skipped=dict(getattr(dataset, "skipped", {})))
    return metrics
