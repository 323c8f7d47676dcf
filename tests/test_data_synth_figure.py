"""SynthPose figure: kinematics by hand, joint limits, facing, and left/right shading in the pixels."""
from __future__ import annotations

import numpy as np

from rtmposelib.data import synth_figure as sf


def test_rest_pose_kinematics_by_hand():
    pose = sf.Pose(shoulder=(0.0, 0.0), elbow=(0.0, 0.0), hip=(0.0, 0.0), knee=(0.0, 0.0),
                   shoulder_width=0.2, hip_width=0.16)
    kp, neck, head = sf.body_keypoints(pose)
    # facing the camera: the figure's left is on the image right (+x); limbs hang straight down
    np.testing.assert_allclose(kp[sf.L_SHOULDER], [0.1, -sf.TORSO + 0.015])
    np.testing.assert_allclose(kp[sf.R_WRIST], [-0.1, -sf.TORSO + 0.015 + sf.UPPER_ARM + sf.FOREARM])
    np.testing.assert_allclose(kp[sf.L_ANKLE], [0.08, sf.THIGH + sf.SHIN])
    np.testing.assert_allclose(neck, [0, -sf.TORSO])
    np.testing.assert_allclose(head, [0, -sf.TORSO - sf.NECK_TO_HEAD])
    back, _, _ = sf.body_keypoints(sf.Pose(facing=-1))
    front, _, _ = sf.body_keypoints(sf.Pose(facing=1))
    assert back[sf.L_SHOULDER, 0] < 0 < front[sf.L_SHOULDER, 0]


def test_raised_arm_and_bent_elbow():
    pose = sf.Pose(shoulder=(90.0, 0.0), elbow=(90.0, 0.0), arm_scale=(0.5, 1.0))
    kp, _, _ = sf.body_keypoints(pose)
    upper = kp[sf.L_ELBOW] - kp[sf.L_SHOULDER]
    fore = kp[sf.L_WRIST] - kp[sf.L_ELBOW]
    np.testing.assert_allclose(upper, [0.5 * sf.UPPER_ARM, 0], atol=1e-12)     # horizontal, outwards
    np.testing.assert_allclose(fore, [0, 0.5 * sf.FOREARM], atol=1e-12)       # flexed 90 deg: down


def test_sampled_poses_respect_joint_limits_and_segment_lengths():
    rng = np.random.default_rng(0)
    for _ in range(300):
        p = sf.sample_pose(rng)
        for name in ("shoulder", "elbow", "hip", "knee"):
            lo, hi = sf.LIMITS[name]
            assert all(lo <= a <= hi for a in getattr(p, name))
        assert sf.LIMITS["lean"][0] <= p.lean <= sf.LIMITS["lean"][1]
        kp, _, _ = sf.body_keypoints(p)
        for i in (0, 1):
            thigh = np.linalg.norm(kp[sf.L_KNEE + i] - kp[sf.L_HIP + i])
            assert np.isclose(thigh, sf.THIGH * p.leg_scale[i])
            assert 0.55 <= p.arm_scale[i] <= 1.0


def test_place_figure_scales_rotates_translates():
    pose = sf.sample_pose(np.random.default_rng(1))
    body, _, _ = sf.body_keypoints(pose)
    fig = sf.place_figure(pose, pelvis=(300, 200), height=250, angle=90, colours={})
    # +90 degrees maps body (x, y) to image (-y, x) around the pelvis
    expected = np.stack([-body[:, 1], body[:, 0]], 1) * 250 + [300, 200]
    np.testing.assert_allclose(fig.keypoints, expected, atol=1e-9)


def test_left_is_lighter_than_right_in_the_rendering():
    rng = np.random.default_rng(3)
    for facing in (1, -1):
        pose = sf.Pose(shoulder=(30.0, 30.0), elbow=(0.0, 0.0), facing=facing)
        fig = sf.place_figure(pose, pelvis=(200, 220), height=300, colours=sf.sample_colours(rng))
        image = np.zeros((440, 400, 3), np.uint8)
        id_map = np.zeros((440, 400), np.uint8)
        sf.render_figure(image, id_map, fig, 7)
        for left, right in ((sf.L_WRIST, sf.R_WRIST), (sf.L_KNEE, sf.R_KNEE), (sf.L_SHOULDER, sf.R_SHOULDER)):
            (lx, ly), (rx, ry) = fig.keypoints[left].astype(int), fig.keypoints[right].astype(int)
            assert id_map[ly, lx] == 7 and id_map[ry, rx] == 7
            cl, cr = image[ly, lx].astype(int), image[ry, rx].astype(int)
            assert np.abs(cl - cr).sum() > 60 and cl.sum() > cr.sum()
