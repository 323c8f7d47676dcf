"""Decode + threshold + NMS on hand-made head outputs, and torch vs ONNX Runtime of the exported file."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from rtmposelib.detect.onnx_export import export_rtmdet_onnx
from rtmposelib.detect.postprocess import RTMDetEndToEnd, predict_single
from rtmposelib.detect.rtmdet import RTMDetConfig, build_rtmdet

STRIDES = (8, 16)


def outputs(logit_cells: dict, dist_cells: dict, sizes=((4, 4), (2, 2)), num_classes=1):
    """Head outputs with logits -10 everywhere except ``logit_cells[(level, y, x, c)]``."""
    cls = [torch.full((1, num_classes, h, w), -10.0) for h, w in sizes]
    reg = [torch.ones(1, 4, h, w) for h, w in sizes]
    for (lvl, y, x, c), v in logit_cells.items():
        cls[lvl][0, c, y, x] = v
    for (lvl, y, x), d in dist_cells.items():
        reg[lvl][0, :, y, x] = torch.tensor(d, dtype=torch.float32)
    return tuple(cls), tuple(reg)


def test_decode_threshold_and_nms_by_hand():
    # A: level 0 cell (1, 2) -> point (16, 8), dists (4, 2, 6, 10) -> box (12, 6, 22, 18), score sigmoid(2)
    # B: level 0 cell (1, 3) -> point (24, 8), a box overlapping A by IoU > 0.6, lower score -> suppressed
    # C: level 1 cell (1, 1) -> point (16, 16), far box, score sigmoid(0)
    # D: below the score threshold
    cls, reg = outputs({(0, 1, 2, 0): 2.0, (0, 1, 3, 0): 1.0, (1, 1, 1, 0): 0.0, (1, 0, 0, 0): -4.0},
                       {(0, 1, 2): (4, 2, 6, 10), (0, 1, 3): (11, 2, 1, 10), (1, 1, 1): (0, 0, 14, 14)})
    dets, labels = predict_single(cls, reg, STRIDES, image_size=(32, 32))
    expected = torch.tensor([[12, 6, 22, 18, torch.sigmoid(torch.tensor(2.0))],
                             [16, 16, 30, 30, 0.5]])
    torch.testing.assert_close(dets, expected)
    assert labels.dtype == torch.int64 and labels.tolist() == [0, 0]
    # without NMS (IoU threshold 1) B is kept: IoU(A, B) = 100 / 140 (0.71)
    dets, _ = predict_single(cls, reg, STRIDES, image_size=(32, 32), iou_thr=1.0)
    assert len(dets) == 3
    # max_per_img keeps the best
    dets, _ = predict_single(cls, reg, STRIDES, image_size=(32, 32), max_per_img=1)
    assert len(dets) == 1 and dets[0, 4] == pytest.approx(0.8808, abs=1e-4)


def test_boxes_are_clipped_and_nms_is_per_class():
    cls, reg = outputs({(0, 0, 0, 0): 3.0, (0, 0, 0, 1): 2.0}, {(0, 0, 0): (5, 5, 50, 50)}, num_classes=2)
    dets, labels = predict_single(cls, reg, STRIDES, image_size=(32, 24))
    torch.testing.assert_close(dets[:, :4], torch.tensor([[0.0, 0, 32, 24], [0.0, 0, 32, 24]]))
    assert labels.tolist() == [0, 1]                 # same box, two classes: both kept


def test_no_detection_gives_empty_outputs():
    cls, reg = outputs({}, {})
    dets, labels = predict_single(cls, reg, STRIDES, image_size=(32, 32))
    assert dets.shape == (0, 5) and labels.shape == (0,)


@pytest.fixture(scope="module")
def lively_nano():
    """RTMDet-nano with random but lively weights: distinct scores and boxes everywhere."""
    torch.manual_seed(0)
    model = build_rtmdet(RTMDetConfig())
    for m in model.bbox_head.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.normal_(m.weight, 0, 0.1)
    for conv in list(model.bbox_head.rtm_cls) + list(model.bbox_head.rtm_reg):
        torch.nn.init.normal_(conv.weight, 0, 0.05)
        torch.nn.init.constant_(conv.bias, -1.0 if conv in model.bbox_head.rtm_cls else 1.0)
    with torch.no_grad():                           # BatchNorm statistics of real activations
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.momentum = None                   # cumulative average
        model.train()(torch.randn(2, 3, 320, 320, generator=torch.Generator().manual_seed(2)))
    return model.eval()


def test_onnx_end_to_end_equals_torch(lively_nano, tmp_path):
    path = export_rtmdet_onnx(lively_nano, tmp_path / "rtmdet.onnx")
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["input"]
    assert [o.name for o in graph.output] == ["dets", "labels"]
    assert [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim] == [1, 3, 320, 320]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    image = torch.randn(1, 3, 320, 320, generator=torch.Generator().manual_seed(1))
    dets, labels = session.run(None, {"input": image.numpy()})
    with torch.no_grad():
        ref_dets, ref_labels = RTMDetEndToEnd(lively_nano)(image)
    assert dets.shape[0] == 1 and dets.shape[2] == 5 and labels.dtype == np.int64
    assert dets.shape[1] == 100 and dets.shape == tuple(ref_dets.shape)
    assert len(np.unique(dets[0, :, 4])) == 100                  # no ties: the order is well defined
    # float32 summation order differs between the runtimes (these weights are large on purpose), so two
    # near-equal scores may swap places: pair every ONNX detection with the nearest torch one
    ref = ref_dets[0].numpy()
    pair = np.abs(dets[0][:, None, :4] - ref[None, :, :4]).max(-1).argmin(1)
    assert sorted(pair) == list(range(len(ref)))                  # one to one
    np.testing.assert_allclose(dets[0, :, :4], ref[pair, :4], atol=0.05, rtol=0)
    np.testing.assert_allclose(dets[0, :, 4], ref[pair, 4], atol=5e-4, rtol=0)
    assert (pair == np.arange(len(ref))).mean() > 0.9             # and mostly in the same order
    np.testing.assert_array_equal(labels, ref_labels.numpy())


def test_export_rejects_sizes_the_strides_do_not_divide(lively_nano, tmp_path):
    with pytest.raises(ValueError, match="multiples of 32"):
        export_rtmdet_onnx(lively_nano, tmp_path / "x.onnx", input_size=(320, 300))


def test_end_to_end_module_wants_one_image(lively_nano):
    with pytest.raises(ValueError, match=r"one image \(1, 3, H, W\)"):
        RTMDetEndToEnd(lively_nano)(torch.zeros(2, 3, 64, 64))
