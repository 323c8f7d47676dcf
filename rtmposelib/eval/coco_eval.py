"""COCO keypoint AP / AR through pycocotools, as MMPose ``CocoMetric`` (docs/official-behaviour.md "Evaluation").

Per image, the results are pose-NMSed (greedy OKS-NMS, threshold 0.9, the dataset's sigmas, areas =
the result's ``area``: the padded, aspect-fixed box w*h for top-down results, else the keypoint extent
as MMPose) and then scored by ``COCOeval(iouType="keypoints")`` with the dataset's sigmas. The
instance scores are expected to be rescored already (box score x mean keypoint score above 0.2, see
:mod:`rtmposelib.eval.predict`).

Two steps make pycocotools score as the official evaluator (xtcocotools under MMPose's ``CocoMetric``):

- a result that carries its input ``bbox`` (``[x, y, w, h]``, as MMPose's top-down results do) is
  passed on with it, so ``loadRes`` takes the box's w*h as the result's area -- the area that decides
  whether an unmatched result counts in the medium and large ranges (APm, APl, ARm, ARl); without a
  box, the keypoint extent is the area, as in both libraries;
- after the NMS, results with no keypoint score above 0 are dropped (xtcocotools ignores them,
  pycocotools would keep them) and counted in ``num_dropped_no_positive_score``.

A per-keypoint breakdown (:func:`per_keypoint_breakdown`) reads COCOeval's matches at OKS 0.5 and
reports, for each keypoint, the mean keypoint similarity ``exp(-d^2 / (2 s^2 (2 sigma)^2))`` of the
matched visible ground-truth points and the fraction above 0.5 / 0.75.
"""
from __future__ import annotations

import contextlib
import io
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from rtmposelib.eval.oks_nms import oks_nms

STAT_NAMES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")


def load_coco(ann_file: str | Path | dict, *, use_area: bool = True) -> COCO:
    """A pycocotools COCO from a json path or an already-loaded dict, without printing.

    use_area=False (xtcocotools' ``use_area``, MMPose's CrowdPose and AIC configs): every ground-truth
    ``area`` -- the OKS scale and the area-range filter -- becomes bbox w x h x 0.53, on a copy.
    With use_area=True, a ground truth without ``area`` is a ValueError naming it. A missing ``iscrowd``
    (AIC's json has none) counts as 0.
    """
    label = "annotations" if isinstance(ann_file, dict) else str(ann_file)
    coco = COCO()
    if isinstance(ann_file, dict):
        coco.dataset = ann_file
    else:
        path = Path(ann_file)
        if not path.is_file():
            raise FileNotFoundError(f"COCO annotation file not found: {path}")
        try:
            coco.dataset = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: malformed json ({err})") from None
    for key in ("images", "annotations", "categories"):
        if key not in coco.dataset:
            raise ValueError(f"{label}: no {key!r} list")
    if any("iscrowd" not in a for a in coco.dataset["annotations"]):      # e.g. AIC: none is a crowd
        coco.dataset = dict(coco.dataset, annotations=[
            dict(a, iscrowd=a.get("iscrowd", 0)) for a in coco.dataset["annotations"]])
    if use_area:
        lacking = [a.get("id") for a in coco.dataset["annotations"] if "area" not in a]
        if lacking:
            raise ValueError(f"{label}: {len(lacking)} annotations have no 'area' (e.g. id {lacking[0]}); "
                             "evaluate with use_area=False (area = bbox w x h x 0.53) as MMPose does for "
                             "CrowdPose and AIC")
    else:
        coco.dataset = dict(coco.dataset, annotations=[
            dict(a, area=float(a["bbox"][2]) * float(a["bbox"][3]) * 0.53) for a in coco.dataset["annotations"]])
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def nms_per_image(results: list[dict], sigmas: np.ndarray, thr: float) -> list[dict]:
    """Greedy OKS-NMS of the results of each image (MMPose CocoMetric), keeping the input order."""
    by_image: dict[int, list[int]] = defaultdict(list)
    for i, r in enumerate(results):
        by_image[r["image_id"]].append(i)
    kept: list[int] = []
    for idx in by_image.values():
        kpts = np.array([np.asarray(results[i]["keypoints"], np.float64).reshape(-1, 3) for i in idx])
        scores = np.array([results[i]["score"] for i in idx], np.float64)
        areas = np.array([results[i]["area"] if "area" in results[i] else _extent_area(k)
                          for i, k in zip(idx, kpts)], np.float64)
        kept.extend(idx[j] for j in oks_nms(kpts, scores, areas, sigmas, thr))
    return [results[i] for i in sorted(kept)]


def has_positive_score(result: dict) -> bool:
    """Whether any keypoint score of ``result`` is above 0 (else the official evaluator ignores it)."""
    return bool((np.asarray(result["keypoints"], np.float64).reshape(-1, 3)[:, 2] > 0).any())


def _check_boxes(results: list[dict]) -> bool:
    """True when every result has a valid ``bbox``, False when none has; ValueError otherwise."""
    boxed = [i for i, r in enumerate(results) if "bbox" in r]
    if boxed and len(boxed) != len(results):
        missing = next(i for i, r in enumerate(results) if "bbox" not in r)
        raise ValueError(f"{len(boxed)} of {len(results)} results have a 'bbox' (e.g. result {missing} has none): "
                         "give all of them their input box or none")
    for i in boxed:
        box = np.asarray(results[i]["bbox"], np.float64)
        if box.shape != (4,) or not np.all(np.isfinite(box)) or box[2] < 0 or box[3] < 0:
            raise ValueError(f"result {i} (image {results[i]['image_id']}) has bbox {results[i]['bbox']}, "
                             "expected finite [x, y, w, h] with w, h >= 0")
    return bool(boxed)


def _coco_result(r: dict, with_box: bool) -> dict:
    """The pycocotools result of ``r``: with its box, loadRes takes the box's w*h as the area."""
    det = {"image_id": r["image_id"], "category_id": int(r.get("category_id", 1)),
           "keypoints": [float(v) for v in np.asarray(r["keypoints"], np.float64).reshape(-1)],
           "score": float(r["score"])}
    if with_box:
        det["bbox"] = [float(v) for v in r["bbox"]]
    return det


def _extent_area(kpts: np.ndarray) -> float:
    return float(np.ptp(kpts[:, 0]) * np.ptp(kpts[:, 1]))


def coco_keypoint_eval(ann_file: str | Path | dict, results: list[dict], *, sigmas: np.ndarray,
                       nms_thr: float | None = 0.9, per_keypoint: bool = False,
                       keypoint_names: list[str] | None = None,
                       out_file: str | Path | None = None, use_area: bool = True,
                       crowd_index: bool = False) -> dict:
    """Score keypoint results against a COCO-format annotation file.

    results: dicts with ``image_id``, ``keypoints`` (K*3 flat or (K, 3), image pixels + score),
    ``score`` and optionally ``category_id`` (default 1), ``area`` (pixels^2, for the NMS) and ``bbox``.
    sigmas: (K,) OKS sigmas; nms_thr: OKS-NMS threshold per image, None to skip; per_keypoint: add a
    ``per_keypoint`` DataFrame; out_file: also write the (NMSed) results json there; use_area: see
    :func:`load_coco`; crowd_index: add CrowdPose's ``AP(E)``, ``AP(M)``, ``AP(H)``
    (:mod:`rtmposelib.eval.crowdpose`, needs ``crowdIndex`` on every image).
    Results may carry ``bbox`` (``[x, y, w, h]`` image px, all of them or none): its w*h is then their
    area for the medium / large ranges.
    Returns {"AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"} as floats in [0, 1]
    plus ``num_results`` (scored, after NMS) and ``num_dropped_no_positive_score`` (after NMS, no
    keypoint score above 0: dropped as the official evaluator).
    """
    coco = load_coco(ann_file, use_area=use_area)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    k = len(sigmas)
    for i, r in enumerate(results):
        for key in ("image_id", "keypoints", "score"):
            if key not in r:
                raise ValueError(f"result {i} has no {key!r}")
        if np.asarray(r["keypoints"]).size != 3 * k:
            raise ValueError(f"result {i} (image {r['image_id']}) has {np.asarray(r['keypoints']).size} "
                             f"keypoint values, expected {3 * k} for {k} sigmas")
        if not np.all(np.isfinite(np.asarray(r["keypoints"], np.float64))) or not np.isfinite(r["score"]):
            raise ValueError(f"result {i} (image {r['image_id']}) has non-finite keypoints or score")
    unknown = {r["image_id"] for r in results} - set(coco.getImgIds())
    if unknown:
        raise ValueError(f"results name {len(unknown)} image ids absent from the annotations, "
                         f"e.g. {sorted(unknown)[:5]}")
    with_box = _check_boxes(results)
    if nms_thr is not None:
        results = nms_per_image(results, sigmas, nms_thr)
    positive = [r for r in results if has_positive_score(r)]
    dets = [_coco_result(r, with_box) for r in positive]
    if out_file is not None:
        Path(out_file).write_text(json.dumps(dets))
    metrics: dict = {name: 0.0 for name in STAT_NAMES}
    metrics["num_results"] = len(dets)
    metrics["num_dropped_no_positive_score"] = len(results) - len(positive)
    if not dets:
        if per_keypoint:
            metrics["per_keypoint"] = _empty_breakdown(k, keypoint_names)
        if crowd_index:
            metrics.update({"AP(E)": 0.0, "AP(M)": 0.0, "AP(H)": 0.0})
        return metrics
    with contextlib.redirect_stdout(io.StringIO()):
        coco_dt = coco.loadRes(dets)
        evaluator = COCOeval(coco, coco_dt, "keypoints")
        evaluator.params.kpt_oks_sigmas = sigmas
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    # pycocotools reports -1 where a category / area range has no ground truth
    metrics.update({name: float(v) for name, v in zip(STAT_NAMES, evaluator.stats)})
    if per_keypoint:
        metrics["per_keypoint"] = per_keypoint_breakdown(evaluator, keypoint_names)
    if crowd_index:
        from rtmposelib.eval.crowdpose import crowd_ap
        metrics.update(crowd_ap(coco, coco_dt, sigmas))
    return metrics


def _empty_breakdown(k: int, names: list[str] | None) -> pd.DataFrame:
    return pd.DataFrame({"keypoint": names or [str(i) for i in range(k)], "matched": 0,
                         "mean_similarity": np.nan, "frac_ks50": np.nan, "frac_ks75": np.nan})


def per_keypoint_breakdown(evaluator: COCOeval, keypoint_names: list[str] | None = None) -> pd.DataFrame:
    """Per keypoint, over the detection / ground-truth pairs matched at OKS 0.5 (area range "all"):
    ``matched`` visible GT points, ``mean_similarity`` (mean keypoint similarity), ``frac_ks50`` /
    ``frac_ks75`` (fraction with similarity >= 0.5 / 0.75). Needs ``evaluate()`` to have run."""
    sigmas = np.asarray(evaluator.params.kpt_oks_sigmas, np.float64)
    k = len(sigmas)
    variances = (2 * sigmas) ** 2
    all_range = evaluator.params.areaRng[0]
    sims: list[list[float]] = [[] for _ in range(k)]
    for entry in evaluator.evalImgs:
        if entry is None or entry["aRng"] != all_range:
            continue
        for dt_id, gt_id in zip(entry["dtIds"], entry["dtMatches"][0]):
            if gt_id <= 0:
                continue
            gt = evaluator.cocoGt.anns[int(gt_id)]
            dt = evaluator.cocoDt.anns[int(dt_id)]
            g = np.asarray(gt["keypoints"], np.float64).reshape(-1, 3)
            d = np.asarray(dt["keypoints"], np.float64).reshape(-1, 3)
            e = ((g[:, :2] - d[:, :2]) ** 2).sum(-1) / variances / (gt["area"] + np.spacing(1)) / 2
            for j in np.flatnonzero(g[:, 2] > 0):
                sims[j].append(float(np.exp(-e[j])))
    rows = []
    for j in range(k):
        s = np.asarray(sims[j])
        rows.append({"keypoint": keypoint_names[j] if keypoint_names else str(j), "matched": len(s),
                     "mean_similarity": s.mean() if len(s) else np.nan,
                     "frac_ks50": (s >= 0.5).mean() if len(s) else np.nan,
                     "frac_ks75": (s >= 0.75).mean() if len(s) else np.nan})
    return pd.DataFrame(rows)
