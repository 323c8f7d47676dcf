"""``rtmpose synth`` through the CLI dispatcher: generate, reuse, preview, bad size."""
from __future__ import annotations

import cv2

from rtmposelib.cli import main


def test_synth_command(tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["synth", "--size", "1", "--out", str(out), "--preview", str(tmp_path / "p.png")]) == 0
    text = capsys.readouterr().out
    assert str(out) in text and "train: 1 images" in text and "val: 16 images" in text
    assert (out / "annotations" / "person_detection_results_val2017.json").is_file()
    assert cv2.imread(str(tmp_path / "p.png")).shape == (480, 4 * 640, 3)
    assert main(["synth", "--size", "1", "--out", str(out)]) == 0
    assert "found in the cache" in capsys.readouterr().out
    assert main(["synth", "--size", "lots"]) == 2
    assert "SynthPose size" in capsys.readouterr().err
