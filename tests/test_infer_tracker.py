"""PoseTracker on moving SynthPose figures, with a perfect pose stand-in built from ground truth."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.data.synth_video import synth_video
from rtmposelib.infer.one_euro import jitter
from rtmposelib.infer.pose_nms import box_iou
from rtmposelib.infer.topdown import Poses, rescore
from rtmposelib.infer.tracker import PoseTracker, keypoints_to_box

COCO = get_metainfo("coco")


def xyxy(bbox) -> np.ndarray:
    x, y, w, h = bbox
    return np.array([x, y, x + w, y + h], np.float32)


class OraclePipeline:
    """Stands in for TopdownPipeline: GT boxes as detections, and for every crop box the GT pose of
    the person it overlaps most (score 1 on labelled keypoints), plus optional pixel noise."""

    def __init__(self, noise: float = 0.0, seed: int = 0) -> None:
        self.metainfo = COCO
        self.timings = defaultdict(float)
        self.truth: list[dict] = []
        self.detector_frames: list[int] = []
        self.frame = 0
        self.noise = noise
        self.rng = np.random.default_rng(seed)

    def detector(self, image, key=None):
        self.detector_frames.append(self.frame)
        boxes = np.array([xyxy(g["bbox"]) for g in self.truth], np.float32).reshape(-1, 4)
        return boxes, np.ones(len(boxes), np.float32)

    def estimate(self, image, boxes, box_scores=None, *, nms=True):
        n = len(boxes)
        if n == 0 or not self.truth:
            return Poses.empty(17) if n == 0 else self._poses(boxes, np.zeros((n, 17, 2)), np.zeros((n, 17)))
        gt_boxes = np.array([xyxy(g["bbox"]) for g in self.truth])
        iou = box_iou(boxes, gt_boxes)
        kpts = np.zeros((n, 17, 2)), np.zeros((n, 17))
        for i in range(n):
            j = int(iou[i].argmax())
            if iou[i, j] > 0.1:
                g = self.truth[j]["keypoints"]
                kpts[0][i] = g[:, :2] + self.rng.normal(0, self.noise, (17, 2)) * (g[:, 2:] > 0)
                kpts[1][i] = (g[:, 2] > 0).astype(float)
        return self._poses(boxes, *kpts)

    def _poses(self, boxes, kpts, scores):
        n = len(boxes)
        return Poses(kpts.astype(np.float32), scores.astype(np.float32), np.asarray(boxes, np.float32),
                     np.ones(n, np.float32), rescore(np.ones(n), scores), np.zeros((n, 2), np.float32),
                     np.zeros((n, 2), np.float32), np.zeros(n, np.float32))


def run(tracker: PoseTracker, oracle: OraclePipeline, frames, truth, blank=()):
    results = []
    for f, (frame, gt) in enumerate(zip(frames, truth)):
        oracle.frame, oracle.truth = f, ([] if f in blank else gt)
        results.append(tracker(frame))
    return results


@pytest.fixture(scope="module")
def video():
    return synth_video(n_frames=40, n_people=3, seed=1)


def test_keypoints_to_box_hand_computed():
    kpts = np.array([[10, 20], [30, 60], [500, 500]], float)
    box = keypoints_to_box(kpts, np.array([0.9, 0.5, 0.4]), image_size=(640, 480), min_keypoints=2)
    # min/max (10, 20)-(30, 60), centre (20, 40), size 20x40 x 1.25 = 25x50
    np.testing.assert_allclose(box, [7.5, 15, 32.5, 65])
    clipped = keypoints_to_box(kpts - 15, np.array([1, 1, 0]), image_size=(640, 480), min_keypoints=2)
    np.testing.assert_allclose(clipped, [0, 0, 17.5, 50])
    assert keypoints_to_box(kpts, np.array([0.9, 0.1, 0.1]), image_size=(640, 480)) is None  # < ceil(3/2)


def test_detector_every_k_frames_and_boxes_follow_the_figures(video):
    frames, truth = video
    oracle = OraclePipeline()
    tracker = PoseTracker(oracle, det_interval=5)
    results = run(tracker, oracle, frames, truth)
    assert oracle.detector_frames == list(range(0, 40, 5))
    assert [r.detected for r in results] == [f % 5 == 0 for f in range(40)]
    ious = []
    for res, gt in zip(results, truth):
        if res.detected:
            continue
        for g in gt:                              # every labelled person has a crop box that follows it
            if (g["keypoints"][:, 2] > 0).sum() >= 9:
                ious.append(box_iou(xyxy(g["bbox"])[None], res.candidate_boxes).max())
    ious = np.array(ious)
    assert len(ious) > 50
    assert np.median(ious) > 0.7 and ious.min() > 0.4, (np.median(ious), ious.min())


def test_track_ids_are_stable(video):
    frames, truth = video
    oracle = OraclePipeline()
    results = run(PoseTracker(oracle, det_interval=5), oracle, frames, truth)
    pairs = defaultdict(set)                      # GT track id -> tracker ids given to it
    for res, gt in zip(results, truth):
        boxes = np.array([xyxy(g["bbox"]) for g in gt])
        for tid, box in zip(res.track_ids, res.poses.boxes):
            pairs[gt[int(box_iou(box[None], boxes).argmax())]["track_id"]].add(int(tid))
    assert all(len(ids) == 1 for ids in pairs.values()), dict(pairs)


def test_frames_without_people_and_lost_tracks(video):
    frames, truth = video
    oracle = OraclePipeline()
    # frames 6-8 empty: tracks go missing (< track_max_missing) and are recovered with the same ids
    results = run(PoseTracker(oracle, det_interval=5, track_max_missing=10), oracle, frames[:20],
                  truth[:20], blank={6, 7, 8})
    for f in (6, 7, 8):
        assert len(results[f].track_ids) == 0 and results[f].smoothed.shape == (0, 17, 2)
    assert set(results[10].track_ids) == set(results[5].track_ids)
    # with track_max_missing 1 they are dropped and new ids appear at the next detection
    results = run(PoseTracker(oracle, det_interval=5, track_max_missing=1), oracle, frames[:20],
                  truth[:20], blank={6, 7, 8})
    assert not set(results[10].track_ids) & set(results[5].track_ids)
    # an empty video prefix: valid empty outputs, tracking starts at the first detection with people
    results = run(PoseTracker(oracle, det_interval=5), oracle, frames[:12], truth[:12], blank=set(range(6)))
    assert all(len(r.track_ids) == 0 for r in results[:10]) and len(results[10].track_ids) > 0


def test_smoothing_reduces_jitter_of_noisy_poses(video):
    """3 px keypoint noise: One-Euro (0.1 / frame, beta 0.01) halves the jitter, while the lag on the
    walking and swinging limbs keeps the mean distance to GT within 10 % of the raw noise's."""
    frames, truth = video
    tracks = {}
    for name, noise, smooth in (("clean", 0.0, False), ("raw", 3.0, False), ("smooth", 3.0, True)):
        oracle = OraclePipeline(noise=noise, seed=2)
        tracker = PoseTracker(oracle, smooth=smooth, one_euro=dict(min_cutoff=0.1, beta=0.01, d_cutoff=1.0))
        results = run(tracker, oracle, frames, truth)
        tracks[name] = np.stack([r.smoothed[list(r.track_ids).index(0)] for r in results])
    assert jitter(tracks["smooth"]) < 0.5 * jitter(tracks["raw"])
    error = {k: np.linalg.norm(tracks[k] - tracks["clean"], axis=-1).mean() for k in ("raw", "smooth")}
    assert error["smooth"] < 1.1 * error["raw"], error


def test_bad_arguments():
    with pytest.raises(ValueError, match="det_interval"):
        PoseTracker(OraclePipeline(), det_interval=0)
    with pytest.raises(ValueError, match="frame 0"):
        PoseTracker(OraclePipeline())(np.zeros((10, 10), np.uint8))
