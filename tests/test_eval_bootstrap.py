"""Bootstrap of COCO AP over val images: weights reproduce pycocotools, duplicates equal weight 2."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.eval.bootstrap import bootstrap_ap, match_images, weighted_ap
from rtmposelib.eval.coco_eval import coco_keypoint_eval

SIGMAS = get_metainfo("coco").sigmas


@pytest.fixture(scope="module")
def val_ann():
    from rtmposelib.data.synthetic import make_synthpose

    root = make_synthpose("smoke")
    return json.loads((root / "annotations" / "person_keypoints_val2017.json").read_text())


def _noisy_results(ann: dict, seed: int) -> list[dict]:
    """Jittered ground truth (varying error, so APs are strictly between 0 and 1) plus false positives."""
    rng = np.random.default_rng(seed)
    out = []
    for a in ann["annotations"]:
        if a["num_keypoints"] == 0 or a.get("iscrowd", 0):
            continue
        k = np.asarray(a["keypoints"], np.float64).reshape(-1, 3).copy()
        k[:, :2] += rng.normal(scale=rng.uniform(1, 15), size=(len(k), 2))
        k[:, 2] = rng.uniform(0.3, 1.0, size=len(k))
        area = a["bbox"][2] * a["bbox"][3] * 1.5625
        out.append({"image_id": a["image_id"], "keypoints": k.reshape(-1).tolist(),
                    "score": float(rng.uniform(0.2, 1)), "area": area})
        if rng.uniform() < 0.3:                                        # a false positive elsewhere
            k2 = k.copy()
            k2[:, :2] += 80
            out.append({"image_id": a["image_id"], "keypoints": k2.reshape(-1).tolist(),
                        "score": float(rng.uniform(0, 0.5)), "area": area})
    return out


def test_unit_weights_give_pycocotools_ap(val_ann):
    results = _noisy_results(val_ann, 0)
    k = np.asarray(results[0]["keypoints"]).reshape(-1, 3).copy()
    k[:, 2] = 0.0                                                      # no positive score: dropped by both
    results.append({**results[0], "keypoints": k.reshape(-1).tolist(), "score": 0.99})
    ap = coco_keypoint_eval(val_ann, results, sigmas=SIGMAS)["AP"]
    assert 0.05 < ap < 0.95
    assert weighted_ap(match_images(val_ann, results, sigmas=SIGMAS)) == pytest.approx(ap, abs=1e-12)


def test_weight_two_equals_a_duplicated_image(val_ann):
    results = _noisy_results(val_ann, 1)
    m = match_images(val_ann, results, sigmas=SIGMAS)
    img_ids = sorted(i["id"] for i in val_ann["images"])
    twice = img_ids[3]
    dup = copy.deepcopy(val_ann)
    new_id, next_ann = max(img_ids) + 1, max(a["id"] for a in val_ann["annotations"]) + 1
    dup["images"].append({**next(i for i in val_ann["images"] if i["id"] == twice), "id": new_id})
    for j, a in enumerate(a for a in val_ann["annotations"] if a["image_id"] == twice):
        dup["annotations"].append({**a, "id": next_ann + j, "image_id": new_id})
    dup_results = results + [{**r, "image_id": new_id} for r in results if r["image_id"] == twice]
    weights = np.ones(m.num_images)
    weights[img_ids.index(twice)] = 2
    expected = coco_keypoint_eval(dup, dup_results, sigmas=SIGMAS)["AP"]
    assert weighted_ap(m, weights) == pytest.approx(expected, abs=1e-9)


def test_bootstrap_is_reproducible_and_spread_around_the_ap(val_ann):
    m = match_images(val_ann, _noisy_results(val_ann, 2), sigmas=SIGMAS)
    a, b = bootstrap_ap(m, n=50, seed=0), bootstrap_ap(m, n=50, seed=0)
    np.testing.assert_array_equal(a, b)
    assert a.std() > 0 and abs(a.mean() - weighted_ap(m)) < 3 * a.std()
    with pytest.raises(ValueError, match="weights"):
        weighted_ap(m, np.ones(m.num_images + 1))
    with pytest.raises(ValueError, match="at least 2"):
        bootstrap_ap(m, n=1)


def test_paired_bootstrap_is_smaller_than_the_independent_bound_and_round_trips(val_ann, tmp_path):
    from rtmposelib.eval.bootstrap import load_matches, paired_bootstrap_sd, save_matches

    base = _noisy_results(val_ann, 3)
    better = [{**r, "score": r["score"]} for r in base]                 # the same model, slightly changed
    rng = np.random.default_rng(5)
    for r in better[::3]:
        k = np.asarray(r["keypoints"]).reshape(-1, 3).copy()
        k[:, :2] += rng.normal(scale=3.0, size=(len(k), 2))
        r["keypoints"] = k.reshape(-1).tolist()
    a, b = (match_images(val_ann, x, sigmas=SIGMAS) for x in (better, base))
    paired = paired_bootstrap_sd([(a, b)], n=100)
    independent = np.hypot(bootstrap_ap(a, n=100, seed=1).std(), bootstrap_ap(b, n=100, seed=2).std())
    assert 0 < paired < independent
    path = save_matches(a, tmp_path / "m.npz")
    back = load_matches(path)
    assert weighted_ap(back) == weighted_ap(a)
    with pytest.raises(FileNotFoundError):
        load_matches(tmp_path / "absent.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a val-matches file"):
        load_matches(tmp_path / "bad.npz")
