"""RTMDet-nano plugged into the video pipeline (``rtmposelib.infer``): exported ONNX file and torch module
give the same boxes through ``RTMDetDetector``, and ``rtmpose demo`` runs end to end on a SynthPose video
with our exported detector. Weights are untrained but set to fire at known places (plumbing test)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rtmposelib.cli import main
from rtmposelib.data.synth_video import synth_video, write_video
from rtmposelib.detect.onnx_export import export_rtmdet_onnx
from rtmposelib.detect.postprocess import RTMDetEndToEnd
from rtmposelib.detect.rtmdet import build_rtmdet_nano
from rtmposelib.infer.detector import RTMDetDetector


@pytest.fixture(scope="module")
def firing_nano():
    """Untrained RTMDet-nano whose stride-32 cells fire (scores ~0.6-1, all distinct) with ~128 x 128
    letterbox-pixel boxes; the other levels are silent."""
    torch.manual_seed(0)
    model = build_rtmdet_nano()
    head = model.bbox_head
    with torch.no_grad():
        for m in head.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.normal_(m.weight, 0, 0.1)
        for level, (cls, reg) in enumerate(zip(head.rtm_cls, head.rtm_reg)):
            torch.nn.init.normal_(reg.weight, 0, 0.01)
            cls.bias.fill_(2.0 if level == 2 else -20.0)
            reg.bias.fill_(2.0)                                    # distances ~2 * 32 = 64 px each side
        for m in model.modules():                                  # BatchNorm statistics of real activations
            if isinstance(m, torch.nn.BatchNorm2d):
                m.momentum = None
        model.train()(torch.randn(2, 3, 320, 320, generator=torch.Generator().manual_seed(2)))
    return model.eval()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames, truth = synth_video(n_frames=4, n_people=2, seed=5)
    return frames, write_video(frames, tmp_path_factory.mktemp("clip") / "clip.mp4", fps=30)


@pytest.fixture(scope="module")
def onnx_file(firing_nano, tmp_path_factory):
    return export_rtmdet_onnx(firing_nano, tmp_path_factory.mktemp("det") / "rtmdet-nano.onnx")


def test_onnx_and_torch_detectors_agree_in_image_pixels(firing_nano, onnx_file, clip):
    frame = clip[0][0]
    a_boxes, a_scores = RTMDetDetector.from_onnx(onnx_file, score_thr=0.3, nms_thr=0.3)(frame)
    b_boxes, b_scores = RTMDetDetector.from_torch(RTMDetEndToEnd(firing_nano), score_thr=0.3, nms_thr=0.3)(frame)
    assert len(a_boxes) > 0 and a_boxes.shape == b_boxes.shape and len(np.unique(a_scores)) == len(a_scores)
    np.testing.assert_allclose(a_boxes, b_boxes, atol=0.05)
    np.testing.assert_allclose(a_scores, b_scores, atol=5e-4)      # float32 order of summation differs
    # boxes are in the 640 x 480 frame: letterbox ratio 0.5 undone and clipped
    assert a_boxes[:, [0, 2]].max() <= 640 and a_boxes[:, [1, 3]].max() <= 480
    assert (a_boxes[:, 2] - a_boxes[:, 0]).max() > 200              # 128 letterbox px = 256 image px


def test_demo_runs_end_to_end_with_our_detector(onnx_file, clip, tmp_path):
    out = tmp_path / "demo"
    code = main(["demo", str(clip[1]), "--pose", "rtmpose-t", "--det", f"onnx:{onnx_file}", "--annotate", "none",
                 "--out", str(out), "--det-thr", "0.5",
                 "--pose-kpt-thr", "-1", "--det-interval", "1"])   # untrained pose scores: keep every pose
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["frames"] == 4 and metrics["detector_runs"] == 4
    results = json.loads((out / "results.json").read_text())
    assert results and {r["image_id"] for r in results} == {0, 1, 2, 3}
    assert all(len(r["keypoints"]) == 17 * 3 for r in results)
