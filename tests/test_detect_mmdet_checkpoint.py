"""MMDetection checkpoint import: round trip of an exported state_dict, EMA layouts, clear mismatch errors."""
from __future__ import annotations

import pytest
import torch

from rtmposelib.detect.mmdet_checkpoint import export_mmdet_state_dict, load_detector, load_mmdet_checkpoint, mmdet_keys
from rtmposelib.detect.rtmdet import RTMDetConfig, build_rtmdet, build_rtmdet_nano

# a few entries exactly as in MMDetection's rtmdet_nano checkpoint layout
OFFICIAL_KEYS = ("backbone.stage4.1.conv1.conv.weight",
                 "backbone.stage4.2.blocks.0.conv1.depthwise_conv.conv.weight",
                 "backbone.stage1.1.attention.fc.bias",
                 "neck.top_down_blocks.1.blocks.0.conv2.pointwise_conv.bn.weight",
                 "neck.downsamples.0.depthwise_conv.conv.weight",
                 "bbox_head.reg_convs.2.1.depthwise_conv.bn.running_var",
                 "bbox_head.rtm_cls.0.weight", "bbox_head.rtm_reg.2.bias")


def randomised(model):
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for key, t in model.state_dict().items():
            if t.dtype.is_floating_point:
                t.copy_(torch.randn(t.shape, generator=g) * 0.1)
            if key.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
    return model


def test_round_trip_of_an_exported_state_dict(tmp_path):
    src = randomised(build_rtmdet_nano())
    state = export_mmdet_state_dict(src)
    for key in OFFICIAL_KEYS:
        assert key in state
    path = tmp_path / "rtmdet_nano.pth"
    torch.save({"meta": {"epoch": 300}, "state_dict": state}, path)
    dst = load_mmdet_checkpoint(build_rtmdet_nano(), path)
    for key, value in src.state_dict().items():
        assert torch.equal(dst.state_dict()[key], value), key
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(src.eval()(x)[0], dst.eval()(x)[0]):
            assert torch.equal(a, b)
    assert set(mmdet_keys(dst).values()) == set(state)


def test_mmengine_ema_layout_and_preprocessor_buffers():
    raw, avg = randomised(build_rtmdet_nano()), build_rtmdet_nano()
    ckpt = {"state_dict": {**export_mmdet_state_dict(avg), "data_preprocessor.mean": torch.zeros(3, 1, 1)},
            "ema_state_dict": {"steps": torch.tensor(5), **{f"module.{k}": v for k, v in
                                                            export_mmdet_state_dict(raw).items()}}}
    got_avg = load_mmdet_checkpoint(build_rtmdet_nano(), ckpt, use_ema=True)
    got_raw = load_mmdet_checkpoint(build_rtmdet_nano(), ckpt, use_ema=False)
    key = "bbox_head.rtm_cls.1.weight"
    assert torch.equal(got_avg.state_dict()[key], avg.state_dict()[key])
    assert torch.equal(got_raw.state_dict()[key], raw.state_dict()[key])


def test_mismatches_name_the_file_and_the_key(tmp_path):
    state = export_mmdet_state_dict(build_rtmdet_nano())
    path = tmp_path / "wrong.pth"
    bad = dict(state)
    bad["bbox_head.rtm_cls.0.weight"] = torch.zeros(80, 64, 1, 1)          # an 80-class COCO head
    torch.save({"state_dict": bad}, path)
    with pytest.raises(ValueError, match=r"wrong\.pth.*bbox_head\.rtm_cls\.0\.weight"):
        load_mmdet_checkpoint(build_rtmdet_nano(), path)
    bad = {k: v for k, v in state.items() if not k.startswith("neck.out_convs.2")}
    with pytest.raises(ValueError, match="missing"):
        load_mmdet_checkpoint(build_rtmdet_nano(), bad)
    with pytest.raises(ValueError, match="unexpected"):
        load_mmdet_checkpoint(build_rtmdet_nano(), {**state, "bbox_head.rtm_obj.0.weight": torch.zeros(1)})
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        load_mmdet_checkpoint(build_rtmdet_nano(), tmp_path / "missing.pth")


def test_load_detector_reads_our_checkpoint_with_its_config(tmp_path):
    cfg = RTMDetConfig(widen_factor=0.125, neck_channels=16)
    src = randomised(build_rtmdet(cfg))
    from dataclasses import asdict
    torch.save(dict(state_dict=src.state_dict(), model_config=asdict(cfg)), tmp_path / "detector.pth")
    got = load_detector(tmp_path / "detector.pth")
    assert not got.training and got.neck.out_channels == 16
    assert torch.equal(got.state_dict()["bbox_head.rtm_reg.0.weight"], src.state_dict()["bbox_head.rtm_reg.0.weight"])
