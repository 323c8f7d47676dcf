"""``rtmpose detector train | eval | export`` on SynthPose smoke (one iteration: plumbing)."""
from __future__ import annotations

import json

import onnx
import pandas as pd

from rtmposelib.cli import main


def test_train_eval_export(tmp_path, capsys):
    out = tmp_path / "det"
    assert main(["detector", "train", "--data", "synth:smoke", "--out", str(out), "--epochs", "1",
                 "--max-iters", "1", "--batch-size", "2", "--no-eval"]) == 0
    assert (out / "detector.pth").is_file() and len(pd.read_csv(out / "history.csv")) == 1
    capsys.readouterr()
    assert main(["detector", "eval", "--checkpoint", str(out / "detector.pth"), "--data", "synth:smoke"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert 0.0 <= metrics["AP50"] <= 1.0 and "num_detections" in metrics
    assert main(["detector", "export", "--checkpoint", str(out / "detector.pth"), "--out", str(out / "d.onnx")]) == 0
    graph = onnx.load(str(out / "d.onnx")).graph
    assert [o.name for o in graph.output] == ["dets", "labels"]


def test_bad_checkpoint_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    assert main(["detector", "export", "--checkpoint", str(bad), "--out", str(tmp_path / "x.onnx")]) == 2
    assert "bad.pth" in capsys.readouterr().err
    assert main(["detector", "export", "--checkpoint", str(tmp_path / "none.pth"), "--out", "x.onnx"]) == 2
    assert "none.pth" in capsys.readouterr().err
