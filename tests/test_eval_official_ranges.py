"""The two places where the official evaluator (xtcocotools under MMPose's CocoMetric) departs from plain
pycocotools, on hand-made predictions whose AP is worked out here from COCO's definition:

- a result's area is its input box's w x h (not its keypoint extent) when it carries the box, and that
  area decides whether an unmatched result counts in the medium / large ranges;
- a result with no keypoint score above 0 is dropped (and counted).
"""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.eval.coco_eval import coco_keypoint_eval

SIGMAS = get_metainfo("coco").sigmas
K = len(SIGMAS)
UNIT = np.stack(np.meshgrid(np.linspace(0, 1, 6), np.linspace(0, 1, 3)), -1).reshape(-1, 2)[:K]  # (17, 2) in [0, 1]


def ap_from_definition(ranked_tp: list[bool], n_gt: int) -> float:
    """COCO AP at one OKS threshold: detections ranked by score (True = true positive, ignored ones
    left out), precision made non-increasing from the right, read at the 101 recalls 0, 0.01, ..., 1."""
    tp = np.cumsum(ranked_tp, dtype=np.float64)
    precision = tp / np.arange(1, len(ranked_tp) + 1)
    recall = tp / n_gt
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = max(precision[i], precision[i + 1])
    points = []
    for r in np.linspace(0, 1, 101):
        hit = np.flatnonzero(recall >= r - 1e-12)
        points.append(precision[hit[0]] if len(hit) else 0.0)
    return float(np.mean(points))


def person(x: float, y: float, w: float, h: float, score: float = 1.0) -> np.ndarray:
    """(17, 3) keypoints spread over the box [x, y, w, h] with one score."""
    k = np.empty((K, 3))
    k[:, :2] = [x, y] + UNIT * [w, h]
    k[:, 2] = score
    return k


def annotations(boxes: list[tuple[int, tuple[float, float, float, float]]]) -> dict:
    """One visible person per (image_id, box); area = box w x h."""
    anns = []
    for i, (image_id, box) in enumerate(boxes):
        k = person(*box)
        k[:, 2] = 2
        anns.append({"id": i + 1, "image_id": image_id, "category_id": 1, "iscrowd": 0, "num_keypoints": K,
                     "bbox": list(box), "area": box[2] * box[3], "keypoints": k.reshape(-1).tolist()})
    return {"images": [{"id": i, "width": 640, "height": 480, "file_name": f"{i}.jpg"}
                       for i in sorted({b[0] for b in boxes})],
            "annotations": anns, "categories": [{"id": 1, "name": "person"}]}


def result(image_id: int, keypoints: np.ndarray, score: float, box=None) -> dict:
    r = {"image_id": image_id, "keypoints": keypoints.reshape(-1).tolist(), "score": score}
    return r if box is None else dict(r, bbox=list(box))


# image 1: a large person A (100 x 120 = 12,000 px^2 > 96^2); image 2: a medium person B (50 x 60 = 3,000)
BOX_A, BOX_B = (20.0, 30.0, 100.0, 120.0), (300.0, 200.0, 50.0, 60.0)
GROUND_TRUTH = annotations([(1, BOX_A), (2, BOX_B)])


def ranges_case(with_box: bool) -> list[dict]:
    """Two exact hits and two far-away misses whose box and keypoint extent fall in different ranges."""
    cases = [
        (1, person(*BOX_A), 0.6, BOX_A),                                     # hit on A, box large
        (2, person(*BOX_B), 0.5, BOX_B),                                     # hit on B, box medium
        (1, person(400, 300, 130, 130), 0.9, (400, 300, 40, 50)),            # miss: extent large, box medium
        (2, person(20, 20, 20, 20), 0.55, (20, 20, 100, 100)),               # miss: extent small, box large
    ]
    return [result(i, k, s, box if with_box else None) for i, k, s, box in cases]


def test_result_area_is_the_box_when_results_carry_it():
    official = coco_keypoint_eval(GROUND_TRUTH, ranges_case(with_box=True), sigmas=SIGMAS)
    # medium range (32^2 .. 96^2): GT B; the hit on A matches an out-of-range GT (ignored); the miss with
    # the 40 x 50 box counts, the one with the 100 x 100 box is out of range -> [miss 0.9, hit 0.5]
    assert official["APm"] == pytest.approx(ap_from_definition([False, True], 1), abs=1e-12)      # 0.5
    # large range: GT A; [hit 0.6, miss 0.55 (box 100 x 100)] -> precision 1 at recall 1
    assert official["APl"] == pytest.approx(ap_from_definition([True, False], 1), abs=1e-12)      # 1.0
    # all areas: [miss 0.9, hit 0.6, miss 0.55, hit 0.5] of 2 GT
    assert official["AP"] == pytest.approx(ap_from_definition([False, True, False, True], 2), abs=1e-12)

    extent = coco_keypoint_eval(GROUND_TRUTH, ranges_case(with_box=False), sigmas=SIGMAS)
    # without boxes the keypoint extent is the area: the 130 x 130 miss is large, the 20 x 20 one small
    assert extent["APm"] == pytest.approx(ap_from_definition([True], 1), abs=1e-12)                # 1.0
    assert extent["APl"] == pytest.approx(ap_from_definition([False, True], 1), abs=1e-12)        # 0.5
    assert extent["AP"] == official["AP"]


def test_results_with_no_positive_keypoint_score_are_dropped_and_counted():
    results = [
        result(1, person(*BOX_A, score=0.8), 0.7),                           # hit on A
        result(2, person(*BOX_B, score=0.0), 0.0),                           # hit on B, no score above 0
        result(1, person(400, 300, 130, 130, score=0.5), 0.3),               # miss
    ]
    results[1]["keypoints"][2] = -0.1                                        # <= 0 counts as no score too
    m = coco_keypoint_eval(GROUND_TRUTH, results, sigmas=SIGMAS)
    assert m["num_dropped_no_positive_score"] == 1 and m["num_results"] == 2
    assert m["AP"] == pytest.approx(ap_from_definition([True, False], 2), abs=1e-12)              # 51/101
    # plain pycocotools keeps the result and scores the hit on B
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = GROUND_TRUTH
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes([dict(r, category_id=1) for r in results]), "keypoints")
        ev.params.kpt_oks_sigmas = SIGMAS
        ev.evaluate(), ev.accumulate(), ev.summarize()
    kept = ap_from_definition([True, False, True], 2)                                              # > 51/101
    assert ev.stats[0] == pytest.approx(kept, abs=1e-12) and kept > m["AP"] + 0.3


def test_results_must_all_carry_a_box_or_none():
    results = ranges_case(with_box=True)
    del results[2]["bbox"]
    with pytest.raises(ValueError, match="have a 'bbox'"):
        coco_keypoint_eval(GROUND_TRUTH, results, sigmas=SIGMAS)
    results = ranges_case(with_box=True)
    results[0]["bbox"] = [0, 0, -1, 5]
    with pytest.raises(ValueError, match="result 0 .* bbox"):
        coco_keypoint_eval(GROUND_TRUTH, results, sigmas=SIGMAS)


def test_predictions_carry_their_input_box(shared_data):
    """Detector boxes on the real COCO sample: each result's bbox is its detection's, unpadded."""
    import json

    from rtmposelib.codecs import SimCCCodec
    from rtmposelib.data.coco import TopdownCocoDataset
    from rtmposelib.eval.predict import predict_targets

    det_file = shared_data / "coco" / "test_coco_det_AP_H_56.json"
    ds = TopdownCocoDataset(ann_file=shared_data / "coco" / "test_coco.json", image_dir=shared_data / "coco",
                            metainfo=get_metainfo("coco"), codec=SimCCCodec(input_size=(192, 256), sigma=(4.9, 5.66)),
                            input_size=(192, 256), bbox_file=det_file, det_score_thr=0.3)
    dets = [d for d in json.loads(det_file.read_text()) if d["score"] >= 0.3 and d["category_id"] == 1]
    results = predict_targets(ds, codec=ds.codec)
    assert len(results) == len(dets)
    np.testing.assert_allclose([r["bbox"] for r in results], [d["bbox"] for d in dets], rtol=1e-6, atol=1e-3)
    # the NMS area stays the padded, aspect-fixed box: larger than the detection's own w x h
    assert all(r["area"] > r["bbox"][2] * r["bbox"][3] for r in results)
