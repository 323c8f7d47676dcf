"""COCO-area OKS and greedy OKS-NMS against hand computations (MMPose CocoMetric convention)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rtmposelib.eval.oks_nms import oks_iou, oks_nms

SIGMAS = np.array([0.026, 0.025, 0.025])


def test_oks_iou_by_hand():
    g = np.array([[10.0, 10.0, 1.0], [20.0, 10.0, 0.9], [30.0, 30.0, 0.1]])
    d = np.array([[[13.0, 14.0], [20.0, 10.0], [30.0, 28.0]]])     # distances^2: 25, 0, 4
    area_g, area_d = 400.0, 600.0
    s = (area_g + area_d) / 2
    want = (math.exp(-25 / (2 * 0.026) ** 2 / s / 2) + 1.0 + math.exp(-4 / (2 * 0.025) ** 2 / s / 2)) / 3
    got = oks_iou(g, d, area_g, np.array([area_d]), SIGMAS)
    assert got.shape == (1,) and got[0] == pytest.approx(want, rel=1e-6)
    assert oks_iou(g, g[None], 1.0, np.array([1.0]), SIGMAS)[0] == pytest.approx(1.0)


def test_oks_nms_greedy_by_score():
    base = np.array([[100.0, 100.0], [120.0, 100.0], [110.0, 140.0]])
    kps = np.stack([base,                     # 0: score 0.5
                    base + 0.3,               # 1: near-duplicate of 0, higher score -> suppresses 0
                    base + 200.0,             # 2: far away, kept
                    base + 2.0])              # 3: OKS with 1 = exp(-(2*1.7^2)/...) , computed below
    scores = np.array([0.5, 0.9, 0.7, 0.8])
    areas = np.full(4, 5000.0)
    o13 = oks_iou(kps[1], kps[3][None], 5000.0, np.array([5000.0]), SIGMAS)[0]
    e = (2 * 1.7 ** 2) / 5000.0 / 2
    assert o13 == pytest.approx(np.mean(np.exp(-e / (2 * SIGMAS) ** 2)), rel=1e-6)
    assert o13 < 0.9                          # so 3 survives 1
    o30 = oks_iou(kps[3], kps[0][None], 5000.0, np.array([5000.0]), SIGMAS)[0]
    assert o30 < 0.9
    keep = oks_nms(kps, scores, areas, SIGMAS, thr=0.9)
    np.testing.assert_array_equal(keep, [1, 3, 2])       # 0 removed by 1 (OKS ~ 0.98)
    np.testing.assert_array_equal(oks_nms(kps, scores, areas, SIGMAS, thr=0.5), [1, 2])
    assert oks_nms(np.zeros((0, 3, 3)), np.zeros(0), np.zeros(0), SIGMAS).size == 0


def test_bad_shapes():
    with pytest.raises(ValueError, match="keypoint counts"):
        oks_iou(np.zeros((4, 2)), np.zeros((1, 4, 2)), 1.0, np.ones(1), SIGMAS)
