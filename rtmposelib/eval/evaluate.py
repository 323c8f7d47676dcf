"""Evaluate a pose model on a run's validation data: COCO keypoint AP / AR and a per-keypoint breakdown.

The protocol of the official RTMPose configs (fact sheet §6 "Val/test pipeline", "CocoMetric"): the
val dataset of ``cfg`` (ground-truth boxes, or a detection-results file when ``cfg.data.val_bbox_file``
is set), crops without augmentation, flip test as ``cfg.flip_test``, rescoring by box score x mean
keypoint score above 0.2, OKS-NMS at 0.9 per image, pycocotools with the dataset's sigmas.
"""
from __future__ import annotations

from torch import nn

from rtmposelib.codecs import build_codec
from rtmposelib.config import RunConfig
from rtmposelib.eval.coco_eval import coco_keypoint_eval
from rtmposelib.eval.predict import predict


def evaluate(model: nn.Module, cfg: RunConfig, *, split: str = "val", flip_test: bool | None = None,
             device: str = "cpu", batch_size: int = 32, datasets=None) -> dict:
    """Metrics of ``model`` on ``split`` ("val" or "train", the latter without augmentation).

    flip_test: None = ``cfg.flip_test``. datasets: an already-built ``(train, val)`` pair, else built
    with :func:`rtmposelib.data.sources.build_datasets`. Returns the COCO stats (AP, AP50, AP75, APm,
    APl, AR, AR50, AR75, ARm, ARl, floats in [0, 1]), ``num_results``, ``num_instances``,
    ``flip_test``, ``skipped`` (reason -> count, from the dataset) and ``per_keypoint`` (a DataFrame:
    keypoint, matched, mean_similarity, frac_ks50, frac_ks75). The model's train/eval mode is restored.
    """
    if split not in ("val", "train"):
        raise ValueError(f"split must be 'val' or 'train', got {split!r}")
    if datasets is None:
        from rtmposelib.data.sources import build_datasets
        datasets = build_datasets(cfg)
    dataset = datasets[1] if split == "val" else datasets[0]
    if split == "train" and hasattr(dataset, "set_augment"):
        dataset.set_augment(None)
    ann_file = getattr(dataset, "ann_file", None)
    if ann_file is None:
        raise ValueError(f"the {split} dataset ({type(dataset).__name__}) has no single COCO annotation "
                         "file to evaluate against")
    meta = dataset.metainfo
    flip = cfg.flip_test if flip_test is None else flip_test
    codec = build_codec(cfg.codec)
    was_training = model.training
    try:
        results = predict(model, dataset, codec=codec, flip_indices=meta.flip_indices if flip else None,
                          batch_size=batch_size, device=device)
    finally:
        model.train(was_training)
    metrics = coco_keypoint_eval(ann_file, results, sigmas=meta.sigmas, per_keypoint=True,
                                 keypoint_names=list(meta.keypoint_names))
    metrics.update(num_instances=len(dataset), flip_test=bool(flip),
                   skipped=dict(getattr(dataset, "skipped", {})))
    return metrics
