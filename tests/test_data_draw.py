"""draw_poses: side colours from the metainfo, score threshold, boxes, argument checks."""
from __future__ import annotations

import numpy as np
import pytest

from rtmposelib.data.draw import BOX_COLOUR, SIDE_COLOURS, draw_poses, keypoint_sides
from rtmposelib.data.metainfo import get_metainfo

COCO = get_metainfo("coco")


def _pose() -> np.ndarray:
    """A rough upright person in a 200 x 200 image: (1, 17, 2)."""
    kp = np.array([[100, 30], [105, 25], [95, 25], [112, 28], [88, 28], [125, 60], [75, 60], [140, 90],
                   [60, 90], [150, 120], [50, 120], [115, 120], [85, 120], [120, 155], [80, 155],
                   [122, 190], [78, 190]], dtype=np.float64)
    return kp[None]


def test_keypoint_sides_from_names():
    sides = keypoint_sides(COCO.keypoint_names)
    assert sides[0] == "centre" and sides[5] == "left" and sides[6] == "right"
    assert keypoint_sides(["L_Knee", "r_hip", "head_top", "hand_left"]) == ["left", "right", "centre", "left"]


def test_links_coloured_by_side_and_input_untouched():
    image = np.zeros((200, 200, 3), np.uint8)
    kp = _pose()
    out = draw_poses(image, kp, np.ones((1, 17)), COCO, radius=1, thickness=3)
    assert image.max() == 0                                    # a copy is drawn on
    mid_left = ((kp[0, 13] + kp[0, 15]) / 2).round().astype(int)      # left knee - left ankle
    mid_right = ((kp[0, 14] + kp[0, 16]) / 2).round().astype(int)
    mid_centre = ((kp[0, 11] + kp[0, 12]) / 2).round().astype(int)    # left hip - right hip
    assert tuple(out[mid_left[1], mid_left[0]]) == SIDE_COLOURS["left"]
    assert tuple(out[mid_right[1], mid_right[0]]) == SIDE_COLOURS["right"]
    assert tuple(out[mid_centre[1], mid_centre[0]]) == SIDE_COLOURS["centre"]


def test_low_scores_hide_points_and_links():
    scores = np.ones((1, 17))
    scores[0, 15] = 0.1                                        # left ankle below kpt_thr
    kp = _pose()
    out = draw_poses(np.zeros((200, 200, 3), np.uint8), kp, scores, COCO, radius=1, thickness=1)
    mid = ((kp[0, 13] + kp[0, 15]) / 2).round().astype(int)
    assert out[mid[1], mid[0]].max() == 0
    x, y = kp[0, 15].astype(int)
    assert out[y, x].max() == 0
    x, y = kp[0, 13].astype(int)
    assert out[y, x].max() > 0


def test_boxes_and_bare_skeleton():
    out = draw_poses(np.zeros((200, 200, 3), np.uint8), _pose(), np.ones((1, 17)), [(5, 7)],
                     boxes=np.array([[10, 10, 190, 195]]), thickness=3)
    assert tuple(out[10, 100]) == BOX_COLOUR and tuple(out[100, 190]) == BOX_COLOUR
    mid = ((_pose()[0, 5] + _pose()[0, 7]) / 2).round().astype(int)
    assert tuple(out[mid[1], mid[0]]) == SIDE_COLOURS["centre"]


def test_empty_and_bad_arguments():
    img = np.zeros((50, 50, 3), np.uint8)
    assert np.array_equal(draw_poses(img, np.zeros((0, 17, 2)), np.zeros((0, 17)), COCO), img)
    with pytest.raises(ValueError, match="K=5"):
        draw_poses(img, np.zeros((1, 5, 2)), np.ones((1, 5)), COCO)
    with pytest.raises(ValueError, match="scores"):
        draw_poses(img, np.zeros((1, 17, 2)), np.ones((1, 16)), COCO)
    with pytest.raises(ValueError, match="boxes"):
        draw_poses(img, np.zeros((1, 17, 2)), np.ones((1, 17)), COCO, boxes=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="skeleton link"):
        draw_poses(img, np.zeros((1, 17, 2)), np.ones((1, 17)), [(0, 17)])
    with pytest.raises(ValueError, match="uint8"):
        draw_poses(img.astype(np.float32), np.zeros((1, 17, 2)), np.ones((1, 17)), COCO)
