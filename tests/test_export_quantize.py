"""Static int8 quantisation: QDQ file with per-channel int8 weights, same interface, outputs close to
fp32; node exclusion keeps the head in float; calibration crops come from the training split."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import onnx
import pytest
import torch

from rtmposelib.config import ModelConfig, preset
from rtmposelib.export.onnx import export_onnx
from rtmposelib.export.quantize import (
    CropReader,
    QuantizeConfig,
    calibration_crops,
    compare_outputs,
    excluded_nodes,
    quantize_onnx,
)
from rtmposelib.models.pose_model import build_model

SIZE = (64, 64)   # (w, h): a small crop keeps quantisation and calibration to a second or two


@pytest.fixture(scope="module")
def fp32_file(tmp_path_factory):
    cfg = ModelConfig(deepen_factor=0.167, widen_factor=0.375, input_size=SIZE)
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    return export_onnx(model, tmp_path_factory.mktemp("q") / "t.onnx", input_size=SIZE)


def _crops(n=16, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 3, SIZE[1], SIZE[0])).astype(np.float32)


def _ops(path):
    return [n.op_type for n in onnx.load(str(path)).graph.node]


def test_qdq_per_channel_file_keeps_interface_and_outputs(fp32_file, tmp_path):
    out = quantize_onnx(fp32_file, tmp_path / "t.int8.onnx", _crops())
    proto = onnx.load(str(out))
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("QuantizeLinear") > 10 and ops.count("DequantizeLinear") > 10
    assert [i.name for i in proto.graph.input] == ["input"]
    assert [o.name for o in proto.graph.output] == ["simcc_x", "simcc_y"]
    # per-channel weights: some DequantizeLinear carries a 1-D scale of several channels
    inits = {t.name: t for t in proto.graph.initializer}
    scale_lens = [int(np.prod(inits[n.input[1]].dims)) for n in proto.graph.node
                  if n.op_type == "DequantizeLinear" and n.input[1] in inits]
    assert max(scale_lens) > 1
    report = compare_outputs(fp32_file, out, _crops(8, seed=1))
    assert np.isfinite(report["max_abs_logit"]) and report["max_abs_logit"] < 0.05   # logits are O(1e-2..1)


def test_exclusions_keep_nodes_in_float(fp32_file, tmp_path):
    head = excluded_nodes(fp32_file, "head")
    assert head and all(n.startswith("/model/head/") for n in head)
    assert set(excluded_nodes(fp32_file, "attention")) == {"/model/head/gau/MatMul", "/model/head/gau/MatMul_1"}
    assert excluded_nodes(fp32_file, "none") == []
    out = quantize_onnx(fp32_file, tmp_path / "h.onnx", _crops(8), QuantizeConfig(exclude="head",
                                                                                   op_types="conv_matmul"))
    proto = onnx.load(str(out))
    producers = {o: n for n in proto.graph.node for o in n.output}
    for name in ("simcc_x", "simcc_y"):       # the classifiers read float activations: no DQ right before
        matmul = producers[name]
        assert matmul.op_type == "MatMul"
        assert producers[matmul.input[0]].op_type != "DequantizeLinear"


def test_config_and_input_errors(fp32_file, tmp_path):
    with pytest.raises(ValueError, match="calibration"):
        QuantizeConfig(calibration="kl")
    with pytest.raises(ValueError, match="do not fit"):
        quantize_onnx(fp32_file, tmp_path / "x.onnx", np.zeros((2, 3, 32, 32), np.float32))
    with pytest.raises(FileNotFoundError):
        quantize_onnx(tmp_path / "missing.onnx", tmp_path / "x.onnx", _crops(2))


def test_crop_reader_batches_and_rewinds():
    reader = CropReader(_crops(10), batch=4)
    sizes = []
    while (item := reader.get_next()) is not None:
        sizes.append(len(item["input"]))
    assert sizes == [4, 4, 2]
    reader.rewind()
    assert reader.get_next()["input"].shape == (4, 3, SIZE[1], SIZE[0])


def test_calibration_crops_are_normalised_training_crops():
    cfg = preset("rtmpose-t")
    cfg = replace(cfg, data=replace(cfg.data, source="synth:smoke", num_workers=0))
    crops = calibration_crops(cfg, 6)
    w, h = cfg.model.input_size
    assert crops.shape == (6, 3, h, w) and crops.dtype == np.float32
    assert -3.0 < crops.mean() < 3.0 and crops.std() > 0.1          # ImageNet-normalised, not raw pixels
