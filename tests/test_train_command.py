"""``rtmpose train`` through the real CLI dispatcher: run files, config record, pause and resume."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from rtmposelib.cli import main
from rtmposelib.train.checkpoint import load_training_state
from rtmposelib.train.command import add_arguments, config_from_args

ARGS = ["--preset", "rtmpose-t", "--data", "synth:smoke", "--input-size", "32", "32", "--epochs", "2",
        "--batch-size", "32", "--workers", "0", "--warmup-iters", "2", "--no-progress"]


def test_train_pause_then_resume(tmp_path):
    out = str(tmp_path / "run")
    assert main(["train", *ARGS, "--out", out, "--max-iters", "2"]) == 0
    assert load_training_state(tmp_path / "run" / "last.pth")["position"]["iteration"] == 2
    record = json.loads((tmp_path / "run" / "train_record.json").read_text())
    per_epoch = -(-record["train_instances"] // 32)                        # the last partial batch is kept
    assert record["effective_batch"] == 32 and record["iters_per_epoch"] == per_epoch
    assert record["total_iters"] == 2 * per_epoch
    assert record["config"]["model"]["input_size"] == [32, 32] and record["config"]["train"]["stage2_epochs"] == 1
    assert main(["train", *ARGS, "--out", out, "--max-iters", "3", "--resume"]) == 0
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert history["iteration"].tolist() == [1, 2, 3]
    assert {"epoch", "loss", "lr", "images_per_s", "stage"} <= set(history.columns)


def test_config_from_args_variants():
    import argparse
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    cfg = config_from_args(parser.parse_args(["--out", "x", "--epochs", "14", "--preset", "rtmpose-s"]))
    assert cfg.train.epochs == 14 and cfg.train.stage2_epochs == 1       # 30/420 of 14 epochs, at least 1
    pre = config_from_args(parser.parse_args(["--out", "x", "--pretrain-heatmap", "--epochs", "4"]))
    assert pre.model.head == "heatmap" and pre.codec.kind == "udp_heatmap" and pre.loss.kind == "keypoint_mse"
    assert pre.train.weight_decay == 0.05 and pre.codec.heatmap_size == (48, 64) and not pre.flip_test
    with pytest.raises(FileNotFoundError, match="nowhere"):
        config_from_args(parser.parse_args(["--out", "x", "--init-backbone", "nowhere/last.pth"]))


def test_nan_loss_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    code = main(["train", *ARGS, "--out", str(tmp_path / "nan"), "--lr", "1e12"])
    assert code == 1
    err = capsys.readouterr().err
    assert "non-finite loss" in err and "no checkpoint was written yet" in err


def test_resume_without_checkpoint_says_so(tmp_path, capsys):
    assert main(["train", *ARGS, "--out", str(tmp_path / "r"), "--max-iters", "1", "--resume"]) == 0
    captured = capsys.readouterr()
    assert "holds no last.pth: starting a new run" in captured.err
    assert "(paused: continue with --resume)" in captured.out
    assert main(["train", *ARGS, "--out", str(tmp_path / "r"), "--max-iters", "1"]) == 0
    assert "holds a run; starting over" in capsys.readouterr().err


def test_batch_larger_than_the_dataset_says_what_to_do(tmp_path, capsys):
    """The preset batch (256) on SynthPose smoke: a one-line error that names the fix, before any training."""
    i = ARGS.index("--batch-size")
    args = ARGS[:i] + ARGS[i + 2:]
    assert main(["train", *args, "--out", str(tmp_path / "big")]) == 2
    assert re.search(r"rtmpose train: error: .*fewer than one batch of 256.*--batch-size", capsys.readouterr().err)


def test_corrupt_image_in_a_worker_is_a_one_line_error_naming_the_file(tmp_path, capsys):
    """A COCO root whose only training image is corrupt: the DataLoader worker's error reaches the user as
    the dataset's message (file, instance, problem), exit code 2."""
    import cv2
    import numpy as np

    root = tmp_path / "root"
    for split in ("train2017", "val2017"):
        (root / split).mkdir(parents=True)
        cv2.imwrite(str(root / split / "1.jpg"), np.full((64, 48, 3), 128, np.uint8))
    (root / "train2017" / "1.jpg").write_bytes(b"not a jpeg")
    ann = {"images": [{"id": 1, "file_name": "1.jpg", "width": 48, "height": 64}],
           "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "iscrowd": 0, "num_keypoints": 17,
                            "bbox": [8, 8, 30, 50], "area": 900.0, "keypoints": [20, 30, 2] * 17}],
           "categories": [{"id": 1, "name": "person"}]}
    (root / "annotations").mkdir()
    for split in ("train", "val"):
        (root / "annotations" / f"person_keypoints_{split}2017.json").write_text(json.dumps(ann))
    code = main(["train", "--preset", "rtmpose-t", "--data", str(root), "--input-size", "32", "32", "--epochs", "1",
                 "--batch-size", "1", "--workers", "1", "--no-progress", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert re.search(r"rtmpose train: error: .*train2017/1.jpg \(instance id 5, image id 1\) is corrupt", err)
