"""Metainfo parity with MMPose's dataset configs (docs/official-behaviour.md "Keypoint metainfo") and the custom-set
checks."""
from __future__ import annotations

import numpy as np
import pytest

from rtmposelib.data.metainfo import get_metainfo, metainfo_from_coco

# (K, number of skeleton links, sum of the official OKS sigmas) per MMPose configs/_base_/datasets/*.py
OFFICIAL = {
    "coco": (17, 19, 1.138),
    "coco_wholebody": (133, 65, 3.861),
    "aic": (14, 14, 0.30056174),
    "crowdpose": (14, 15, 1.15),
    "mpii": (16, 15, 1.288),
    "ap10k": (17, 17, 1.138),
}


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_lengths_sigmas_and_flip_involution(name):
    m = get_metainfo(name)
    k, n_links, sigma_sum = OFFICIAL[name]
    assert m.num_keypoints == k == len(m.sigmas) == len(m.flip_indices) == len(m.joint_weights)
    assert len(m.skeleton) == n_links
    assert m.sigmas.sum() == pytest.approx(sigma_sum, abs=1e-9)
    flip = np.array(m.flip_indices)
    assert np.array_equal(flip[flip], np.arange(k))
    # a swapped pair differs only in its side: left_x <-> right_x, L_x <-> R_x (face-N excepted)
    def side_free(n):
        return n.replace("left", "*").replace("right", "*").replace("L_", "*").replace("R_", "*")
    for i, j in enumerate(flip):
        a, b = m.keypoint_names[i], m.keypoint_names[j]
        if i != j and not a.startswith("face-"):
            assert a != b and side_free(a) == side_free(b), (a, b)
    assert not set(m.upper_body_ids) & set(m.lower_body_ids)


def test_coco_matches_fact_sheet():
    m = get_metainfo("coco")
    assert m.keypoint_names[0] == "nose" and m.keypoint_names[16] == "right_ankle"
    assert list(m.flip_indices) == [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    assert m.sigmas.tolist() == [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062,
                                 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089]
    assert list(m.joint_weights) == [1, 1, 1, 1, 1, 1, 1, 1.2, 1.2, 1.5, 1.5, 1, 1, 1.2, 1.2, 1.5, 1.5]
    assert m.upper_body_ids == tuple(range(11)) and m.lower_body_ids == tuple(range(11, 17))


def test_wholebody_extends_coco_and_mirrors_face():
    wb, coco = get_metainfo("coco_wholebody"), get_metainfo("coco")
    assert wb.keypoint_names[:17] == coco.keypoint_names
    assert np.array_equal(wb.sigmas[:17], coco.sigmas)
    face0 = wb.keypoint_names.index("face-0")
    assert wb.flip_indices[face0] == wb.keypoint_names.index("face-16")
    assert wb.flip_indices[face0 + 8] == face0 + 8                   # chin centre maps to itself
    lh = wb.keypoint_names.index("left_hand_root")
    assert wb.keypoint_names[wb.flip_indices[lh]] == "right_hand_root"
    assert np.array_equal(wb.sigmas[91:112], wb.sigmas[112:133])     # both hands share sigmas


def test_unknown_name_lists_choices():
    with pytest.raises(ValueError, match="coco_wholebody"):
        get_metainfo("cocoo")


def _coco_json(names, skeleton=((1, 2),)):
    return {"categories": [{"id": 1, "name": "thing", "keypoints": names, "skeleton": list(skeleton)}]}


def test_metainfo_from_coco_derives_pairs():
    m = metainfo_from_coco(_coco_json(["head", "left_hand", "right_hand", "L_foot", "R_foot"]),
                           sigmas=[0.05] * 5)
    assert m.flip_indices == (0, 2, 1, 4, 3)
    assert m.skeleton == ((0, 1),)                                     # 1-based in the json
    assert m.name == "thing"


def test_metainfo_from_coco_rejects_incomplete_or_asymmetric():
    with pytest.raises(ValueError, match="no flip partner 'right_hand'"):
        metainfo_from_coco(_coco_json(["head", "left_hand"]), sigmas=[0.05] * 2)
    with pytest.raises(ValueError, match="already paired"):
        metainfo_from_coco(_coco_json(["a", "b", "c"]), sigmas=[0.05] * 3, flip_pairs=[(0, 1), (1, 2)])
    with pytest.raises(ValueError, match="2 sigmas given for 3 keypoints"):
        metainfo_from_coco(_coco_json(["a", "b", "c"]), sigmas=[0.05] * 2)
    with pytest.raises(ValueError, match="no category"):
        metainfo_from_coco({"categories": []}, sigmas=[])


def test_coco_sample_categories(shared_data):
    m = metainfo_from_coco(shared_data / "coco" / "test_coco.json", sigmas=get_metainfo("coco").sigmas)
    assert m.flip_indices == get_metainfo("coco").flip_indices
    assert m.skeleton == get_metainfo("coco").skeleton
