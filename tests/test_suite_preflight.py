"""``rtmpose suite --scale paper --check``: a partial COCO tree gives one line per missing piece."""
from __future__ import annotations

import zipfile

from rtmposelib.cli import main
from rtmposelib.suite.preflight import backbone_problems, coco_problems


def test_check_reports_every_missing_piece_of_a_partial_coco_tree(tmp_path, monkeypatch, capsys):
    coco = tmp_path / "coco"
    (coco / "annotations").mkdir(parents=True)
    (coco / "annotations" / "person_keypoints_val2017.json").write_text("{}")
    (coco / "val2017").mkdir()
    (coco / "val2017" / "000000000785.jpg").write_bytes(b"x")
    (coco / "train2017").mkdir()                                            # present but empty
    monkeypatch.setenv("RTMPOSE_COCO", str(coco))
    code = main(["suite", "--scale", "paper", "--check", "--results", str(tmp_path / "results")])
    out = capsys.readouterr().out
    problems = [line for line in out.splitlines() if line.startswith("problem: ")]
    assert code == 1
    assert any("person_keypoints_train2017.json" in p for p in problems)
    assert any("empty" in p and "train2017" in p for p in problems)
    assert any("COCO_val2017_detections_AP_H_56_person.json" in p for p in problems)
    assert any("--imagenet-backbone" in p for p in problems)
    assert not any("val2017" in p and "person_keypoints" not in p and "detections" not in p for p in problems)
    assert "estimate train_size/m-seed21" in out and "h on 8 GPUs" in out


def test_complete_tree_and_backbone_are_not_problems(tmp_path):
    coco = tmp_path / "coco"
    for rel in ("annotations/person_keypoints_train2017.json", "annotations/person_keypoints_val2017.json",
                "person_detection_results/COCO_val2017_detections_AP_H_56_person.json",
                "train2017/1.jpg", "val2017/2.jpg"):
        (coco / rel).parent.mkdir(parents=True, exist_ok=True)
        (coco / rel).write_text("x")
    assert coco_problems(coco) == []
    ckpt = tmp_path / "cspnext-m.pth"
    with zipfile.ZipFile(ckpt, "w") as zf:
        zf.writestr("archive/data.pkl", b"")
    assert backbone_problems(str(tmp_path / "cspnext-{size}.pth"), ("m",)) == []
    assert "missing" in backbone_problems(str(tmp_path / "cspnext-{size}.pth"), ("m", "l"))[0]
    assert backbone_problems("zoo:cspnext-{size}-imagenet", ("t", "s", "m", "l")) == []
    assert "did you mean" in backbone_problems("zoo:cspnext-{size}-imagnet", ("m",))[0]
