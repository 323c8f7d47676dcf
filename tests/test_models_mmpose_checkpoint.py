"""Official MMPose checkpoint import / export against the official key list (``tests/data``)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rtmposelib.config import PRESETS, ModelConfig
from rtmposelib.models.mmpose_checkpoint import export_mmpose_state_dict, load_mmpose_checkpoint
from rtmposelib.models.pose_model import build_model

KEYS_JSON = Path(__file__).resolve().parent / "data" / "mmpose_rtmpose_state_dict.json"


def _official_key_lists() -> dict[str, tuple[int, int, dict[str, tuple[int, ...]]]]:
    """size -> (number of entries, learnable values, {listed key: shape}) from the official key list."""
    models = json.loads(KEYS_JSON.read_text())["models"]
    return {name.removeprefix("rtmpose-"): (m["entries"], m["learnable_values"],
                                            {k: tuple(v) for k, v in m["shapes"].items()})
            for name, m in models.items()}


def _randomised(model):
    """Non-trivial weights and BN statistics, so identical outputs mean identical weights."""
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.copy_(torch.randn_like(t) * 0.05 + (1.0 if t.ndim == 1 else 0.0))
    return model.eval()


@pytest.mark.parametrize("size", ["t", "s", "m", "l"])
def test_every_official_key_maps_with_matching_shape(size):
    entries, learnable, listed = _official_key_lists()[size]
    model = build_model(PRESETS[f"rtmpose-{size}"].model)
    exported = export_mmpose_state_dict(model)
    assert len(exported) == entries
    assert sum(p.numel() for p in model.parameters()) == learnable
    for key, shape in listed.items():
        assert key in exported, key
        assert tuple(exported[key].shape) == shape, key
    if size == "t":                                    # the reference lists every key of rtmpose-t
        assert set(exported) == set(listed)


def test_official_names_load_and_give_identical_outputs(tmp_path):
    torch.manual_seed(0)
    source = _randomised(build_model(PRESETS["rtmpose-t"].model))
    path = tmp_path / "rtmpose-t.pth"
    torch.save({"meta": {"epoch": 420}, "state_dict": export_mmpose_state_dict(source)}, path)
    target = build_model(PRESETS["rtmpose-t"].model).eval()
    images = torch.randn(2, 3, 256, 192)
    assert load_mmpose_checkpoint(target, path) is target
    with torch.no_grad():
        for a, b in zip(source(images), target(images)):
            assert torch.equal(a, b)


def test_module_prefix_is_stripped():
    torch.manual_seed(1)
    source = _randomised(build_model(PRESETS["rtmpose-t"].model))
    state = {"module." + k: v for k, v in export_mmpose_state_dict(source).items()}
    target = load_mmpose_checkpoint(build_model(PRESETS["rtmpose-t"].model), state)
    assert torch.equal(target.head.cls_x.weight, source.head.cls_x.weight)


def test_checkpoint_of_another_size_names_first_mismatching_key(tmp_path):
    path = tmp_path / "rtmpose-s.pth"
    torch.save({"state_dict": export_mmpose_state_dict(build_model(PRESETS["rtmpose-s"].model))}, path)
    with pytest.raises(ValueError) as err:
        load_mmpose_checkpoint(build_model(PRESETS["rtmpose-t"].model), path)
    message = str(err.value)
    assert str(path) in message
    assert "first mismatching key: 'backbone.stem.0.conv.weight'" in message
    assert "checkpoint (16, 3, 3, 3) vs model (12, 3, 3, 3)" in message
    assert "unexpected" in message and "backbone.stage2.1.blocks.1." in message


def test_mmcv_ema_entries():
    torch.manual_seed(2)
    raw = export_mmpose_state_dict(_randomised(build_model(PRESETS["rtmpose-t"].model)))
    averaged = {k: v + 1 if v.is_floating_point() else v for k, v in raw.items()}
    state = raw | {"ema_" + k.replace(".", "_"): v for k, v in averaged.items()}
    plain = load_mmpose_checkpoint(build_model(PRESETS["rtmpose-t"].model), {"state_dict": state})
    ema = load_mmpose_checkpoint(build_model(PRESETS["rtmpose-t"].model), {"state_dict": state}, use_ema=True)
    assert torch.equal(plain.head.gau.gamma, raw["head.gau.gamma"])
    assert torch.equal(ema.head.gau.gamma, averaged["head.gau.gamma"])
    with pytest.raises(ValueError, match="no EMA copy"):
        load_mmpose_checkpoint(build_model(PRESETS["rtmpose-t"].model), {"state_dict": raw}, use_ema=True)


def test_mmengine_swapped_ema_state_dict():
    torch.manual_seed(3)
    raw = export_mmpose_state_dict(_randomised(build_model(PRESETS["rtmpose-t"].model)))
    averaged = {k: v + 1 if v.is_floating_point() else v for k, v in raw.items()}
    # mmengine's EMAHook saves the averaged weights in 'state_dict' and the raw ones in 'ema_state_dict'
    ckpt = {"state_dict": averaged, "ema_state_dict": {"steps": torch.tensor(10)} |
            {"module." + k: v for k, v in raw.items()}}
    ema = load_mmpose_checkpoint(build_model(PRESETS["rtmpose-t"].model), ckpt, use_ema=True)
    plain = load_mmpose_checkpoint(build_model(PRESETS["rtmpose-t"].model), ckpt)
    assert torch.equal(ema.head.cls_y.weight, averaged["head.cls_y.weight"])
    assert torch.equal(plain.head.cls_y.weight, raw["head.cls_y.weight"])


def test_simcc_star_uses_mmpose_simcc_head_names():
    cfg = ModelConfig(deepen_factor=0.167, widen_factor=0.375, final_kernel_size=1, hidden_dims=None,
                      use_gau=False)
    torch.manual_seed(4)
    source = _randomised(build_model(cfg))
    state = export_mmpose_state_dict(source)
    assert {"head.mlp_head_x.weight", "head.mlp_head_x.bias", "head.mlp_head_y.weight"} <= set(state)
    assert not any(k.startswith("head.cls_") for k in state)
    target = load_mmpose_checkpoint(build_model(cfg), state)
    assert torch.equal(target.head.cls_x.bias, source.head.cls_x.bias)


def test_bad_files(tmp_path):
    model = build_model(PRESETS["rtmpose-t"].model)
    with pytest.raises(FileNotFoundError, match="nothing.pth"):
        load_mmpose_checkpoint(model, tmp_path / "nothing.pth")
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="corrupt.pth cannot be read: it is not a readable PyTorch checkpoint") as err:
        load_mmpose_checkpoint(model, corrupt)
    assert "\n" not in str(err.value) and "weights_only" not in str(err.value)     # never advise unsafe loading
    pickled = tmp_path / "pickled.pth"
    torch.save({"state_dict": export_mmpose_state_dict(model), "hook": _Unsafe()}, pickled)
    with pytest.raises(ValueError, match="pickled.pth cannot be read") as err:   # weights_only refuses objects
        load_mmpose_checkpoint(model, pickled)
    assert "\n" not in str(err.value) and "weights_only" not in str(err.value)
    with pytest.raises(ValueError, match="no state_dict"):
        load_mmpose_checkpoint(model, {"state_dict": {}})


class _Unsafe:
    pass
