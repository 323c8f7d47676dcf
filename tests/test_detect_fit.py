"""Detector training loop and box-AP evaluation on SynthPose smoke (tiny runs: plumbing, not accuracy;
the accuracy number comes from ``rtmpose detector train --data synth:cpu``, see the report)."""
from __future__ import annotations

import json

import pytest
import torch

from rtmposelib.data.synthetic import make_synthpose
from rtmposelib.detect import fit as fit_module
from rtmposelib.detect.det_data import DetectionDataset
from rtmposelib.detect.fit import DetTrainConfig, coco_box_eval, detect_dataset, fit_detector
from rtmposelib.detect.mmdet_checkpoint import load_detector
from rtmposelib.detect.rtmdet import RTMDetConfig

SMALL = RTMDetConfig(widen_factor=0.125, neck_channels=16)


@pytest.fixture(scope="module")
def smoke():
    return make_synthpose("smoke")


def gt_results(ann_file, shift=0.0):
    coco = json.loads(open(ann_file).read())
    return [dict(image_id=a["image_id"], category_id=1, bbox=[a["bbox"][0] + shift, *a["bbox"][1:]], score=1.0)
            for a in coco["annotations"] if not a.get("iscrowd", 0)]


def test_box_eval_of_ground_truth_is_perfect_and_degrades_with_shift(smoke):
    ann = smoke / "annotations/person_keypoints_val2017.json"
    perfect = coco_box_eval(ann, gt_results(ann))
    assert perfect["AP"] == pytest.approx(1.0) and perfect["AP50"] == pytest.approx(1.0)
    shifted = coco_box_eval(ann, gt_results(ann, shift=15.0))
    assert shifted["AP"] < 0.9 and shifted["AP50"] <= perfect["AP50"]
    assert coco_box_eval(ann, [])["AP50"] == 0.0


def test_fit_writes_a_loadable_checkpoint_and_metrics(smoke, tmp_path):
    cfg = DetTrainConfig(epochs=1, batch_size=4, max_iters=2)
    result = fit_detector(ann_file=smoke / "annotations/person_keypoints_train2017.json",
                          image_dir=smoke / "train2017", out_dir=tmp_path,
                          val_ann_file=smoke / "annotations/person_keypoints_val2017.json",
                          val_image_dir=smoke / "val2017", cfg=cfg, model_cfg=SMALL)
    assert list(result.history["iter"]) == [0, 1] and result.history["loss"].notna().all()
    assert result.metrics["iters"] == 2 and 0.0 <= result.metrics["AP50"] <= 1.0
    assert json.loads((tmp_path / "metrics.json").read_text())["iters"] == 2
    model = load_detector(result.checkpoint)
    for key, value in result.ema_model.state_dict().items():
        assert torch.equal(model.state_dict()[key], value)
    # results are COCO boxes in image pixels, inside the image
    val = DetectionDataset(ann_file=smoke / "annotations/person_keypoints_val2017.json", image_dir=smoke / "val2017")
    val.images = val.images[:2]
    for r in detect_dataset(model, val):
        x, y, w, h = r["bbox"]
        assert 0 <= x and 0 <= y and x + w <= 640 + 1e-3 and y + h <= 480 + 1e-3 and 0 < r["score"] <= 1


def test_non_finite_loss_stops_with_the_iteration(smoke, monkeypatch):
    class NanLoss(torch.nn.Module):
        def __init__(self, **kwargs):
            super().__init__()

        def forward(self, outputs, boxes, labels):
            nan = outputs[0][0].sum() * float("nan")
            return dict(loss_cls=nan, loss_bbox=nan, loss=nan)

    monkeypatch.setattr(fit_module, "RTMDetLoss", NanLoss)
    with pytest.raises(ValueError, match="non-finite detector loss at iteration 0"):
        fit_detector(ann_file=smoke / "annotations/person_keypoints_train2017.json", image_dir=smoke / "train2017",
                     cfg=DetTrainConfig(epochs=1, batch_size=2, max_iters=1), model_cfg=SMALL)
