"""ONNX export: official names and shapes, dynamic batch, decode-in-graph == numpy decode."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from rtmposelib.export.onnx import SimCCDecode, export_onnx
from rtmposelib.export.ort_runner import make_session

W, H, K = 64, 96, 5                   # a small (w, h) crop keeps the stand-in models fast


class TinySimCC(nn.Module):
    """Stand-in SimCC model: stride-32 conv -> (B, K, 3*2) tokens -> two linear classifiers (r = 2)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, K, kernel_size=32, stride=32)
        self.fc_x = nn.Linear((W // 32) * (H // 32), W * 2)
        self.fc_y = nn.Linear((W // 32) * (H // 32), H * 2)

    def forward(self, x):
        t = self.conv(x).flatten(2)             # (B, K, h/32 * w/32)
        return self.fc_x(t), self.fc_y(t)


class TinyHeatmap(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, K, kernel_size=4, stride=4)

    def forward(self, x):
        return self.conv(x)                     # (B, K, H/4, W/4)


def _dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def test_simcc_names_shapes_and_dynamic_batch(tmp_path):
    model = TinySimCC()
    path = export_onnx(model, tmp_path / "m.onnx", input_size=(W, H))
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["input"]
    assert [o.name for o in graph.output] == ["simcc_x", "simcc_y"]
    assert _dims(graph.input[0])[1:] == [3, H, W] and isinstance(_dims(graph.input[0])[0], str)
    assert _dims(graph.output[0])[1:] == [K, 2 * W] and _dims(graph.output[1])[1:] == [K, 2 * H]
    session = make_session(path)
    for n in (1, 3):
        x = torch.randn(n, 3, H, W)
        sx, sy = session.run(None, {"input": x.numpy()})
        with torch.no_grad():
            tx, ty = model(x)
        assert sx.shape == (n, K, 2 * W) and sy.shape == (n, K, 2 * H)
        np.testing.assert_allclose(sx, tx.numpy(), atol=1e-4)
        np.testing.assert_allclose(sy, ty.numpy(), atol=1e-4)


def test_static_batch_and_opset(tmp_path):
    path = export_onnx(TinySimCC(), tmp_path / "m.onnx", input_size=(W, H), dynamic_batch=False, opset=11)
    proto = onnx.load(str(path))
    assert _dims(proto.graph.input[0]) == [1, 3, H, W]
    assert {o.domain: o.version for o in proto.opset_import}[""] == 11


def test_simcc_decode_by_hand():
    """Official decode: argmax, min of the maxima, bin -1 (then / r) where the score is <= 0."""
    sx = torch.full((1, 2, 8), -5.0)
    sy = torch.full((1, 2, 6), -5.0)
    sx[0, 0, 3], sy[0, 0, 5] = 2.0, 0.7       # keypoint 0: bins (3, 5), score min(2.0, 0.7)
    sx[0, 1, 6], sy[0, 1, 1] = 1.0, -0.2      # keypoint 1: score -0.2 <= 0 -> bins (-1, -1)
    sx[0, 1, 2] = 1.0                         # a tie in x: the first index wins, as np.argmax
    kpts, scores = SimCCDecode(split_ratio=2.0)(sx, sy)
    np.testing.assert_allclose(kpts.numpy(), [[[1.5, 2.5], [-0.5, -0.5]]])
    np.testing.assert_allclose(scores.numpy(), [[0.7, -0.2]], rtol=1e-6)


def test_decode_in_graph_matches_numpy_decode(tmp_path):
    model = TinySimCC()
    path = export_onnx(model, tmp_path / "d.onnx", input_size=(W, H), with_decode=True)
    graph = onnx.load(str(path)).graph
    assert [o.name for o in graph.output] == ["keypoints", "scores"]
    x = torch.randn(3, 3, H, W)
    kpts, scores = make_session(path).run(None, {"input": x.numpy()})
    assert kpts.shape == (3, K, 2) and scores.shape == (3, K)
    with torch.no_grad():
        sx, sy = (t.numpy() for t in model(x))
    # numpy reference decode, written out from docs/official-behaviour.md "SimCC codec"
    ref_scores = np.minimum(sx.max(-1), sy.max(-1))
    bins = np.stack([sx.argmax(-1), sy.argmax(-1)], -1).astype(np.float32)
    bins[ref_scores <= 0] = -1
    np.testing.assert_allclose(kpts, bins / 2.0)
    np.testing.assert_allclose(scores, ref_scores, atol=1e-4)


def test_decode_in_graph_matches_codec(tmp_path):
    simcc = pytest.importorskip("rtmposelib.codecs.simcc", reason="engineer B's SimCC codec not in yet")
    model = TinySimCC()
    path = export_onnx(model, tmp_path / "d.onnx", input_size=(W, H), with_decode=True)
    x = torch.randn(4, 3, H, W)
    kpts, scores = make_session(path).run(None, {"input": x.numpy()})
    with torch.no_grad():
        sx, sy = (t.numpy() for t in model(x))
    codec = simcc.SimCCCodec(input_size=(W, H), sigma=(2.0, 2.0))
    ref_k, ref_s = codec.decode(sx, sy)
    np.testing.assert_allclose(kpts, ref_k)
    np.testing.assert_allclose(scores, ref_s, atol=1e-4)


def test_heatmap_export(tmp_path):
    path = export_onnx(TinyHeatmap(), tmp_path / "h.onnx", input_size=(W, H))
    graph = onnx.load(str(path)).graph
    assert [o.name for o in graph.output] == ["heatmaps"]
    (hm,) = make_session(path).run(None, {"input": np.zeros((2, 3, H, W), np.float32)})
    assert hm.shape == (2, K, H // 4, W // 4)
    with pytest.raises(ValueError, match="SimCC model"):
        export_onnx(TinyHeatmap(), tmp_path / "h2.onnx", input_size=(W, H), with_decode=True)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="opset"):
        export_onnx(TinySimCC(), tmp_path / "m.onnx", input_size=(W, H), opset=9)
    with pytest.raises(ValueError, match="model output"):
        export_onnx(nn.Flatten(), tmp_path / "m.onnx", input_size=(W, H))


def test_export_keeps_training_mode(tmp_path):
    model = TinySimCC().train()
    export_onnx(model, tmp_path / "m.onnx", input_size=(W, H))
    assert model.training


def test_export_command_with_training_checkpoint(tmp_path, capsys):
    """`rtmpose export` loads our training checkpoint (EMA on request) and writes a parity-checked file."""
    from rtmposelib.cli import main
    from rtmposelib.config import preset
    from rtmposelib.models.pose_model import build_model

    torch.manual_seed(1)
    trained = build_model(preset("rtmpose-t").model)
    ema = {k: v * 0.9 if v.is_floating_point() else v for k, v in trained.state_dict().items()}
    ckpt = tmp_path / "last.pth"
    torch.save({"model": trained.state_dict(), "ema": {"module": ema}}, ckpt)
    out = tmp_path / "t.onnx"
    assert main(["export", "--preset", "rtmpose-t", "--checkpoint", str(ckpt), "--ema",
                 "--out", str(out), "--with-decode"]) == 0
    assert "argmax_agree=1" in capsys.readouterr().out
    x = torch.randn(1, 3, 256, 192)
    kpts, scores = make_session(out).run(None, {"input": x.numpy()})
    for weights, same in ((ema, True), (trained.state_dict(), False)):
        reference = build_model(preset("rtmpose-t").model).eval()
        reference.load_state_dict(weights)
        with torch.no_grad():
            _, ref_scores = SimCCDecode(split_ratio=2.0)(*reference(x))
        assert np.allclose(scores, ref_scores.numpy(), atol=1e-4) == same
    torch.save({"model": {"nonsense": torch.zeros(1)}}, ckpt)
    capsys.readouterr()
    assert main(["export", "--preset", "rtmpose-t", "--checkpoint", str(ckpt), "--out", str(out)]) == 2
    assert "rtmpose export: error: checkpoint" in capsys.readouterr().err
