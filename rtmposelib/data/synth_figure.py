"""The SynthPose figure: an articulated 2-D human with joint limits, rendered with OpenCV.

SynthPose needs people whose 17 COCO keypoints (COCO order: nose, eyes,
ears, shoulders, elbows, wrists, hips, knees, ankles) are exactly known and learnable. A figure is a
kinematic tree in a *body frame* (x to the image right for a figure facing the camera, y down, unit =
figure height): a pelvis, a torso that leans, a head that tilts, and two-segment limbs whose joint
angles stay inside plausible limits. Out-of-plane motion is imitated by foreshortening segments.

Left and right are learnable in two ways: the geometry with the facing direction (a figure facing the
camera shows its left side on the image right and has a face; one seen from the back has no face and
shows its left on the image left), and shading (the figure's left side is drawn lighter, its right
side darker). Shading is *not* flip-invariant; the facing cue is, as in real images.

Rendering draws the figure into a BGR image and, with the same primitives, its label into an id map,
so that silhouettes, areas and occlusion are exact.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

NOSE, L_EYE, R_EYE, L_EAR, R_EAR = 0, 1, 2, 3, 4
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 5, 6, 7, 8, 9, 10
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 11, 12, 13, 14, 15, 16
NUM_KEYPOINTS = 17
FACE_FRONT = (NOSE, L_EYE, R_EYE)            # keypoints only seen when the figure faces the camera

# Joint limits in degrees. Limb angles are measured from "hanging straight down", positive outwards
# (away from the body's midline); flexion bends the distal segment back towards the midline.
LIMITS = {
    "lean": (-25.0, 25.0), "neck": (-30.0, 30.0),
    "shoulder": (-15.0, 175.0), "elbow": (0.0, 150.0),
    "hip": (-15.0, 45.0), "knee": (-40.0, 40.0),
}
# Segment lengths and widths as fractions of the figure height.
TORSO, NECK_TO_HEAD, HEAD_RADIUS = 0.30, 0.11, 0.065
UPPER_ARM, FOREARM, THIGH, SHIN = 0.17, 0.15, 0.25, 0.25
WIDTH = {"upper_arm": 0.055, "forearm": 0.045, "thigh": 0.075, "shin": 0.06, "neck": 0.05}


@dataclass(frozen=True)
class Pose:
    """Joint angles (degrees) and shape of one figure; pairs are (left, right)."""

    lean: float = 0.0
    neck: float = 0.0
    head_yaw: float = 0.0                       # -1..1, shifts the face towards the image left / right
    facing: int = 1                             # +1 facing the camera, -1 seen from the back
    shoulder: tuple[float, float] = (10.0, 10.0)
    elbow: tuple[float, float] = (10.0, 10.0)
    hip: tuple[float, float] = (5.0, 5.0)
    knee: tuple[float, float] = (0.0, 0.0)
    arm_scale: tuple[float, float] = (1.0, 1.0)   # foreshortening of the whole arm, 0.55..1
    leg_scale: tuple[float, float] = (1.0, 1.0)
    shoulder_width: float = 0.22
    hip_width: float = 0.16

    def clipped(self) -> Pose:
        """The same pose with every angle inside :data:`LIMITS`."""
        def clip(v, name):
            lo, hi = LIMITS[name]
            return tuple(float(np.clip(x, lo, hi)) for x in v) if isinstance(v, tuple) else float(np.clip(v, lo, hi))
        return Pose(clip(self.lean, "lean"), clip(self.neck, "neck"), float(np.clip(self.head_yaw, -1, 1)),
                    self.facing, clip(self.shoulder, "shoulder"), clip(self.elbow, "elbow"),
                    clip(self.hip, "hip"), clip(self.knee, "knee"), self.arm_scale, self.leg_scale,
                    self.shoulder_width, self.hip_width)


def sample_pose(rng: np.random.Generator) -> Pose:
    """A random pose: half relaxed (arms and legs near rest), half anywhere inside the joint limits."""
    def pair(relaxed, lo, hi):
        return tuple(float(rng.normal(*relaxed)) if rng.random() < 0.5 else float(rng.uniform(lo, hi))
                     for _ in range(2))
    def scale():
        return tuple(float(np.clip(1 - abs(rng.normal(0, 0.15)), 0.55, 1.0)) for _ in range(2))
    return Pose(lean=rng.normal(0, 7), neck=rng.normal(0, 10), head_yaw=rng.uniform(-0.6, 0.6),
                facing=1 if rng.random() < 0.8 else -1,
                shoulder=pair((15, 12), -15, 175), elbow=pair((15, 12), 0, 150),
                hip=pair((6, 5), -15, 45), knee=pair((0, 8), -40, 40),
                arm_scale=scale(), leg_scale=scale(),
                shoulder_width=rng.uniform(0.19, 0.25), hip_width=rng.uniform(0.13, 0.18)).clipped()


def _limb_dir(angle_deg: float, outward: float) -> np.ndarray:
    """Unit vector of a limb at ``angle`` from straight down, turned towards x-sign ``outward``."""
    a = np.deg2rad(angle_deg)
    return np.array([outward * np.sin(a), np.cos(a)])


def _rot(deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def body_keypoints(pose: Pose) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forward kinematics in the body frame (pelvis at 0, y down, unit = figure height).

    Returns keypoints (17, 2), the neck point (2,) and the head centre (2,).
    """
    kp = np.zeros((NUM_KEYPOINTS, 2))
    s = float(pose.facing)                                  # x-sign of the figure's left side
    upper = _rot(pose.lean)                                 # the upper body turns about the pelvis
    neck = upper @ np.array([0.0, -TORSO])
    for i, side in enumerate((s, -s)):                      # (left, right)
        sh = upper @ np.array([side * pose.shoulder_width / 2, -TORSO + 0.015])
        elbow = sh + UPPER_ARM * pose.arm_scale[i] * (upper @ _limb_dir(pose.shoulder[i], side))
        wrist = elbow + FOREARM * pose.arm_scale[i] * (upper @ _limb_dir(pose.shoulder[i] - pose.elbow[i], side))
        hip = np.array([side * pose.hip_width / 2, 0.0])
        knee = hip + THIGH * pose.leg_scale[i] * _limb_dir(pose.hip[i], side)
        ankle = knee + SHIN * pose.leg_scale[i] * _limb_dir(pose.hip[i] + pose.knee[i], side)
        kp[[L_SHOULDER + i, L_ELBOW + i, L_WRIST + i, L_HIP + i, L_KNEE + i, L_ANKLE + i]] = \
            sh, elbow, wrist, hip, knee, ankle
    head_rot = _rot(pose.lean + pose.neck)
    head = neck + head_rot @ np.array([0.0, -NECK_TO_HEAD])
    yaw = pose.head_yaw
    face = {NOSE: (0.035 * yaw, 0.012), L_EYE: (s * 0.024 + 0.02 * yaw, -0.012),
            R_EYE: (-s * 0.024 + 0.02 * yaw, -0.012),
            L_EAR: (s * 0.062 + 0.01 * yaw, 0.0), R_EAR: (-s * 0.062 + 0.01 * yaw, 0.0)}
    for k, offset in face.items():
        kp[k] = head + head_rot @ np.array(offset)
    return kp, neck, head


@dataclass(frozen=True)
class Figure:
    """A posed figure placed in an image. Points are image pixels (x, y)."""

    keypoints: np.ndarray                   # (17, 2) float64, image px
    neck: np.ndarray                        # (2,)
    head: np.ndarray                        # (2,) head centre
    pelvis: np.ndarray                      # (2,)
    height: float                           # figure height, px
    angle: float                            # in-plane rotation of the whole figure, degrees
    facing: int
    colours: dict                           # part -> BGR tuple of ints


def sample_colours(rng: np.random.Generator) -> dict:
    """Clothing, skin and hair colours (BGR). Shirt and trousers are random hues."""
    def hsv(h, s, v):
        return tuple(int(c) for c in cv2.cvtColor(np.uint8([[[h, s, v]]]), cv2.COLOR_HSV2BGR)[0, 0])
    skin = [(60, 90, 140), (90, 140, 200), (120, 170, 225), (40, 60, 100), (150, 190, 235)]
    return {"shirt": hsv(rng.integers(0, 180), rng.integers(80, 256), rng.integers(90, 230)),
            "trousers": hsv(rng.integers(0, 180), rng.integers(40, 256), rng.integers(50, 200)),
            "skin": skin[rng.integers(len(skin))],
            "hair": hsv(rng.integers(0, 30), rng.integers(40, 200), rng.integers(10, 90))}


def place_figure(pose: Pose, *, pelvis: tuple[float, float], height: float, angle: float = 0.0,
                 colours: dict) -> Figure:
    """Pose -> image: scale the body frame by ``height`` px, rotate by ``angle`` deg, put the pelvis."""
    kp, neck, head = body_keypoints(pose)
    m = height * _rot(angle)
    t = np.asarray(pelvis, dtype=np.float64)
    return Figure(keypoints=kp @ m.T + t, neck=m @ neck + t, head=m @ head + t, pelvis=t,
                  height=float(height), angle=float(angle), facing=pose.facing, colours=colours)


def shade(colour, side: int) -> tuple:
    """The figure's left side (side 0) is lighter, its right side (side 1) darker."""
    if side == 0:
        return tuple(min(255, int(c * 0.6 + 100)) for c in colour)
    return tuple(int(c * 0.55) for c in colour)


_SHIFT = 4                                    # sub-pixel precision of cv2 drawing: 1/16 px


def _p(pt) -> tuple[int, int]:
    x, y = float(pt[0]), float(pt[1])
    return int(np.floor(x * 16 + 0.5)), int(np.floor(y * 16 + 0.5))


def render_figure(image: np.ndarray, id_map: np.ndarray, fig: Figure, label: int) -> None:
    """Draw ``fig`` into ``image`` (H, W, 3) uint8 BGR and write ``label`` on its pixels in ``id_map``."""
    kp, h, col = fig.keypoints, fig.height, fig.colours

    def seg(a, b, width, colour):
        t = max(1, int(round(width * h)))
        cv2.line(image, _p(a), _p(b), colour, t, cv2.LINE_AA, _SHIFT)
        cv2.line(id_map, _p(a), _p(b), label, t, cv2.LINE_8, _SHIFT)

    def disc(c, radius, colour):
        r = max(1, int(round(radius * h * 16)))
        cv2.circle(image, _p(c), r, colour, -1, cv2.LINE_AA, _SHIFT)
        cv2.circle(id_map, _p(c), r, label, -1, cv2.LINE_8, _SHIFT)

    def poly(pts, colour):
        pts = np.array([_p(q) for q in pts], np.int32)
        cv2.fillConvexPoly(image, pts, colour, cv2.LINE_AA, _SHIFT)
        cv2.fillConvexPoly(id_map, pts, label, cv2.LINE_8, _SHIFT)

    for i in (0, 1):                                              # legs, feet
        seg(kp[L_HIP + i], kp[L_KNEE + i], WIDTH["thigh"], shade(col["trousers"], i))
        seg(kp[L_KNEE + i], kp[L_ANKLE + i], WIDTH["shin"], shade(col["trousers"], i))
        disc(kp[L_ANKLE + i], 0.035, shade((40, 40, 40), i))
    mid_sh, mid_hip = kp[[L_SHOULDER, R_SHOULDER]].mean(0), fig.pelvis
    for i in (0, 1):                                              # torso halves
        poly([kp[L_SHOULDER + i], mid_sh, mid_hip, kp[L_HIP + i]], shade(col["shirt"], i))
        disc(kp[L_SHOULDER + i], WIDTH["upper_arm"] / 2, shade(col["shirt"], i))
    seg(fig.neck, fig.head, WIDTH["neck"], col["skin"])
    _render_head(image, id_map, fig, label, disc)
    for i in (0, 1):                                              # arms over the torso
        seg(kp[L_SHOULDER + i], kp[L_ELBOW + i], WIDTH["upper_arm"], shade(col["shirt"], i))
        seg(kp[L_ELBOW + i], kp[L_WRIST + i], WIDTH["forearm"], shade(col["skin"], i))
        disc(kp[L_WRIST + i], 0.028, shade(col["skin"], i))


def _render_head(image, id_map, fig: Figure, label: int, disc) -> None:
    """Head disc, ears (shaded by side), and for a figure facing the camera eyes, nose and mouth."""
    kp, h, col = fig.keypoints, fig.height, fig.colours
    for i in (0, 1):
        disc(kp[L_EAR + i], 0.018, shade(col["skin"], i))
    disc(fig.head, HEAD_RADIUS, col["skin"] if fig.facing > 0 else col["hair"])
    if fig.facing < 0:
        return
    up = fig.head - fig.neck
    up = up / (np.linalg.norm(up) + 1e-9)
    cv2.ellipse(image, _p(fig.head + up * HEAD_RADIUS * h * 0.55), (int(HEAD_RADIUS * h * 16),
                int(HEAD_RADIUS * h * 8)), float(np.degrees(np.arctan2(up[1], up[0])) + 90), 180, 360,
                col["hair"], -1, cv2.LINE_AA, _SHIFT)                       # hair cap, inside the head
    eye_r = max(1, int(round(0.011 * h * 16)))
    cv2.circle(image, _p(kp[L_EYE]), eye_r, (235, 235, 235), -1, cv2.LINE_AA, _SHIFT)   # left: white
    cv2.circle(image, _p(kp[R_EYE]), eye_r, (30, 30, 30), -1, cv2.LINE_AA, _SHIFT)      # right: dark
    cv2.circle(image, _p(kp[NOSE]), max(1, eye_r // 2 + 8), (40, 40, 200), -1, cv2.LINE_AA, _SHIFT)
    mouth = kp[NOSE] - up * 0.025 * h
    cv2.circle(image, _p(mouth), max(1, eye_r // 2), (60, 30, 120), -1, cv2.LINE_AA, _SHIFT)
