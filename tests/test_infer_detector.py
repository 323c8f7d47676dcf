"""Detectors: GT boxes, COCO results files, the RTMDet letterbox/ONNX convention, torch callables."""
from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from rtmposelib.detect.letterbox import DET_MEAN, DET_STD, letterbox
from rtmposelib.infer.detector import CallableDetector, GroundTruthDetector, ResultsFileDetector, RTMDetDetector

KPTS = {"keypoints": [15, 30, 2] + [0] * 48, "num_keypoints": 1}


@pytest.fixture
def coco_file(tmp_path):
    coco = {
        "images": [{"id": 7, "file_name": "000000000007.jpg", "width": 100, "height": 80},
                   {"id": 9, "file_name": "empty.jpg", "width": 100, "height": 80}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 1, "bbox": [10, 20, 30, 40], "iscrowd": 0, **KPTS},
            {"id": 2, "image_id": 7, "category_id": 1, "bbox": [90, 70, 50, 50], "iscrowd": 0, **KPTS},
            {"id": 3, "image_id": 7, "category_id": 1, "bbox": [0, 0, 50, 50], "iscrowd": 1, **KPTS},
            {"id": 4, "image_id": 7, "category_id": 1, "bbox": [120, 10, 5, 5], "iscrowd": 0, **KPTS},
            {"id": 5, "image_id": 7, "category_id": 1, "bbox": [10, 10, 5, 5], "iscrowd": 0,
             "keypoints": [0] * 51, "num_keypoints": 0},
        ],
        "categories": [{"id": 1, "name": "person"}],
    }
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(coco))
    return path


def test_ground_truth_boxes_clipped_like_mmpose(coco_file):
    det = GroundTruthDetector(coco_file)
    boxes, scores = det(None, key=7)
    # second box clipped to (W - 1, H - 1) = (99, 79); the box right of the image has zero area
    np.testing.assert_allclose(boxes, [[10, 20, 40, 60], [90, 70, 99, 79]])
    np.testing.assert_array_equal(scores, [1, 1])
    assert dict(det.skipped) == {"crowd": 1, "non_positive_box": 1, "no_keypoints": 1}
    assert len(GroundTruthDetector(coco_file, require_keypoints=False)(None, key=7)[0]) == 3
    np.testing.assert_allclose(det(None, key="some/dir/000000000007.jpg")[0], boxes)
    assert det(None, key="empty.jpg")[0].shape == (0, 4)          # an image without people
    with pytest.raises(ValueError, match="no image named 'cat.jpg'"):
        det(None, key="cat.jpg")
    with pytest.raises(ValueError, match="key="):
        det(None)


def test_results_file_threshold_and_category(tmp_path, coco_file):
    results = [{"image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.9},
               {"image_id": 7, "category_id": 1, "bbox": [5, 5, 5, 5], "score": 0.2},
               {"image_id": 7, "category_id": 2, "bbox": [5, 5, 5, 5], "score": 0.99}]
    path = tmp_path / "dets.json"
    path.write_text(json.dumps(results))
    det = ResultsFileDetector(path, score_thr=0.2, ann_file=coco_file)
    boxes, scores = det(None, key="000000000007.jpg")
    np.testing.assert_allclose(boxes, [[1, 2, 4, 6], [5, 5, 10, 10]])
    np.testing.assert_allclose(scores, [0.9, 0.2])
    assert len(ResultsFileDetector(path, score_thr=0.5)(None, key=7)[0]) == 1
    assert len(det(None, key=9)[0]) == 0
    path.write_text(json.dumps([{"image_id": 7, "bbox": [1, 2]}]))
    with pytest.raises(ValueError, match="entry 0"):
        ResultsFileDetector(path)
    with pytest.raises(FileNotFoundError, match="nope.json"):
        ResultsFileDetector(tmp_path / "nope.json")


def test_letterbox_top_left_pad_114_bgr_stats():
    image = np.full((480, 640, 3), (10, 20, 30), np.uint8)
    batch, ratio = letterbox(image, (320, 320))
    assert batch.shape == (1, 3, 320, 320) and ratio == 0.5
    expected_img = (np.array([10, 20, 30]) - np.array(DET_MEAN)) / np.array(DET_STD)
    expected_pad = (114 - np.array(DET_MEAN)) / np.array(DET_STD)
    np.testing.assert_allclose(batch[0, :, 0, 0], expected_img, rtol=1e-5)
    np.testing.assert_allclose(batch[0, :, 239, 319], expected_img, rtol=1e-5)   # last image row
    np.testing.assert_allclose(batch[0, :, 240, 0], expected_pad, rtol=1e-5)     # padding below
    with pytest.raises(ValueError, match="image must be"):
        letterbox(np.zeros((10, 10), np.uint8))


def _constant_detector_onnx(path, dets: np.ndarray, labels: np.ndarray) -> None:
    """A graph with input (1, 3, 320, 320) whose outputs are fixed dets/labels (+0 * mean(input))."""
    zero = helper.make_node("ReduceMean", ["input"], ["m"], keepdims=0)
    scaled = helper.make_node("Mul", ["m", "zero"], ["z"])
    add = helper.make_node("Add", ["dets_const", "z"], ["dets"])
    ident = helper.make_node("Identity", ["labels_const"], ["labels"])
    graph = helper.make_graph(
        [zero, scaled, add, ident], "constdet",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 320, 320])],
        [helper.make_tensor_value_info("dets", TensorProto.FLOAT, list(dets.shape)),
         helper.make_tensor_value_info("labels", TensorProto.INT64, list(labels.shape))],
        initializer=[onnx.numpy_helper.from_array(dets.astype(np.float32), "dets_const"),
                     onnx.numpy_helper.from_array(labels.astype(np.int64), "labels_const"),
                     onnx.numpy_helper.from_array(np.float32(0.0), "zero")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def test_onnx_detector_mmdeploy_end2end_outputs(tmp_path):
    dets = np.array([[[10, 10, 110, 210, 0.9],      # person
                      [12, 12, 112, 212, 0.8],      # duplicate -> NMS
                      [150, 20, 250, 120, 0.95],    # label 1 (not person)
                      [200, 50, 300, 150, 0.2],     # below threshold
                      [300, 100, 400, 200, 0.6]]])  # runs past the image after rescaling: clipped
    labels = np.array([[0, 0, 1, 0, 0]])
    path = tmp_path / "det.onnx"
    _constant_detector_onnx(path, dets, labels)
    det = RTMDetDetector.from_onnx(path, score_thr=0.3, nms_thr=0.3)
    assert det.input_size == (320, 320)
    boxes, scores = det(np.zeros((480, 640, 3), np.uint8))         # ratio 0.5
    np.testing.assert_allclose(boxes, [[20, 20, 220, 420], [600, 200, 640, 400]])
    np.testing.assert_allclose(scores, [0.9, 0.6], rtol=1e-6)
    no_nms = RTMDetDetector.from_onnx(path, score_thr=0.3, nms_thr=None)
    assert len(no_nms(np.zeros((480, 640, 3), np.uint8))[0]) == 3


def test_torch_detector_sees_letterboxed_batch():
    seen = {}

    class Net(torch.nn.Module):
        def forward(self, x):
            seen["x"] = x.clone()
            return torch.tensor([[[0, 0, 32, 64, 0.7]]]), torch.tensor([[0]])

    image = np.random.default_rng(0).integers(0, 255, (100, 200, 3), dtype=np.uint8)
    boxes, scores = RTMDetDetector.from_torch(Net())(image)
    np.testing.assert_allclose(seen["x"].numpy(), letterbox(image)[0])
    np.testing.assert_allclose(boxes, [[0, 0, 20, 40]])            # ratio 320 / 200 = 1.6


def test_callable_detector_accepts_tensors():
    def fn(img):
        return torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11.0]]), torch.tensor([0.9, 0.4])

    boxes, scores = CallableDetector(fn, score_thr=0.5)(np.zeros((20, 20, 3), np.uint8))
    np.testing.assert_allclose(boxes, [[0, 0, 10, 10]])
    assert CallableDetector(fn, nms_thr=0.5)(None)[0].shape == (1, 4)
    bad = CallableDetector(lambda img: (np.zeros((2, 4)), np.zeros(3)))
    with pytest.raises(ValueError, match="2 boxes but 3 scores"):
        bad(None)
