"""SynthPose scenes: visibility from a constructed occlusion, out-of-image keypoints, area and bbox."""
from __future__ import annotations

import numpy as np

from rtmposelib.data import synth_figure as sf
from rtmposelib.data.synth_scene import OCCLUDER, Occluder, annotate, make_background, render_scene, sample_scene

SIZE = (320, 240)


def _figure(pelvis, height=150.0, facing=1):
    pose = sf.Pose(shoulder=(45.0, 45.0), elbow=(0.0, 0.0), facing=facing)
    return sf.place_figure(pose, pelvis=pelvis, height=height, colours=sf.sample_colours(np.random.default_rng(0)))


def test_occluder_and_image_border_set_visibility():
    a = _figure((100, 120))
    lw = a.keypoints[sf.L_WRIST]
    patch = Occluder("rect", np.array([lw - 8, lw + 8]), (10, 200, 10))    # covers only A's left wrist
    b = _figure((310, 200), facing=-1)                                       # half outside, from behind
    hidden = _figure((250, 60), height=40)
    cover = Occluder("rect", np.array([[200, 0], [300, 120]]), (200, 10, 10))
    layers = [a, patch, b, hidden, cover]
    image, id_map = render_scene(np.zeros((SIZE[1], SIZE[0], 3), np.uint8), layers)
    gt = annotate(layers, id_map)
    assert gt[1] is None and gt[3] is None and gt[4] is None        # occluders; a fully covered figure
    ka = gt[0]["keypoints"]
    assert ka[sf.L_WRIST, 2] == 1 and ka[sf.R_WRIST, 2] == 2
    np.testing.assert_allclose(ka[sf.L_WRIST, :2], lw)              # occluded points keep their position
    assert (ka[:, 2] == 2).sum() == 16 and gt[0]["num_keypoints"] == 17
    kb = gt[2]["keypoints"]
    outside = b.keypoints[:, 0] >= SIZE[0]
    assert outside.any() and (kb[outside] == 0).all()               # outside the image: v = 0 at (0, 0)
    assert (kb[list(sf.FACE_FRONT)] == 0).all()                      # face not labelled from the back
    assert gt[2]["num_keypoints"] == int((kb[:, 2] > 0).sum())
    # area and bbox are those of the visible silhouette
    ys, xs = np.nonzero(id_map == 1)
    assert gt[0]["area"] == len(xs)
    assert gt[0]["bbox"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
    assert (id_map == OCCLUDER).any() and image[int(lw[1]), int(lw[0])].tolist() == [10, 200, 10]


def test_random_scenes_are_valid_coco_ground_truth():
    for i in range(20):
        image, people, hidden = sample_scene(np.random.default_rng([5, i]), SIZE)
        assert image.shape == (SIZE[1], SIZE[0], 3) and image.dtype == np.uint8
        assert 1 <= len(people) + hidden <= 5
        for p in people:
            k = p["keypoints"]
            assert k.shape == (17, 3) and set(np.unique(k[:, 2])) <= {0, 1, 2}
            assert (k[k[:, 2] == 0, :2] == 0).all()
            vis = k[k[:, 2] > 0]
            assert ((vis[:, 0] >= 0) & (vis[:, 0] < SIZE[0]) & (vis[:, 1] >= 0) & (vis[:, 1] < SIZE[1])).all()
            x, y, w, h = p["bbox"]
            assert p["area"] > 0 and w > 0 and h > 0 and x + w <= SIZE[0] and y + h <= SIZE[1]
            assert p["area"] <= w * h


def test_background_is_deterministic_and_textured():
    a = make_background(np.random.default_rng(1), SIZE)
    b = make_background(np.random.default_rng(1), SIZE)
    assert np.array_equal(a, b) and a.shape == (240, 320, 3) and a.std() > 2
