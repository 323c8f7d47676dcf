"""PCKh@0.5 (MPII protocol, MMPose MpiiPCKAccuracy) against a hand computation."""
from __future__ import annotations

import numpy as np
import pytest

from rtmposelib.data.mpii import head_size
from rtmposelib.eval.pckh import pckh


def test_pckh_by_hand():
    n, k = 2, 16
    gt = np.zeros((n, k, 2))
    boxes = np.array([[[0, 0], [30, 40]], [[0, 0], [60, 80]]], np.float64)   # diagonals 50, 100
    hs = head_size(boxes)
    np.testing.assert_allclose(hs, [30.0, 60.0])                            # x 0.6
    pred = gt.copy()
    # instance 0 (threshold 0.5 * 30 = 15 px): r_ankle off by 14 (hit), l_ankle off by 16 (miss)
    pred[0, 0] = [14, 0]
    pred[0, 5] = [0, 16]
    # instance 1 (threshold 30 px): head top off by 31 (miss), r_wrist off by 29 (hit)
    pred[1, 9] = [31, 0]
    pred[1, 10] = [0, 29]
    # pelvis wrong everywhere: excluded from the mean
    pred[:, 6] = [1000, 0]
    vis = np.ones((n, k))
    vis[1, 15] = 0                                                         # l_wrist invisible once
    out = pckh(pred, gt, vis, hs)
    assert out["Head"] == pytest.approx(50.0)
    assert out["Ankle"] == pytest.approx(0.5 * (100 + 50))
    assert out["Wrist"] == pytest.approx(100.0)
    assert out["per_joint"][6] == 0.0
    # joints counted: 14 joints x 2 instances, minus one invisible = 27; misses: l_ankle, head top
    assert out["PCKh"] == pytest.approx(100 * (27 - 2) / 27)
    # at 0.1: thresholds 3 px / 6 px -> r_ankle, l_ankle, head top, r_wrist all miss
    assert out["PCKh@0.1"] == pytest.approx(100 * (27 - 4) / 27)


def test_pred_offset_and_errors():
    gt = np.full((1, 16, 2), 10.0)
    pred = gt - 1.0
    hs = np.array([1.0])                                                   # threshold 0.5 px
    assert pckh(pred, gt, np.ones((1, 16)), hs)["PCKh"] == 0.0
    assert pckh(pred, gt, np.ones((1, 16)), hs, pred_offset=1.0)["PCKh"] == pytest.approx(100.0)
    with pytest.raises(ValueError, match="16 MPII"):
        pckh(np.zeros((1, 17, 2)), np.zeros((1, 17, 2)), np.ones((1, 17)), hs)


def test_dataset_pckh_errors_name_the_instance():
    from types import SimpleNamespace

    from rtmposelib.data.metainfo import get_metainfo
    from rtmposelib.eval.pckh import dataset_pckh
    inst = SimpleNamespace(id=7, keypoints=np.full((16, 2), 50.0, np.float32), visible=np.ones(16, np.float32))
    ds = SimpleNamespace(instances=[inst], head_sizes=np.array([20.0]), head_size_source="keypoints",
                         metainfo=get_metainfo("mpii"), ann_file="val.json")
    exact = {"id": 7, "image_id": 1, "keypoints": np.c_[np.full((16, 2), 49.0), np.ones(16)].ravel().tolist()}
    out = dataset_pckh(ds, [exact])                        # 49 + 1 (MMPose's 1-based offset) == 50
    assert out["PCKh"] == pytest.approx(100.0) and out["num_scored"] == 1
    assert dataset_pckh(ds, [exact], pred_offset=0.0)["PCKh@0.1"] == pytest.approx(100.0)   # 1 px < 2 px
    with pytest.raises(ValueError, match="instance id 8 .* is not an instance of val.json"):
        dataset_pckh(ds, [dict(exact, id=8)])
    with pytest.raises(ValueError, match="1 of 1 instances of val.json have no result"):
        dataset_pckh(ds, [])
