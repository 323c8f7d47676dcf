"""Drawing poses: skeleton links coloured by body side, keypoints and person boxes.

Follows the look of MMPose's ``PoseLocalVisualizer`` for top-down results: a link is drawn when both
of its keypoints score above ``kpt_thr``; links and points of the person's left side are green, of the
right side orange, of the centre blue (the COCO metainfo's ``link_color`` / ``kpt_color`` groups). The
side of a keypoint comes from its name ("left_..." / "right_..."), so any :class:`MetaInfo` works; a
bare skeleton (list of index pairs) is drawn in the centre colour.
"""
from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

# BGR. MMPose's COCO colours: left (0, 255, 0), right (255, 128, 0), centre (51, 153, 255) in RGB.
SIDE_COLOURS = {"left": (0, 255, 0), "right": (0, 128, 255), "centre": (255, 153, 51)}
BOX_COLOUR = (0, 255, 255)


def keypoint_sides(names: Sequence[str]) -> list[str]:
    """"left" / "right" / "centre" for each keypoint name (case-insensitive prefix or infix)."""
    sides = []
    for n in names:
        low = n.lower()
        if low.startswith(("left", "l_")) or "_left" in low:
            sides.append("left")
        elif low.startswith(("right", "r_")) or "_right" in low:
            sides.append("right")
        else:
            sides.append("centre")
    return sides


def _skeleton_and_sides(metainfo_or_skeleton, k: int) -> tuple[list[tuple[int, ...]], list[str]]:
    if hasattr(metainfo_or_skeleton, "skeleton"):
        names = list(metainfo_or_skeleton.keypoint_names)
        if len(names) != k:
            raise ValueError(f"draw_poses: keypoints have K={k} but metainfo {metainfo_or_skeleton.name!r} "
                             f"has {len(names)} keypoints")
        return [tuple(link) for link in metainfo_or_skeleton.skeleton], keypoint_sides(names)
    skeleton = [tuple(int(i) for i in link) for link in metainfo_or_skeleton]
    for link in skeleton:
        if len(link) != 2 or not all(0 <= i < k for i in link):
            raise ValueError(f"draw_poses: skeleton link {link} is not a pair of indices in 0..{k - 1}")
    return skeleton, ["centre"] * k


def draw_poses(image: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, metainfo_or_skeleton, *,
               boxes: np.ndarray | None = None, kpt_thr: float = 0.3, radius: int | None = None,
               thickness: int | None = None) -> np.ndarray:
    """Draw N poses on a copy of ``image`` and return it.

    image: (H, W, 3) uint8 BGR. keypoints: (N, K, 2) image px. scores: (N, K), a keypoint (and a link)
    is drawn when its score > kpt_thr. metainfo_or_skeleton: a MetaInfo (links coloured by side) or
    a list of 0-based (i, j) index pairs. boxes: optional (N, 4) xyxy image px.
    radius / thickness default to sizes that grow with the image.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"draw_poses: image must be (H, W, 3) uint8, got {image.shape} {image.dtype}")
    kps = np.asarray(keypoints, dtype=np.float64).reshape(-1, *np.shape(keypoints)[-2:])
    if kps.shape[-1] != 2:
        raise ValueError(f"draw_poses: keypoints must be (N, K, 2), got {np.shape(keypoints)}")
    n, k = kps.shape[:2]
    sc = np.asarray(scores, dtype=np.float64).reshape(n, -1) if n else np.zeros((0, k))
    if sc.shape != (n, k):
        raise ValueError(f"draw_poses: scores must be (N, K) = {(n, k)}, got {np.shape(scores)}")
    skeleton, sides = _skeleton_and_sides(metainfo_or_skeleton, k)
    scale = max(image.shape[:2]) / 640
    radius = radius or max(1, int(round(3 * scale)))
    thickness = thickness or max(1, int(round(2 * scale)))
    out = image.copy()
    if boxes is not None:
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if len(b) != n:
            raise ValueError(f"draw_poses: {len(b)} boxes for {n} poses")
        for x0, y0, x1, y1 in b:
            cv2.rectangle(out, (int(round(x0)), int(round(y0))), (int(round(x1)), int(round(y1))),
                          BOX_COLOUR, thickness, cv2.LINE_8)
    shown = (sc > kpt_thr) & np.isfinite(kps).all(-1)
    for p in range(n):
        pts = [(int(round(x)), int(round(y))) for x, y in np.nan_to_num(kps[p])]
        for a, b_ in skeleton:
            if shown[p, a] and shown[p, b_]:
                side = sides[a] if sides[a] == sides[b_] else "centre"
                cv2.line(out, pts[a], pts[b_], SIDE_COLOURS[side], thickness, cv2.LINE_AA)
        for i in np.flatnonzero(shown[p]):
            cv2.circle(out, pts[i], radius, SIDE_COLOURS[sides[i]], -1, cv2.LINE_AA)
    return out
