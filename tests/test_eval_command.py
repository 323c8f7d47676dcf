"""``rtmpose eval`` end to end on SynthPose smoke with a checkpoint of ours; wrong checkpoints fail clearly."""
from __future__ import annotations

import json

import pytest
import torch

from rtmposelib.cli import main
from rtmposelib.config import preset
from rtmposelib.eval.command import load_weights
from rtmposelib.models.pose_model import build_model


def test_rtmpose_eval_writes_metrics(tmp_path, capsys):
    torch.manual_seed(0)
    ckpt = tmp_path / "best.pth"
    torch.save({"model": build_model(preset("rtmpose-t").model).state_dict()}, ckpt)
    out = tmp_path / "eval" / "metrics.json"
    assert main(["eval", "--preset", "rtmpose-t", "--checkpoint", str(ckpt), "--data", "synth:smoke",
                 "--no-flip", "--out", str(out)]) == 0
    metrics = json.loads(out.read_text())
    assert 0.0 <= metrics["AP"] <= 1.0 and metrics["flip_test"] is False and metrics["num_instances"] > 20
    assert out.with_suffix(".per_keypoint.csv").read_text().startswith("keypoint,matched")
    assert "AP " in capsys.readouterr().out


def test_wrong_checkpoint(tmp_path):
    ckpt = tmp_path / "s.pth"
    torch.save({"model": build_model(preset("rtmpose-s").model).state_dict()}, ckpt)
    with pytest.raises(ValueError, match="s.pth does not fit"):
        load_weights(build_model(preset("rtmpose-t").model), ckpt)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_weights(build_model(preset("rtmpose-t").model), tmp_path / "nope.pth")


def test_eval_errors_are_one_line_messages(tmp_path, capsys):
    (tmp_path / "junk.pth").write_text("not a checkpoint")
    assert main(["eval", "--preset", "rtmpose-t", "--checkpoint", str(tmp_path / "junk.pth")]) == 2
    err = capsys.readouterr().err
    assert "rtmpose eval: error: checkpoint" in err and "junk.pth cannot be read" in err


def _small_checkpoint(tmp_path, size=(64, 96)):
    """best.pth of RTMPose-t trained at ``size`` (w, h), with its saved config, as the training loop writes."""
    from dataclasses import asdict, replace

    from rtmposelib.config import simcc_sigma

    base = preset("rtmpose-t")
    cfg = replace(base, model=replace(base.model, input_size=size),
                  codec=replace(base.codec, input_size=size, sigma=simcc_sigma(size)))
    torch.manual_seed(0)
    ckpt = tmp_path / "best.pth"
    torch.save({"model": build_model(cfg.model).state_dict(), "config": json.dumps(asdict(cfg))}, ckpt)
    return ckpt


def test_eval_uses_the_checkpoints_saved_architecture(tmp_path, capsys):
    """A run trained at another input size evaluates without naming it (README: rtmpose eval after train)."""
    ckpt = _small_checkpoint(tmp_path)
    assert main(["eval", "--preset", "rtmpose-t", "--checkpoint", str(ckpt), "--no-flip"]) == 0
    captured = capsys.readouterr()
    assert "AP " in captured.out and "input size (64, 96)" in captured.err


def test_eval_on_a_folder_with_one_annotation_file(shared_data, tmp_path, capsys):
    """The real COCO samples sit in one folder (images + test_coco.json): --ann-file / --image-dir name them,
    and --bbox-file gives the detector-box protocol (one result per detection above the score threshold)."""
    ckpt = _small_checkpoint(tmp_path)                  # 64 x 96 crops: the 118 detections evaluate quickly
    out = tmp_path / "m.json"
    assert main(["eval", "--checkpoint", str(ckpt), "--data", str(shared_data / "coco"),
                 "--ann-file", "test_coco.json", "--image-dir", ".", "--bbox-file", "test_coco_det_AP_H_56.json",
                 "--no-flip", "--out", str(out)]) == 0
    detections = json.loads((shared_data / "coco" / "test_coco_det_AP_H_56.json").read_text())
    metrics = json.loads(out.read_text())
    assert metrics["num_instances"] == sum(d["category_id"] == 1 for d in detections)
    assert 0.0 <= metrics["AP"] <= 1.0
