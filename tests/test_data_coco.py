"""Top-down COCO-format datasets: official filtering counts on the real samples, targets, bad input."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from rtmposelib.codecs import SimCCCodec, crop_to_image
from rtmposelib.config import STRONG_AUG
from rtmposelib.data.coco import TopdownCocoDataset
from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.data.mpii import TopdownMpiiDataset

CODEC = SimCCCodec(input_size=(192, 256), sigma=(4.9, 5.66))


def _coco(ann, image_dir, meta="coco", **kw):
    return TopdownCocoDataset(ann_file=ann, image_dir=image_dir, metainfo=get_metainfo(meta), codec=CODEC,
                              input_size=(192, 256), **kw)


# (sample dir, annotation file, metainfo, kept instances, skipped) under the official top-down rules
SAMPLES = [
    ("coco", "test_coco.json", "coco", 12, {"no_keypoints": 2}),
    ("coco", "test_coco_wholebody.json", "coco_wholebody", 12, {"no_keypoints": 2}),
    ("crowdpose", "test_crowdpose.json", "crowdpose", 4, {"no_keypoints": 1}),
    ("aic", "test_aic.json", "aic", 9, {}),
    ("ap10k", "test_ap10k.json", "ap10k", 2, {}),
]


@pytest.mark.parametrize("sub,ann,meta,kept,skipped", SAMPLES, ids=[s[1] for s in SAMPLES])
def test_real_samples_load_with_official_filtering(shared_data, sub, ann, meta, kept, skipped):
    ds = _coco(shared_data / sub / ann, shared_data / sub, meta, augment=STRONG_AUG)
    assert len(ds) == kept and dict(ds.skipped) == skipped
    k = get_metainfo(meta).num_keypoints
    for i in (0, len(ds) - 1):
        item = ds[i]
        assert item["image"].shape == (3, 256, 192) and item["image"].dtype == torch.uint8
        assert item["target_x"].shape == (k, 384) and item["target_y"].shape == (k, 512)
        assert item["keypoints"].shape == (k, 2) and item["visible"].shape == (k,)


def test_detection_boxes_with_score_threshold(shared_data):
    dets = json.loads((shared_data / "coco" / "test_coco_det_AP_H_56.json").read_text())
    ds = _coco(shared_data / "coco" / "test_coco.json", shared_data / "coco",
               bbox_file=shared_data / "coco" / "test_coco_det_AP_H_56.json", det_score_thr=0.3)
    assert len(ds) == sum(d["score"] >= 0.3 for d in dets)
    assert ds.skipped["detection_below_score_thr"] == sum(d["score"] < 0.3 for d in dets)
    item = ds[0]
    assert item["bbox_score"] == pytest.approx(max(d["score"] for d in dets if d["image_id"] == item["image_id"]))
    assert item["weights"].sum() == 0                                   # no keypoints for detector boxes
    # the item carries its detection box (xywh), whose w x h is the result's area in the evaluation
    first = next(d for d in dets if d["score"] >= 0.3 and d["category_id"] == 1)
    np.testing.assert_allclose(item["bbox"], first["bbox"], rtol=1e-6, atol=1e-3)


def test_val_targets_decode_back_to_ground_truth(shared_data):
    ds = _coco(shared_data / "coco" / "test_coco.json", shared_data / "coco")
    for i in range(len(ds)):
        item, inst = ds[i], ds.instances[i]
        kp, _ = CODEC.decode(item["target_x"][None], item["target_y"][None])
        img = crop_to_image(kp, item["center"][None], item["box_size"][None], (192, 256))[0]
        vis = inst.visible > 0
        scale_px = item["box_size"][0] / 192                                  # image px per crop px
        assert np.abs(img[vis] - inst.keypoints[vis]).max() <= 0.25 * scale_px + 1e-3


def test_mpii_reader(shared_data):
    ds = TopdownMpiiDataset(ann_file=shared_data / "mpii" / "test_mpii.json", image_dir=shared_data / "mpii",
                            metainfo=get_metainfo("mpii"), codec=SimCCCodec(input_size=(256, 256), sigma=5.66),
                            input_size=(256, 256))
    assert len(ds) == 5
    rec = json.loads((shared_data / "mpii" / "test_mpii.json").read_text())[1]
    inst = ds.instances[1]
    side = rec["scale"] * 200
    assert inst.box_size.tolist() == pytest.approx([side, side])
    assert inst.center.tolist() == pytest.approx([rec["center"][0] - 1, rec["center"][1] + 15 / 200 * side - 1])
    assert ds[1]["box_size"].tolist() == pytest.approx([1.25 * side] * 2)


# ---- bad input: a tiny COCO root written in tmp_path ----

def _root(tmp_path, anns, *, image_ok=True):
    cv2.imwrite(str(tmp_path / "a.jpg"), np.full((100, 120, 3), 128, np.uint8))
    if not image_ok:
        (tmp_path / "a.jpg").write_bytes(b"not a jpeg")
    kp = [60, 50, 2] * 17
    base = {"image_id": 1, "category_id": 1, "iscrowd": 0, "num_keypoints": 17, "keypoints": kp,
            "bbox": [40, 20, 40, 60], "area": 1000.0}
    data = {"images": [{"id": 1, "file_name": "a.jpg", "width": 120, "height": 100},
                       {"id": 2, "file_name": "gone.jpg", "width": 120, "height": 100}],
            "annotations": [dict(base, id=i + 1, **a) for i, a in enumerate(anns)],
            "categories": [{"id": 1, "name": "person"}]}
    (tmp_path / "ann.json").write_text(json.dumps(data))
    return tmp_path / "ann.json"


def test_filtering_and_counted_skips(tmp_path):
    outside = [60, 50, 2] * 16 + [500, 50, 2]
    ann = _root(tmp_path, [{}, {"iscrowd": 1}, {"num_keypoints": 0}, {"bbox": [40, 20, 0, 60]},
                           {"bbox": [200, 20, 10, 10]}, {"image_id": 2}, {"image_id": 2}, {"keypoints": outside},
                           {"keypoints": [0, 0, 0] * 17, "num_keypoints": 3}])
    ds = _coco(ann, tmp_path)
    assert len(ds) == 2
    assert dict(ds.skipped) == {"crowd": 1, "no_keypoints": 2, "non_positive_box": 2, "missing_image_file": 2,
                                "keypoint_outside_image (made invisible)": 1}
    assert ds.instances[1].visible[16] == 0 and ds.instances[1].visible[:16].all()


def test_bad_input_errors_name_file_and_instance(tmp_path):
    with pytest.raises(ValueError, match=r"annotation id 1 .* has 48 keypoint values, expected 3 x 17"):
        _coco(_root(tmp_path, [{"keypoints": [1, 1, 2] * 16}]), tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [,]}')
    with pytest.raises(ValueError, match=r"bad.json is malformed JSON: .* line 1"):
        _coco(bad, tmp_path)
    with pytest.raises(FileNotFoundError, match="nothing.json does not exist"):
        _coco(tmp_path / "nothing.json", tmp_path)
    with pytest.raises(ValueError, match="no instances left after filtering"):
        _coco(_root(tmp_path, [{"iscrowd": 1}]), tmp_path)
    ds = _coco(_root(tmp_path, [{}], image_ok=False), tmp_path)
    with pytest.raises(ValueError, match=r"a.jpg \(instance id 1, image id 1\) is corrupt"):
        ds[0]


def test_deterministic_items_and_epochs(shared_data):
    ds = _coco(shared_data / "coco" / "test_coco.json", shared_data / "coco", augment=STRONG_AUG, seed=5)
    a, b = ds[3], ds[3]
    assert torch.equal(a["image"], b["image"])
    ds.set_epoch(1)
    assert not torch.equal(a["image"], ds[3]["image"])
    ds.set_augment(None)
    assert ds[3]["box_size"][0] / ds[3]["box_size"][1] == pytest.approx(0.75)
