"""Evaluation noise of COCO keypoint AP: a bootstrap over the val images.

The AP of one model on one val set is itself a sample: another draw of val images would give another
number. Resampling the images with replacement and recomputing AP gives the spread of that number (the
*evaluation* noise), to set beside the spread over training seeds.

The images are matched once, exactly as :func:`rtmposelib.eval.coco_eval.coco_keypoint_eval` scores
them (OKS-NMS, results without a positive keypoint score dropped, then ``COCOeval(iouType="keypoints")``'s
per-image matching). A resample only changes how
often each image counts, so AP is recomputed from the matches with per-image weights, following
``COCOeval.accumulate`` (detections sorted by score once, 101 recall thresholds, precision made
monotone from the right) for area "all" and ``maxDets`` 20. With all weights 1 this is pycocotools' AP.
"""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pycocotools.cocoeval import COCOeval

from rtmposelib.eval.coco_eval import _check_boxes, _coco_result, has_positive_score, load_coco, nms_per_image


@dataclass(frozen=True)
class ImageMatches:
    """Per-detection matches at every OKS threshold, sorted by score (COCOeval's order).

    det_image: (D,) index of each detection's image in ``0..num_images-1``; tp, fp: (T, D) bool at the
    T OKS thresholds (ignored detections are neither); gt_count: (num_images,) ground truths that are
    not ignored; rec_thrs: (R,) recall thresholds.
    """

    det_image: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    gt_count: np.ndarray
    rec_thrs: np.ndarray

    @property
    def num_images(self) -> int:
        return len(self.gt_count)


def match_images(ann_file: str | Path | dict, results: list[dict], *, sigmas: np.ndarray,
                 nms_thr: float | None = 0.9, use_area: bool = True) -> ImageMatches:
    """Match ``results`` (as for :func:`~rtmposelib.eval.coco_eval.coco_keypoint_eval`) to the ground
    truth of ``ann_file``, image by image, at area "all" and the largest ``maxDets``."""
    coco = load_coco(ann_file, use_area=use_area)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    with_box = _check_boxes(results)
    if nms_thr is not None:
        results = nms_per_image(results, sigmas, nms_thr)
    dets = [_coco_result(r, with_box) for r in results if has_positive_score(r)]
    img_ids = sorted(coco.getImgIds())
    num_t = 10
    if not dets:
        return ImageMatches(np.zeros(0, int), np.zeros((num_t, 0), bool), np.zeros((num_t, 0), bool),
                            _gt_counts(coco, img_ids), np.linspace(0.0, 1.0, 101))
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(coco, coco.loadRes(dets), "keypoints")
        evaluator.params.kpt_oks_sigmas = sigmas
        evaluator.evaluate()
    p = evaluator.params
    if len(p.catIds) != 1:
        raise ValueError(f"the bootstrap expects one keypoint category, the annotations have {len(p.catIds)}")
    max_det = p.maxDets[-1]
    position = {img: i for i, img in enumerate(img_ids)}
    scores, det_image, tps, fps = [], [], [], []
    gt_count = np.zeros(len(img_ids), np.int64)
    for i, img in enumerate(p.imgIds):
        e = evaluator.evalImgs[i]                       # category 0, area range 0 ("all")
        if e is None:
            continue
        gt_count[position[img]] = int(np.count_nonzero(np.asarray(e["gtIgnore"]) == 0))
        matched = np.asarray(e["dtMatches"])[:, :max_det] > 0
        ignored = np.asarray(e["dtIgnore"])[:, :max_det].astype(bool)
        scores.append(np.asarray(e["dtScores"][:max_det], np.float64))
        det_image.append(np.full(matched.shape[1], position[img]))
        tps.append(matched & ~ignored)
        fps.append(~matched & ~ignored)
    num_t = len(p.iouThrs)
    if not scores:
        return ImageMatches(np.zeros(0, int), np.zeros((num_t, 0), bool), np.zeros((num_t, 0), bool),
                            gt_count, np.asarray(p.recThrs))
    order = np.argsort(-np.concatenate(scores), kind="mergesort")      # COCOeval's stable order
    return ImageMatches(np.concatenate(det_image)[order], np.concatenate(tps, axis=1)[:, order],
                        np.concatenate(fps, axis=1)[:, order], gt_count, np.asarray(p.recThrs))


def _gt_counts(coco, img_ids: list[int]) -> np.ndarray:
    return np.asarray([sum(1 for a in coco.loadAnns(coco.getAnnIds(imgIds=[i]))
                           if not a.get("iscrowd", 0) and a.get("num_keypoints", 1) > 0) for i in img_ids])


def weighted_ap(m: ImageMatches, weights: np.ndarray | None = None) -> float:
    """COCO AP (fraction; -1 without ground truth) with image ``i`` counted ``weights[i]`` times."""
    w = np.ones(m.num_images) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (m.num_images,):
        raise ValueError(f"weights must have one entry per image ({m.num_images}), got shape {w.shape}")
    npig = float(np.dot(w, m.gt_count))
    if npig == 0:
        return -1.0
    wd = w[m.det_image]
    tp = np.cumsum(m.tp * wd, axis=1)                                  # (T, D)
    fp = np.cumsum(m.fp * wd, axis=1)
    precisions = []
    for t in range(tp.shape[0]):
        keep = (m.tp[t] | m.fp[t]) & (wd > 0)                           # ignored / unsampled: no new point
        rc = tp[t][keep] / npig
        pr = tp[t][keep] / np.maximum(tp[t][keep] + fp[t][keep], np.spacing(1))
        pr = np.maximum.accumulate(pr[::-1])[::-1] if len(pr) else pr  # monotone from the right
        idx = np.searchsorted(rc, m.rec_thrs, side="left")
        q = np.zeros(len(m.rec_thrs))
        valid = idx < len(pr)
        q[valid] = pr[idx[valid]]
        precisions.append(q)
    return float(np.mean(precisions))


def bootstrap_ap(m: ImageMatches, *, n: int = 200, seed: int = 0) -> np.ndarray:
    """``n`` APs (fractions) of val sets drawn from the images with replacement (same size)."""
    if n < 2:
        raise ValueError(f"a bootstrap needs at least 2 resamples, got {n}")
    rng = np.random.default_rng(seed)
    k = m.num_images
    return np.asarray([weighted_ap(m, rng.multinomial(k, np.full(k, 1.0 / k))) for _ in range(n)])


def paired_bootstrap_sd(pairs: list[tuple[ImageMatches, ImageMatches]], *, n: int = 200, seed: int = 0) -> float:
    """Evaluation noise of a mean paired gain: the sd, over ``n`` resamples of the val images, of
    ``mean_s [AP(after_s) - AP(before_s)]`` with every run scored on the *same* resampled images
    (fractions). ``pairs``: (after, before) matches of one seed each, all on one val set."""
    if not pairs:
        raise ValueError("paired_bootstrap_sd needs at least one (after, before) pair")
    k = pairs[0][0].num_images
    if any(m.num_images != k for pair in pairs for m in pair):
        raise ValueError("paired_bootstrap_sd: the runs were evaluated on val sets of different sizes")
    if n < 2:
        raise ValueError(f"a bootstrap needs at least 2 resamples, got {n}")
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(n):
        w = rng.multinomial(k, np.full(k, 1.0 / k))
        gains.append(np.mean([weighted_ap(a, w) - weighted_ap(b, w) for a, b in pairs]))
    return float(np.std(gains, ddof=1))


def save_matches(m: ImageMatches, path: str | Path) -> Path:
    """Write ``m`` as a compressed ``.npz`` (a few kB for a few hundred val people)."""
    path = Path(path)
    np.savez_compressed(path, det_image=m.det_image.astype(np.int32), tp=m.tp, fp=m.fp,
                        gt_count=m.gt_count.astype(np.int32), rec_thrs=m.rec_thrs)
    return path


def load_matches(path: str | Path) -> ImageMatches:
    """Read what :func:`save_matches` wrote; a missing or malformed file is a one-line error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no val matches at {path}")
    try:
        with np.load(path) as f:
            return ImageMatches(f["det_image"], f["tp"].astype(bool), f["fp"].astype(bool), f["gt_count"],
                                f["rec_thrs"])
    except (KeyError, ValueError, OSError) as exc:
        raise ValueError(f"{path}: not a val-matches file ({exc})") from None
