"""Tracker NMS: box IoU, MMDeploy's diagonal-scaled OKS and greedy suppression vs hand computations."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rtmposelib.infer.pose_nms import box_iou, box_nms, diagonal_oks, greedy_nms, pose_nms


def test_box_iou_hand_computed():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 5, 15, 15], [20, 20, 30, 30], [0, 0, 10, 10], [2, 2, 2, 8]])
    # 25 / (100 + 100 - 25); disjoint; identical; zero-area box inside -> 0
    np.testing.assert_allclose(box_iou(a, b), [[25 / 175, 0.0, 1.0, 0.0]])


def test_diagonal_oks_hand_computed():
    sigmas = np.array([0.1, 0.2])
    kpts_a = np.array([[[0.0, 0.0], [10.0, 0.0]]])
    kpts_b = np.array([[[3.0, 4.0], [10.0, 0.0]]])          # first point 5 px away
    box_a = np.array([[0, 0, 30, 40]])                       # diagonal 50
    box_b = np.array([[0, 0, 60, 80]])                       # diagonal 100 -> s = 75
    expected = (math.exp(-25 / (2 * 75 ** 2 * 0.1 ** 2)) + 1.0) / 2
    assert diagonal_oks(kpts_a, box_a, kpts_b, box_b, sigmas)[0, 0] == pytest.approx(expected)
    # symmetric, and 1 for identical poses
    np.testing.assert_allclose(diagonal_oks(kpts_b, box_b, kpts_a, box_a, sigmas), [[expected]])
    assert diagonal_oks(kpts_a, box_a, kpts_a, box_a, sigmas)[0, 0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="sigmas"):
        diagonal_oks(kpts_a, box_a, kpts_b, box_b, np.ones(3))


def test_greedy_nms_suppresses_at_or_above_threshold():
    sim = np.array([[1.0, 0.5, 0.2],
                    [0.5, 1.0, 0.7],
                    [0.2, 0.7, 1.0]])
    # rank order 1, 0, 2: 1 kept; 0 (0.5 >= 0.5) suppressed; 2 (0.7) suppressed
    np.testing.assert_array_equal(greedy_nms(sim, [0.8, 0.9, 0.1], thr=0.5), [1])
    # at 0.6: 1 kept, 0 kept (0.5 < 0.6), 2 suppressed by 1
    np.testing.assert_array_equal(greedy_nms(sim, [0.8, 0.9, 0.1], thr=0.6), [1, 0])
    # a suppressed item does not suppress others: 0 > 1 > 2, 1 suppressed by 0, 2 survives (0.2)
    np.testing.assert_array_equal(greedy_nms(sim, [3, 2, 1], thr=0.5), [0, 2])
    with pytest.raises(ValueError, match="similarity"):
        greedy_nms(np.eye(2), [1, 2, 3], 0.5)


def test_box_nms():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]])
    np.testing.assert_array_equal(box_nms(boxes, np.array([0.9, 0.95, 0.5]), 0.5), [1, 2])


def test_pose_nms_ranks_visible_tracks_first_then_score_sum():
    sigmas = np.full(3, 0.1)
    base = np.array([[10.0, 10.0], [20.0, 10.0], [15.0, 30.0]])
    kpts = np.stack([base, base + 0.5, base + 100.0])
    boxes = np.array([[5, 5, 25, 35], [5, 5, 25, 35], [105, 105, 125, 135]], dtype=float)
    scores = np.array([[0.9] * 3, [0.5] * 3, [0.1] * 3])
    # duplicates 0 and 1: the higher score sum (0) wins; the far pose 2 is kept
    np.testing.assert_array_equal(pose_nms(kpts, scores, boxes, sigmas=sigmas, thr=0.5), [0, 2])
    # pose 1 continues a visible track: it outranks 0 whatever the scores
    np.testing.assert_array_equal(
        pose_nms(kpts, scores, boxes, sigmas=sigmas, thr=0.5, visible_track=[False, True, False]),
        [1, 2])
    # without sigmas, box IoU (identical boxes 0/1 -> IoU 1)
    np.testing.assert_array_equal(pose_nms(kpts, scores, boxes, thr=0.5), [0, 2])
    assert pose_nms(np.zeros((0, 3, 2)), np.zeros((0, 3)), np.zeros((0, 4)), sigmas=sigmas).size == 0
