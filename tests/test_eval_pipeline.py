"""The whole dataset -> codec encode -> decode -> image space -> COCO evaluation path, with the
encoded targets in place of model outputs (SynthPose val AP >= 0.99)."""
from __future__ import annotations

import pytest

from rtmposelib.codecs import SimCCCodec, UDPHeatmapCodec
from rtmposelib.data.coco import TopdownCocoDataset
from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.data.synthetic import make_synthpose
from rtmposelib.eval.coco_eval import coco_keypoint_eval
from rtmposelib.eval.predict import predict_targets

META = get_metainfo("coco")


def evaluate_targets(ann_file, image_dir, codec) -> dict:
    ds = TopdownCocoDataset(ann_file=ann_file, image_dir=image_dir, metainfo=META, codec=codec,
                            input_size=codec.input_size)
    return coco_keypoint_eval(ann_file, predict_targets(ds, codec=codec), sigmas=META.sigmas)


@pytest.fixture(scope="module")
def synth_root():
    return make_synthpose("smoke")


def test_synthpose_val_targets_score_ap_099(synth_root):
    codec = SimCCCodec(input_size=(192, 256), sigma=(4.9, 5.66))
    m = evaluate_targets(synth_root / "annotations/person_keypoints_val2017.json", synth_root / "val2017", codec)
    assert m["AP"] >= 0.99, m
    assert m["num_results"] > 20


def test_synthpose_val_udp_heatmap_targets(synth_root):
    codec = UDPHeatmapCodec(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)
    m = evaluate_targets(synth_root / "annotations/person_keypoints_val2017.json", synth_root / "val2017", codec)
    assert m["AP"] >= 0.95, m


def test_real_coco_sample_targets(shared_data):
    codec = SimCCCodec(input_size=(192, 256), sigma=(4.9, 5.66))
    m = evaluate_targets(shared_data / "coco/test_coco.json", shared_data / "coco", codec)
    assert m["AP"] >= 0.99, m
