"""ONNX Runtime runner: torch-vs-ORT parity on SynthPose crops, dynamic batch, the numpy pipeline."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from rtmposelib.codecs.image_space import crop_to_image
from rtmposelib.codecs.simcc import SimCCCodec
from rtmposelib.config import preset, simcc_sigma
from rtmposelib.data.preprocess import MEAN, STD, crop_box, normalize, normalize_crop, preprocess_boxes
from rtmposelib.data.synthetic import make_synthpose
from rtmposelib.export.onnx import export_onnx
from rtmposelib.export.ort_runner import OrtPoseRunner, parity
from rtmposelib.models.pose_model import build_model

SIZE = (192, 256)                                   # (w, h)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """RTMPose-t (seeded random weights), its ONNX file, one with the decode in the graph, a static one.

    The classifiers are scaled so the logits spread like a trained model's (std ~0.7 instead of ~0.01),
    which makes the absolute-error and argmax checks meaningful.
    """
    torch.manual_seed(0)
    model = build_model(preset("rtmpose-t").model).eval()
    with torch.no_grad():
        model.head.cls_x.weight.mul_(50.0)
        model.head.cls_y.weight.mul_(50.0)
    out = tmp_path_factory.mktemp("onnx")
    return (model, export_onnx(model, out / "t.onnx", input_size=SIZE),
            export_onnx(model, out / "t_dec.onnx", input_size=SIZE, with_decode=True),
            export_onnx(model, out / "t_static.onnx", input_size=SIZE, dynamic_batch=False))


@pytest.fixture(scope="module")
def synth_scene():
    """One SynthPose val image (BGR) with its ground-truth person boxes as xyxy."""
    root = make_synthpose("smoke")
    coco = json.loads((root / "annotations/person_keypoints_val2017.json").read_text())
    by_image = {}
    for ann in coco["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann["bbox"])
    image_id, boxes = max(by_image.items(), key=lambda kv: len(kv[1]))
    info = next(i for i in coco["images"] if i["id"] == image_id)
    image = cv2.imread(str(root / "val2017" / info["file_name"]))
    assert image is not None
    xywh = np.asarray(boxes, np.float32)
    return image, np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], 1)


def test_parity_on_synthpose_crops(tiny, synth_scene):
    """Acceptance: max keypoint difference < 0.5 px (one bin), identical argmax on >= 99 %."""
    model, path, path_dec, _ = tiny
    image, boxes = synth_scene
    crops, _, _ = preprocess_boxes(image, boxes, input_size=SIZE)
    assert len(crops) >= 2
    for p in (path, path_dec):
        report = parity(model, p, crops)
        assert report["max_kpt_px"] < 0.5, report
        assert report["argmax_agree"] >= 0.99, report
        assert report["max_abs_logit"] < 1e-3, report


def test_dynamic_batch_one_and_three(tiny, synth_scene):
    model, path, _, static = tiny
    image, boxes = synth_scene
    crops, _, _ = preprocess_boxes(image, np.resize(boxes, (3, 4)), input_size=SIZE)
    with torch.no_grad():
        tx, ty = model(torch.from_numpy(crops))
    for p in (path, static):                        # the static file is run one crop at a time
        runner = OrtPoseRunner(p, input_size=SIZE)
        assert runner.dynamic_batch == (p == path)
        one = runner.run(crops[:1])
        three = runner.run(crops)
        assert one["simcc_x"].shape == (1, 17, 384) and one["simcc_y"].shape == (1, 17, 512)
        assert three["simcc_x"].shape == (3, 17, 384) and three["simcc_y"].shape == (3, 17, 512)
        np.testing.assert_allclose(three["simcc_x"], tx.numpy(), atol=1e-4)
        np.testing.assert_allclose(three["simcc_y"], ty.numpy(), atol=1e-4)
        np.testing.assert_allclose(three["simcc_x"][:1], one["simcc_x"], atol=1e-5)


def test_runner_matches_reference_pipeline(tiny, synth_scene):
    """Runner (numpy pre/post + ORT) == C's val-time crop_box + torch model + B's codec + mapping."""
    model, path, path_dec, _ = tiny
    image, boxes = synth_scene
    codec = SimCCCodec(input_size=SIZE, sigma=simcc_sigma(SIZE))
    ref_k, ref_s = [], []
    for x0, y0, x1, y1 in boxes:
        inp, center, box_size, _ = crop_box(image, [x0, y0, x1 - x0, y1 - y0], SIZE)
        with torch.no_grad():
            sx, sy = model(torch.from_numpy(inp)[None])
        k, s = codec.decode(sx.numpy(), sy.numpy())
        ref_k.append(crop_to_image(k, center[None], box_size[None], SIZE)[0])
        ref_s.append(s[0])
    for p in (path, path_dec):                      # numpy decode and decode-in-graph agree
        kpts, scores = OrtPoseRunner(p, input_size=SIZE)(image, boxes)
        assert kpts.shape == (len(boxes), 17, 2) and scores.shape == (len(boxes), 17)
        np.testing.assert_allclose(kpts, np.stack(ref_k), atol=1e-3)
        np.testing.assert_allclose(scores, np.stack(ref_s), atol=1e-4)


def test_colour_conventions():
    crop = np.random.default_rng(0).integers(0, 256, (8, 6, 3), dtype=np.uint8)
    np.testing.assert_array_equal(normalize_crop(crop, bgr_to_rgb=True), normalize(crop))
    # rtmlib / official ORT example: BGR channels with RGB-ordered stats, no swap
    hand = (crop[..., 0].astype(np.float32) - 123.675) / 58.395
    np.testing.assert_allclose(normalize_crop(crop, bgr_to_rgb=False)[0], hand, rtol=1e-6)
    np.testing.assert_allclose(MEAN, [123.675, 116.28, 103.53])
    np.testing.assert_allclose(STD, [58.395, 57.12, 57.375])


def test_errors(tiny, tmp_path, synth_scene):
    _, path, _, _ = tiny
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        OrtPoseRunner(tmp_path / "missing.onnx", input_size=SIZE)
    with pytest.raises(ValueError, match="input_size"):
        OrtPoseRunner(path, input_size=(288, 384))
    runner = OrtPoseRunner(path, input_size=SIZE)
    image, _ = synth_scene
    with pytest.raises(ValueError, match="box 1"):
        runner(image, np.array([[0, 0, 50, 100], [10, 10, 10, 40]]))
    with pytest.raises(ValueError, match="batch must be"):
        runner.run(np.zeros((1, 3, 64, 64), np.float32))
    other = tmp_path / "other.onnx"
    torch.onnx.export(torch.nn.Conv2d(3, 2, 1), (torch.zeros(1, 3, 256, 192),), str(other),
                      dynamo=False, input_names=["input"], output_names=["logits"])
    with pytest.raises(ValueError, match="outputs"):
        OrtPoseRunner(other, input_size=SIZE)
    kpts, scores = runner(image, np.zeros((0, 4)))
    assert len(kpts) == 0 and len(scores) == 0
