"""MPII reader: head sizes from a .mat / .json head-box file, a record field, or the head segment."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.io import savemat

from rtmposelib.codecs import SimCCCodec
from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.data.mpii import TopdownMpiiDataset, load_head_boxes

CODEC = SimCCCodec(input_size=(256, 256), sigma=5.66)


def _mpii(ann, image_dir, **kw):
    return TopdownMpiiDataset(ann_file=ann, image_dir=image_dir, metainfo=get_metainfo("mpii"), codec=CODEC,
                              input_size=(256, 256), **kw)


def _boxes(n):
    # boxes with diagonals 50, 100, 150, ... (3-4-5 triangles) -> head sizes 30, 60, 90, ...
    return [[10.0, 20.0, 10.0 + 30 * (i + 1), 20.0 + 40 * (i + 1)] for i in range(n)]


def test_head_segment_estimate_on_the_sample(shared_data):
    ds = _mpii(shared_data / "mpii" / "test_mpii.json", shared_data / "mpii")
    recs = json.loads((shared_data / "mpii" / "test_mpii.json").read_text())
    expected = [np.hypot(*np.subtract(r["joints"][9], r["joints"][8])) for r in recs]
    assert ds.head_size_source == "keypoints" and len(ds) == 5
    np.testing.assert_allclose(ds.head_sizes, expected, rtol=1e-6)          # joints are float32
    assert ds.head_sizes[0] == pytest.approx(157.28, abs=0.01)               # 005808361.jpg, by hand


@pytest.mark.parametrize("kind", ["mat", "json", "record"])
def test_head_boxes_from_file_or_record(shared_data, tmp_path, kind):
    recs = json.loads((shared_data / "mpii" / "test_mpii.json").read_text())
    boxes = _boxes(len(recs))
    ann, kw = shared_data / "mpii" / "test_mpii.json", {}
    if kind == "mat":                       # the official layout: headboxes_src (2 corners, 2 coords, N)
        src = np.transpose(np.asarray(boxes).reshape(-1, 2, 2), (1, 2, 0))
        savemat(tmp_path / "mpii_gt_val.mat", {"headboxes_src": src})
        kw["headbox_file"] = tmp_path / "mpii_gt_val.mat"
    elif kind == "json":
        (tmp_path / "heads.json").write_text(json.dumps(boxes))
        kw["headbox_file"] = tmp_path / "heads.json"
    else:
        ann = tmp_path / "with_heads.json"
        ann.write_text(json.dumps([dict(r, headbox=b) for r, b in zip(recs, boxes)]))
    ds = _mpii(ann, shared_data / "mpii", **kw)
    np.testing.assert_allclose(ds.head_sizes, [30.0, 60.0, 90.0, 120.0, 150.0])
    assert ds.head_size_source == ("record headbox" if kind == "record" else "headbox_file")


def test_head_box_errors_and_counted_missing_heads(shared_data, tmp_path):
    recs = json.loads((shared_data / "mpii" / "test_mpii.json").read_text())
    (tmp_path / "short.json").write_text(json.dumps(_boxes(3)))
    with pytest.raises(ValueError, match=r"short.json has 3 boxes for 5 annotation records"):
        load_head_boxes(tmp_path / "short.json", 5)
    with pytest.raises(FileNotFoundError, match="gone.mat does not exist"):
        load_head_boxes(tmp_path / "gone.mat", 5)
    savemat(tmp_path / "other.mat", {"something": np.zeros(3)})
    with pytest.raises(ValueError, match="no 'headboxes_src'"):
        load_head_boxes(tmp_path / "other.mat", 5)
    (tmp_path / "bad.json").write_text(json.dumps([[1, 2, 3]] * 5))
    with pytest.raises(ValueError, match=r"entry 0: head box \[1, 2, 3\]"):
        load_head_boxes(tmp_path / "bad.json", 5)
    recs[2]["joints_vis"][9] = 0                                              # head top not visible
    ann = tmp_path / "ann.json"
    ann.write_text(json.dumps(recs))
    ds = _mpii(ann, shared_data / "mpii")
    assert ds.head_sizes[2] == 0 and (ds.head_sizes[[0, 1, 3, 4]] > 0).all()
    assert ds.skipped["no_head_size (left out of PCKh)"] == 1
