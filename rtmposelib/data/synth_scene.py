"""A SynthPose scene: textured background, 1-5 figures and occluders, and its COCO ground truth.

Ground truth follows the COCO keypoint annotation conventions (cocodataset.org/#format-data) that
MMPose's top-down datasets and pycocotools' OKS rely on:

- ``keypoints`` (17, 3): x, y in image pixels and v = 2 visible, 1 labelled but occluded (by another
  person or an occluder drawn in front), 0 not labelled (outside the image, or the face seen from the
  back) with x = y = 0;
- ``area``: pixel count of the visible silhouette (as a COCO segmentation area); ``bbox`` (x, y, w, h)
  the bounding box of that silhouette, so always inside the image; ``num_keypoints``: count of v > 0.

Rendering writes person i's label ``i + 1`` into an id map with the same primitives as the image, and
occluders write :data:`OCCLUDER`, so visibility and areas are exact, not estimated.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from rtmposelib.data.synth_figure import (
    FACE_FRONT,
    NUM_KEYPOINTS,
    Figure,
    place_figure,
    render_figure,
    sample_colours,
    sample_pose,
)

OCCLUDER = 255                                  # id-map label of occluder pixels; 0 = background


def _grain(size: tuple[int, int]) -> np.ndarray:
    """A fixed tile of fine noise, uint8 around 128, 2 px larger than ``size`` (w, h); seeded."""
    w, h = size
    noise = np.random.default_rng(12345).normal(128, 6, (h + 2, w + 2, 1))
    return np.repeat(np.clip(noise, 0, 255).astype(np.uint8), 3, axis=2)


_GRAIN: dict[tuple[int, int], np.ndarray] = {}


def make_background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A textured background (H, W, 3) uint8 BGR: gradient, stripes, blobs or checks, plus grain.

    size: (w, h) pixels. Textures are made at low resolution and resized, which keeps this ~1 ms.
    """
    w, h = size
    kind = rng.integers(4)
    c0, c1 = rng.integers(0, 256, 3).astype(np.float32), rng.integers(0, 256, 3).astype(np.float32)
    lw, lh = 64, 48
    yy, xx = np.mgrid[0:lh, 0:lw].astype(np.float32)
    if kind == 0:                                                    # linear gradient
        a = rng.uniform(0, 2 * np.pi)
        t = (np.cos(a) * xx / lw + np.sin(a) * yy / lh)
    elif kind == 1:                                                  # stripes
        a, f = rng.uniform(0, np.pi), rng.uniform(2, 12)
        t = 0.5 + 0.5 * np.sin(2 * np.pi * f * (np.cos(a) * xx / lw + np.sin(a) * yy / lh))
    elif kind == 2:                                                  # smooth blobs
        t = cv2.GaussianBlur(rng.random((lh, lw)).astype(np.float32), (0, 0), rng.uniform(1.5, 5))
    else:                                                            # checks
        n = rng.integers(3, 12)
        t = ((xx * n // lw + yy * n // lh) % 2).astype(np.float32)
    t = (t - t.min()) / (np.ptp(t) + 1e-6)
    low = np.clip(c0 + t[..., None] * (c1 - c0) + 0.5, 0, 255).astype(np.uint8)
    img = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR if kind != 3 else cv2.INTER_NEAREST)
    if size not in _GRAIN:
        _GRAIN[size] = _grain(size)
    dy, dx = (int(v) for v in rng.integers(0, 3, 2))                  # shift the tile a little
    grain = _GRAIN[size][dy:dy + h, dx:dx + w]
    return cv2.addWeighted(img, 1.0, grain, 1.0, -128.0)             # saturating add of zero-mean grain


@dataclass(frozen=True)
class Occluder:
    """A flat shape drawn over (or under) people: ``kind`` rect | circle | polygon; image pixels."""

    kind: str
    points: np.ndarray                          # rect: 2 corners; circle: centre + (r, 0); polygon: n x 2
    colour: tuple


def sample_occluder(rng: np.random.Generator, size: tuple[int, int]) -> Occluder:
    w, h = size
    c = rng.uniform((0, 0), (w, h))
    r = rng.uniform(0.04, 0.18) * min(w, h)
    colour = tuple(int(v) for v in rng.integers(0, 256, 3))
    kind = ("rect", "circle", "polygon")[rng.integers(3)]
    if kind == "rect":
        pts = np.array([c - r * rng.uniform(0.3, 1.5, 2), c + r * rng.uniform(0.3, 1.5, 2)])
    elif kind == "circle":
        pts = np.array([c, (r, 0.0)])
    else:
        ang = np.sort(rng.uniform(0, 2 * np.pi, rng.integers(3, 7)))
        pts = c + r * rng.uniform(0.5, 1.5, (len(ang), 1)) * np.stack([np.cos(ang), np.sin(ang)], 1)
    return Occluder(kind, pts, colour)


def render_occluder(image: np.ndarray, id_map: np.ndarray, occ: Occluder) -> None:
    """Draw ``occ`` into image and write :data:`OCCLUDER` on its pixels in id_map."""
    for target, colour in ((image, occ.colour), (id_map, OCCLUDER)):
        if occ.kind == "rect":
            (x0, y0), (x1, y1) = np.round(occ.points).astype(int)
            cv2.rectangle(target, (x0, y0), (x1, y1), colour, -1)
        elif occ.kind == "circle":
            cv2.circle(target, tuple(int(v) for v in np.round(occ.points[0])), int(occ.points[1, 0]), colour, -1)
        else:
            cv2.fillPoly(target, [np.round(occ.points).astype(np.int32)], colour)


def sample_figures(rng: np.random.Generator, size: tuple[int, int], n_people: int) -> list[Figure]:
    """``n_people`` random figures; about half of them are placed next to a previous one to overlap."""
    w, h = size
    figs: list[Figure] = []
    for _ in range(n_people):
        height = float(np.exp(rng.uniform(np.log(0.2 * h), np.log(1.0 * h))))
        if figs and rng.random() < 0.5:                              # crowd: near another figure
            other = figs[rng.integers(len(figs))]
            pelvis = other.pelvis + rng.normal(0, 0.25, 2) * max(height, other.height)
        else:
            pelvis = rng.uniform((0.05 * w, 0.15 * h), (0.95 * w, 0.95 * h))
        angle = rng.normal(0, 8) if rng.random() < 0.85 else rng.uniform(-120, 120)
        figs.append(place_figure(sample_pose(rng), pelvis=tuple(pelvis), height=height, angle=angle,
                                 colours=sample_colours(rng)))
    return figs


def render_scene(background: np.ndarray, layers: list) -> tuple[np.ndarray, np.ndarray]:
    """Paint ``layers`` back to front: a :class:`Figure` at list position i gets label i + 1 in the id map.

    Returns the image (H, W, 3) uint8 BGR and the id map (H, W) uint8 (0 background).
    """
    image = background.copy()
    id_map = np.zeros(image.shape[:2], np.uint8)
    for label, layer in enumerate(layers, start=1):
        if isinstance(layer, Figure):
            render_figure(image, id_map, layer, label)
        else:
            render_occluder(image, id_map, layer)
    return image, id_map


def annotate(layers: list, id_map: np.ndarray) -> list[dict | None]:
    """COCO ground truth for each layer (None for occluders and for figures with no visible pixel).

    Each dict: ``keypoints`` (17, 3) float64, ``bbox`` [x, y, w, h] (visible silhouette), ``area``
    (visible pixel count), ``num_keypoints``, ``label`` (the figure's id-map value).
    """
    h, w = id_map.shape
    counts = cv2.calcHist([id_map], [0], None, [256], [0, 256]).ravel().astype(np.int64)   # pixels per label
    out: list[dict | None] = []
    for label, layer in enumerate(layers, start=1):
        if not isinstance(layer, Figure) or counts[label] == 0:
            out.append(None)
            continue
        kps = np.zeros((NUM_KEYPOINTS, 3))
        for k, (x, y) in enumerate(layer.keypoints):
            if not (0 <= x < w and 0 <= y < h) or (layer.facing < 0 and k in FACE_FRONT):
                continue                                              # v = 0, x = y = 0
            own = id_map[int(y), int(x)] == label
            kps[k] = (x, y, 2 if own else 1)
        # OpenCV's stubs type src2 as an array; the binding also takes a scalar, as here
        x0, y0, bw, bh = cv2.boundingRect(cv2.compare(id_map, label, cv2.CMP_EQ))  # type: ignore[call-overload]
        out.append({"keypoints": kps, "bbox": [float(x0), float(y0), float(bw), float(bh)],
                    "area": float(counts[label]), "num_keypoints": int((kps[:, 2] > 0).sum()),
                    "label": label})
    return out


def sample_scene(rng: np.random.Generator, size: tuple[int, int] = (640, 480), *,
                 max_people: int = 5) -> tuple[np.ndarray, list[dict], int]:
    """One random scene: the image (H, W, 3) uint8 BGR, the ground truth of its visible people, and the
    number of figures left without annotation because they are completely hidden.

    1..max_people figures and 0..3 occluders are painted in a random depth order.
    """
    background = make_background(rng, size)
    layers: list = sample_figures(rng, size, int(rng.integers(1, max_people + 1)))
    for _ in range(int(rng.choice(4, p=[0.3, 0.35, 0.25, 0.1]))):
        layers.insert(int(rng.integers(len(layers) + 1)), sample_occluder(rng, size))
    image, id_map = render_scene(background, layers)
    gt = annotate(layers, id_map)
    people = [a for a in gt if a is not None]
    hidden = sum(1 for a, layer in zip(gt, layers) if a is None and isinstance(layer, Figure))
    return image, people, hidden
