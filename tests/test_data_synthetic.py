"""SynthPose writer: COCO validity (pycocotools), GT-vs-GT AP = 1, determinism across workers, cache."""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from rtmposelib.data import synthetic
from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.data.synthetic import make_synthpose, noisy_detections, split_sizes


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> Path:
    start = time.perf_counter()
    root = make_synthpose("smoke", root=tmp_path_factory.mktemp("synth") / "smoke")
    assert time.perf_counter() - start < 30              # generous: a smoke set takes ~1-2 s on one core
    return root


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "synthpose.json"}


def test_split_sizes():
    assert split_sizes("smoke") == (48, 16) and split_sizes("cpu") == (3000, 300)
    assert split_sizes(500) == (500, 50) and split_sizes("20") == (20, 16)
    assert split_sizes("400:120") == (400, 120)
    for bad in ("huge", 0, -3, 2.5, True, "400:0", "400:x"):
        with pytest.raises(ValueError, match="SynthPose size"):
            split_sizes(bad)


def test_layout_and_pycocotools_validity(smoke):
    manifest = json.loads((smoke / "synthpose.json").read_text())
    assert manifest["counts"]["train_images"] == 48 and manifest["counts"]["val_images"] == 16
    for split, n in (("train", 48), ("val", 16)):
        coco = COCO(str(smoke / "annotations" / f"person_keypoints_{split}2017.json"))
        assert len(coco.getImgIds()) == n == len(list((smoke / f"{split}2017").glob("*.jpg")))
        cat = coco.loadCats(1)[0]
        meta = get_metainfo("coco")
        assert cat["keypoints"] == list(meta.keypoint_names) and len(cat["skeleton"]) == len(meta.skeleton)
        anns = coco.loadAnns(coco.getAnnIds())
        assert manifest["counts"][f"{split}_people"] == len(anns) >= n
        for a in anns:
            img = coco.imgs[a["image_id"]]
            k = np.asarray(a["keypoints"]).reshape(17, 3)
            assert set(np.unique(k[:, 2])) <= {0, 1, 2} and a["num_keypoints"] == (k[:, 2] > 0).sum()
            assert (k[k[:, 2] == 0, :2] == 0).all() and a["iscrowd"] == 0 and a["area"] > 0
            x, y, w, h = a["bbox"]
            assert x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= img["width"] and y + h <= img["height"]
        v = np.concatenate([np.asarray(a["keypoints"]).reshape(17, 3)[:, 2] for a in anns])
        assert (v == 1).any() and (v == 0).any() and (v == 2).mean() > 0.5   # occlusion and truncation happen


def test_ground_truth_scored_against_itself_gives_ap_1(smoke):
    coco = COCO(str(smoke / "annotations" / "person_keypoints_val2017.json"))
    results = [{"image_id": a["image_id"], "category_id": 1, "keypoints": a["keypoints"], "score": 1.0}
               for a in coco.loadAnns(coco.getAnnIds()) if a["num_keypoints"] > 0]
    ev = COCOeval(coco, coco.loadRes(results), "keypoints")
    ev.params.kpt_oks_sigmas = get_metainfo("coco").sigmas
    ev.evaluate(), ev.accumulate(), ev.summarize()
    assert ev.stats[0] == pytest.approx(1.0) and ev.stats[5] == pytest.approx(1.0)


def test_detection_file_loads_and_scores_follow_quality(smoke):
    coco = COCO(str(smoke / "annotations" / "person_keypoints_val2017.json"))
    dets = coco.loadRes(str(smoke / "annotations" / "person_detection_results_val2017.json"))
    assert len(dets.getAnnIds()) > 0
    # over many images: misses, false positives, and score rising with IoU to the ground truth
    rng = np.random.default_rng(0)
    people = [{"bbox": [100.0, 100.0, 80.0, 200.0], "area": 9000.0,
               "keypoints": np.column_stack([np.ones((17, 2)), np.r_[[2] * 12, [1] * 5]])}]
    ious, scores, counts = [], [], []
    for i in range(400):
        d = noisy_detections(rng, people, i, (640, 480))
        counts.append(len(d))
        for det in d:
            assert 0 < det["score"] <= 1 and det["bbox"][0] + det["bbox"][2] <= 640
            ious.append(synthetic._iou(np.array(det["bbox"]), np.array(people[0]["bbox"])))
            scores.append(det["score"])
    counts = np.array(counts)
    assert (counts == 0).mean() > 0.03 and (counts >= 2).mean() > 0.1
    assert np.corrcoef(ious, scores)[0, 1] > 0.6


def test_deterministic_and_independent_of_worker_count(tmp_path):
    a = make_synthpose(1, root=tmp_path / "a", seed=3, workers=0)
    b = make_synthpose(1, root=tmp_path / "b", seed=3, workers=2)
    c = make_synthpose(1, root=tmp_path / "c", seed=4, workers=0)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]       # no temp dirs left


def test_cache_hit_does_not_rewrite_and_default_root(tmp_path, monkeypatch):
    monkeypatch.setenv("RTMPOSELIB_CACHE", str(tmp_path / "cache"))
    root = make_synthpose(2, seed=1)
    assert root.parent == tmp_path / "cache" / "synthpose" and root.name.startswith("n2-s1-")
    stamp = (root / "synthpose.json").stat().st_mtime_ns

    def fail(*args, **kwargs):
        raise AssertionError("the dataset was regenerated")
    monkeypatch.setattr(synthetic, "_write", fail)
    assert make_synthpose(2, seed=1) == root
    assert (root / "synthpose.json").stat().st_mtime_ns == stamp
    with pytest.raises(AssertionError, match="regenerated"):                    # other parameters: new set
        make_synthpose(2, seed=2)


def test_refuses_a_foreign_root(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not a SynthPose dataset"):
        make_synthpose(2, root=tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    def boom(task):
        raise KeyboardInterrupt
    monkeypatch.setattr(synthetic, "_render_image", boom)
    with pytest.raises(KeyboardInterrupt):
        make_synthpose(2, root=tmp_path / "x", workers=0)
    assert list(tmp_path.iterdir()) == []
