"""Synthetic video: determinism, smooth motion with stable track ids, valid ground truth, mp4 round trip."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from rtmposelib.data.synth_figure import LIMITS, Pose
from rtmposelib.data.synth_video import gait_pose, synth_video, write_video


def test_video_is_deterministic_smooth_and_tracked():
    frames, truth = synth_video(n_frames=20, n_people=3, size=(320, 240), seed=2, fps=30)
    again, truth2 = synth_video(n_frames=20, n_people=3, size=(320, 240), seed=2, fps=30)
    assert len(frames) == len(truth) == 20 and frames[0].shape == (240, 320, 3)
    assert all(np.array_equal(a, b) for a, b in zip(frames, again))
    assert not np.array_equal(frames[0], frames[10])                      # things move
    for people in truth:
        assert len({p["track_id"] for p in people}) == len(people) and len(people) <= 3
        for p in people:
            k = p["keypoints"]
            assert k.shape == (17, 3) and k.dtype == np.float32 and (k[k[:, 2] == 0, :2] == 0).all()
            x, y, w, h = p["bbox"]
            assert p["area"] > 0 and x + w <= 320 and y + h <= 240
    # a keypoint labelled in consecutive frames moves by a few pixels, not jumps (same track id)
    for tid in range(3):
        seq = [{p["track_id"]: p for p in people}.get(tid) for people in truth]
        for a, b in zip(seq, seq[1:]):
            if a is not None and b is not None:
                both = (a["keypoints"][:, 2] > 0) & (b["keypoints"][:, 2] > 0)
                step = np.abs(a["keypoints"][both, :2] - b["keypoints"][both, :2])
                assert step.size == 0 or step.max() < 12


def test_gait_stays_within_joint_limits_and_swings_in_antiphase():
    shape = Pose()
    for phase in np.linspace(0, 4 * np.pi, 50):
        p = gait_pose(shape, phase)
        for name in ("shoulder", "elbow", "hip", "knee"):
            assert all(LIMITS[name][0] <= a <= LIMITS[name][1] for a in getattr(p, name))
    p = gait_pose(shape, np.pi / 2)
    assert p.hip[0] > p.hip[1] and p.shoulder[0] < p.shoulder[1]         # left leg out, left arm in


def test_write_video_round_trip(tmp_path):
    frames, _ = synth_video(n_frames=8, n_people=1, size=(160, 128), seed=0)
    path = write_video(frames, tmp_path / "v.mp4", fps=10)
    cap = cv2.VideoCapture(str(path))
    n = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        assert frame.shape == (128, 160, 3)
        n += 1
    cap.release()
    assert n == 8
    with pytest.raises(ValueError, match="mp4"):
        write_video(frames, tmp_path / "v.avi")
    with pytest.raises(ValueError, match="frame 1"):
        write_video([frames[0], frames[1][:64]], tmp_path / "w.mp4")
    with pytest.raises(ValueError, match="n_frames"):
        synth_video(n_frames=0, n_people=1)
