"""COCO keypoint evaluation: ground truth scores AP 1.0, parity with raw pycocotools, NMS, edge cases."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.eval.coco_eval import STAT_NAMES, coco_keypoint_eval

SIGMAS = get_metainfo("coco").sigmas


def gt_results(ann: dict) -> list[dict]:
    return [{"image_id": a["image_id"], "keypoints": a["keypoints"], "score": 1.0,
             "area": a["bbox"][2] * a["bbox"][3] * 1.5625}
            for a in ann["annotations"] if a["num_keypoints"] > 0 and not a["iscrowd"]]


def jitter(results: list[dict], seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for r in results:
        k = np.asarray(r["keypoints"], np.float64).reshape(-1, 3).copy()
        k[:, :2] += rng.normal(scale=6.0, size=(len(k), 2))
        k[:, 2] = rng.uniform(size=len(k))
        out.append({**r, "keypoints": k.reshape(-1).tolist(), "score": float(rng.uniform(0.3, 1))})
    return out


def raw_pycocotools(ann_file, dets) -> list[float]:
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(ann_file))
        dt = gt.loadRes([{"image_id": d["image_id"], "category_id": 1, "keypoints": d["keypoints"],
                          "score": d["score"]} for d in dets])
        ev = COCOeval(gt, dt, "keypoints")
        ev.params.kpt_oks_sigmas = np.asarray(SIGMAS)
        ev.evaluate(), ev.accumulate(), ev.summarize()
    return list(ev.stats)


def test_ground_truth_scores_one(shared_data):
    ann_file = shared_data / "coco" / "test_coco.json"
    results = gt_results(json.loads(ann_file.read_text()))
    m = coco_keypoint_eval(ann_file, results, sigmas=SIGMAS, per_keypoint=True,
                           keypoint_names=list(get_metainfo("coco").keypoint_names))
    assert m["AP"] == 1.0 and m["AP50"] == 1.0 and m["AP75"] == 1.0 and m["AR"] == 1.0
    assert m["num_results"] == len(results) == 12
    table = m["per_keypoint"]
    assert list(table["keypoint"])[:2] == ["nose", "left_eye"]
    np.testing.assert_allclose(table["mean_similarity"], 1.0)
    assert table["matched"].sum() == sum(a["num_keypoints"] for a in json.loads(ann_file.read_text())["annotations"])


def test_parity_with_raw_pycocotools(shared_data):
    ann_file = shared_data / "coco" / "test_coco.json"
    results = jitter(gt_results(json.loads(ann_file.read_text())), seed=0)
    ours = coco_keypoint_eval(ann_file, results, sigmas=SIGMAS, nms_thr=None)
    ref = raw_pycocotools(ann_file, results)
    np.testing.assert_allclose([ours[n] for n in STAT_NAMES], ref)
    assert 0.2 < ours["AP"] < 1.0
    m = coco_keypoint_eval(ann_file, results, sigmas=SIGMAS, per_keypoint=True)
    assert (m["per_keypoint"]["mean_similarity"] < 1).all()


def test_oks_nms_removes_duplicates(shared_data, tmp_path):
    ann_file = shared_data / "coco" / "test_coco.json"
    base = jitter(gt_results(json.loads(ann_file.read_text())), seed=1)
    # a lower-scored near-copy of every result: a false positive unless NMS removes it
    dups = [{**r, "score": r["score"] * 0.5,
             "keypoints": (np.asarray(r["keypoints"]) + np.tile([0.5, 0.5, 0.0], 17)).tolist()} for r in base]
    clean = coco_keypoint_eval(ann_file, base, sigmas=SIGMAS)
    with_nms = coco_keypoint_eval(ann_file, base + dups, sigmas=SIGMAS, out_file=tmp_path / "r.json")
    without = coco_keypoint_eval(ann_file, base + dups, sigmas=SIGMAS, nms_thr=None)
    assert with_nms["AP"] == clean["AP"] and with_nms["num_results"] == len(base)
    assert without["AP"] < clean["AP"] and without["num_results"] == 2 * len(base)
    assert len(json.loads((tmp_path / "r.json").read_text())) == len(base)


def test_empty_and_bad_results(shared_data):
    ann_file = shared_data / "coco" / "test_coco.json"
    m = coco_keypoint_eval(ann_file, [], sigmas=SIGMAS)
    assert m["AP"] == 0.0 and m["num_results"] == 0
    good = gt_results(json.loads(ann_file.read_text()))[0]
    with pytest.raises(ValueError, match="absent from the annotations"):
        coco_keypoint_eval(ann_file, [{**good, "image_id": 123456789}], sigmas=SIGMAS)
    with pytest.raises(ValueError, match="expected 51"):
        coco_keypoint_eval(ann_file, [{**good, "keypoints": good["keypoints"][:-3]}], sigmas=SIGMAS)
    with pytest.raises(ValueError, match="no 'score'"):
        coco_keypoint_eval(ann_file, [{k: v for k, v in good.items() if k != "score"}], sigmas=SIGMAS)
    with pytest.raises(FileNotFoundError, match="not found"):
        coco_keypoint_eval(ann_file.parent / "missing.json", [], sigmas=SIGMAS)
