"""run_demo on videos, folders and images: outputs, metrics, and bad input giving empty outputs."""
from __future__ import annotations

import json
from collections import defaultdict

import cv2
import numpy as np
import pytest

from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.data.synth_video import synth_video, write_video
from rtmposelib.infer.topdown import Poses, rescore
from rtmposelib.infer.tracker import PoseTracker
from rtmposelib.infer.video import run_demo, track_jitter

COCO = get_metainfo("coco")


class FrameOracle:
    """A pipeline stand-in that knows the ground truth of every frame: GT boxes as detections, GT
    keypoints (+ noise) as poses. ``estimate`` runs once per frame, so it counts the frames."""

    def __init__(self, truth, noise: float = 0.0) -> None:
        self.truth, self.noise = truth, noise
        self.metainfo = COCO
        self.timings = defaultdict(float)
        self.rng = np.random.default_rng(0)
        self.frame = -1

    def detector(self, image, key=None):
        gt = self.truth[self.frame + 1]
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (g["bbox"] for g in gt)], np.float32)
        return boxes.reshape(-1, 4), np.ones(len(gt), np.float32)

    def __call__(self, image, key=None):
        boxes, scores = self.detector(image, key)
        return self.estimate(image, boxes, scores)

    def estimate(self, image, boxes, box_scores=None, *, nms=True):
        self.frame += 1
        self.timings["pose"] += 1e-3
        gt = self.truth[self.frame]
        n = len(boxes)
        kpts, scores = np.zeros((n, 17, 2), np.float32), np.zeros((n, 17), np.float32)
        for i, box in enumerate(np.asarray(boxes).reshape(-1, 4)):
            centre = (box[:2] + box[2:]) / 2
            if gt:
                g = min(gt, key=lambda g: np.linalg.norm(np.array(g["bbox"][:2]) + np.array(g["bbox"][2:]) / 2
                                                        - centre))
                kpts[i] = g["keypoints"][:, :2] + self.rng.normal(0, self.noise, (17, 2))
                scores[i] = g["keypoints"][:, 2] > 0
        return Poses(kpts, scores, np.asarray(boxes, np.float32).reshape(-1, 4), np.ones(n, np.float32),
                     rescore(np.ones(n), scores), np.zeros((n, 2), np.float32), np.zeros((n, 2), np.float32),
                     np.zeros(n, np.float32))


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames, truth = synth_video(n_frames=12, n_people=2, seed=3)
    path = write_video(frames, tmp_path_factory.mktemp("clip") / "clip.mp4", fps=30)
    return path, frames, truth


def test_video_outputs_and_metrics(clip, tmp_path):
    path, frames, truth = clip
    oracle = FrameOracle(truth, noise=2.0)
    metrics = run_demo(path, oracle, out_dir=tmp_path, tracker=PoseTracker(oracle, det_interval=3))
    assert metrics["frames"] == 12 and metrics["detector_runs"] == 4
    assert metrics["fps"]["pose"] > 0 and metrics["fps"]["total"] > 0
    assert metrics["jitter_smoothed"] < metrics["jitter_raw"]
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results) == sum(len(t) for t in truth)
    assert {r["frame"] for r in results} == set(range(12))
    assert len(results[0]["keypoints"]) == 51 and len(results[0]["keypoints_raw"]) == 51
    assert json.loads((tmp_path / "metrics.json").read_text())["frames"] == 12
    cap = cv2.VideoCapture(str(tmp_path / "annotated.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    cap.release()


def test_folder_to_gif_and_image_without_people(clip, tmp_path):
    _, frames, truth = clip
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(frames[:3]):
        cv2.imwrite(str(folder / f"{i:04d}.png"), frame)
    (folder / "0003.png").write_bytes(b"not a png")
    metrics = run_demo(folder, FrameOracle(truth), out_dir=tmp_path / "a", annotate="gif")
    assert metrics["frames"] == 3
    assert any("0003.png: unreadable image" in m for m in metrics["messages"])
    from PIL import Image
    assert Image.open(tmp_path / "a" / "annotated.gif").n_frames == 3
    # one image, nobody in it: empty results, a message, an annotated copy of the image
    image = tmp_path / "empty.png"
    cv2.imwrite(str(image), np.zeros((64, 48, 3), np.uint8))
    metrics = run_demo(image, FrameOracle([[]]), out_dir=tmp_path / "b")
    assert json.loads((tmp_path / "b" / "results.json").read_text()) == []
    assert metrics["frames"] == 1 and any("no people found" in m for m in metrics["messages"])
    assert (tmp_path / "b" / "annotated.png").is_file()


def test_unreadable_video_and_zero_frames_give_empty_outputs(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00garbage" * 100)
    metrics = run_demo(bad, FrameOracle([]), out_dir=tmp_path / "bad")
    assert metrics["frames"] == 0 and metrics["fps"]["total"] is None
    assert any("cannot open this video" in m or "zero frames" in m for m in metrics["messages"])
    assert json.loads((tmp_path / "bad" / "results.json").read_text()) == []
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    metrics = run_demo(empty, FrameOracle([]), out_dir=tmp_path / "none")
    assert metrics["frames"] == 0 and any("zero frames" in m for m in metrics["messages"])
    with pytest.raises(FileNotFoundError, match="nothing_here.mp4"):
        run_demo(tmp_path / "nothing_here.mp4", FrameOracle([]), out_dir=tmp_path / "x")


def test_track_jitter_hand_computed():
    line = {f: np.array([[f * f * 1.0, 0.0]]) for f in range(4)}        # acceleration 2 every frame
    gap = {0: np.array([[0.0, 0.0]]), 1: np.array([[1.0, 0.0]]), 5: np.array([[9.0, 9.0]])}
    assert track_jitter({0: line, 1: gap}) == pytest.approx(2.0)          # the gap adds nothing
    assert np.isnan(track_jitter({}))
