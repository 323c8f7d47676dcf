"""CrowdPose AP(E/M/H) by crowdIndex and the use_area=False OKS scale (xtcocotools semantics)."""
from __future__ import annotations

import numpy as np
import pytest

from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.eval.coco_eval import coco_keypoint_eval, load_coco
from rtmposelib.eval.crowdpose import crowd_splits

SIGMAS = get_metainfo("crowdpose").sigmas


def _person(i, image_id, x0):
    kp = np.zeros((14, 3))
    kp[:, 0] = x0 + 10 * np.arange(14)
    kp[:, 1] = 50 + 5 * np.arange(14)
    kp[:, 2] = 2
    return {"id": i, "image_id": image_id, "category_id": 1, "iscrowd": 0, "num_keypoints": 14,
            "bbox": [x0 - 5, 40, 150, 90], "keypoints": kp.reshape(-1).tolist()}


def _gt(crowd_indices):
    images = [{"id": i + 1, "file_name": f"{i}.jpg", "width": 400, "height": 300, "crowdIndex": c}
              for i, c in enumerate(crowd_indices)]
    anns = [_person(i + 1, i + 1, 20.0) for i in range(len(crowd_indices))]
    return {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "person"}]}


def _result(ann, shift=0.0, score=0.9):
    kp = np.asarray(ann["keypoints"], np.float64).reshape(-1, 3).copy()
    kp[:, 0] += shift
    return {"image_id": ann["image_id"], "keypoints": kp.reshape(-1).tolist(), "score": score}


def test_splits_follow_the_crowd_index_thresholds():
    coco = load_coco(_gt([0.0, 0.19, 0.2, 0.79, 0.8, 1.0]), use_area=False)
    assert crowd_splits(coco) == {"E": [1, 2], "M": [3, 4], "H": [5, 6]}
    gt = _gt([0.5])
    del gt["images"][0]["crowdIndex"]
    with pytest.raises(ValueError, match="image 1 .* has no 'crowdIndex'"):
        crowd_splits(load_coco(gt, use_area=False))


def test_ap_by_crowdedness():
    gt = _gt([0.1, 0.5, 0.9])
    # exact on the easy and hard images, 40 px off (OKS ~ 0) on the medium one
    results = [_result(gt["annotations"][0]), _result(gt["annotations"][1], 40.0, score=0.5),
               _result(gt["annotations"][2])]
    m = coco_keypoint_eval(gt, results, sigmas=SIGMAS, use_area=False, crowd_index=True)
    assert m["AP(E)"] == pytest.approx(1.0) and m["AP(H)"] == pytest.approx(1.0)
    assert m["AP(M)"] == pytest.approx(0.0)
    assert m["AP"] == pytest.approx(67 / 101)          # precision 1 up to recall 2/3 (101 recall points)
    m = coco_keypoint_eval(_gt([0.1]), results[:1], sigmas=SIGMAS, use_area=False, crowd_index=True)
    assert m["AP(E)"] == pytest.approx(1.0) and np.isnan(m["AP(M)"]) and np.isnan(m["AP(H)"])


def test_use_area_false_scales_oks_by_the_box():
    gt = _gt([0.1])
    coco = load_coco(gt, use_area=False)
    assert coco.anns[1]["area"] == pytest.approx(150 * 90 * 0.53)
    assert "area" not in gt["annotations"][0]                                 # the caller's dict is untouched
    with pytest.raises(ValueError, match=r"1 annotations have no 'area' \(e.g. id 1\); evaluate with use_area=False"):
        load_coco(gt)
    # OKS of a 14 px shift on every joint, by hand, with the area bbox w x h x 0.53: 0.587
    oks = np.mean(np.exp(-14.0 ** 2 / (2 * 150 * 90 * 0.53 * (2 * SIGMAS) ** 2)))
    assert oks == pytest.approx(0.587, abs=1e-3)
    m = coco_keypoint_eval(gt, [_result(gt["annotations"][0], 14.0)], sigmas=SIGMAS, use_area=False)
    assert m["AP50"] == pytest.approx(1.0) and m["AP75"] == pytest.approx(0.0)
    assert m["AP"] == pytest.approx(0.2)                                     # hits at OKS 0.50 and 0.55 of 10
    gt["annotations"][0]["area"] = 150 * 90 * 4.0              # annotated area (OKS 0.93), used by default
    assert coco_keypoint_eval(gt, [_result(gt["annotations"][0], 14.0)], sigmas=SIGMAS)["AP75"] == pytest.approx(1.0)
