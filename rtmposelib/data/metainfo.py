"""Dataset metainfo: keypoint names, flip pairs, OKS sigmas, skeleton and half-body groups.

Values match MMPose's ``configs/_base_/datasets/{coco,coco_wholebody,aic,crowdpose,mpii,ap10k}.py``
(docs/official-behaviour.md "Keypoint metainfo" for COCO): keypoint order, the ``swap`` partner of each keypoint (flip
pairs), the
``type`` field ("upper" / "lower", used by RandomHalfBody), ``joint_weights`` and the OKS
``sigmas``. Custom sets get their metainfo from a COCO json's category with :func:`metainfo_from_coco`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, eq=False)
class MetaInfo:
    """Everything about a keypoint set that is not an image or an annotation.

    ``flip_indices[k]`` is the keypoint that k becomes under a horizontal flip (an involution);
    ``skeleton`` holds 0-based index pairs; ``sigmas`` (K,) float64 are the COCO OKS sigmas.
    """

    name: str
    keypoint_names: tuple[str, ...]
    flip_indices: tuple[int, ...]
    sigmas: np.ndarray
    skeleton: tuple[tuple[int, int], ...]
    upper_body_ids: tuple[int, ...]
    lower_body_ids: tuple[int, ...]
    joint_weights: tuple[float, ...]

    @property
    def num_keypoints(self) -> int:
        return len(self.keypoint_names)

    def __post_init__(self) -> None:
        k = len(self.keypoint_names)
        sizes = {"flip_indices": len(self.flip_indices), "sigmas": len(self.sigmas),
                 "joint_weights": len(self.joint_weights)}
        for field_name, n in sizes.items():
            if n != k:
                raise ValueError(f"metainfo {self.name!r}: {field_name} has {n} entries, expected {k}")
        flip = np.asarray(self.flip_indices)
        if flip.min() < 0 or flip.max() >= k or not np.array_equal(flip[flip], np.arange(k)):
            raise ValueError(f"metainfo {self.name!r}: flip_indices is not an involution of 0..{k - 1}")
        for a, b in self.skeleton:
            if not (0 <= a < k and 0 <= b < k):
                raise ValueError(f"metainfo {self.name!r}: skeleton link {(a, b)} out of range 0..{k - 1}")
        object.__setattr__(self, "sigmas", np.asarray(self.sigmas, dtype=np.float64))


def _build(name: str, names: list[str], swaps: dict[str, str], sigmas: list[float],
           links: list[tuple[str, str]], upper: list[str], lower: list[str],
           joint_weights: list[float] | None = None) -> MetaInfo:
    """Assemble a MetaInfo from names; ``swaps`` lists each left/right pair once."""
    index = {n: i for i, n in enumerate(names)}
    flip = list(range(len(names)))
    for a, b in swaps.items():
        flip[index[a]], flip[index[b]] = index[b], index[a]
    return MetaInfo(
        name=name, keypoint_names=tuple(names), flip_indices=tuple(flip), sigmas=np.array(sigmas),
        skeleton=tuple((index[a], index[b]) for a, b in links),
        upper_body_ids=tuple(index[n] for n in upper), lower_body_ids=tuple(index[n] for n in lower),
        joint_weights=tuple(joint_weights or [1.0] * len(names)))


def _lr_swaps(names: list[str], left: str = "left_", right: str = "right_") -> dict[str, str]:
    return {n: right + n[len(left):] for n in names if n.startswith(left)}


_LIMBS = ["shoulder", "elbow", "wrist", "hip", "knee", "ankle"]
_COCO_NAMES = (["nose", "left_eye", "right_eye", "left_ear", "right_ear"]
               + [f"{side}_{part}" for part in _LIMBS for side in ("left", "right")])
_COCO_LINKS = [("left_ankle", "left_knee"), ("left_knee", "left_hip"), ("right_ankle", "right_knee"),
               ("right_knee", "right_hip"), ("left_hip", "right_hip"), ("left_shoulder", "left_hip"),
               ("right_shoulder", "right_hip"), ("left_shoulder", "right_shoulder"),
               ("left_shoulder", "left_elbow"), ("right_shoulder", "right_elbow"),
               ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"), ("left_eye", "right_eye"),
               ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"),
               ("right_eye", "right_ear"), ("left_ear", "left_shoulder"), ("right_ear", "right_shoulder")]
_COCO_SIGMAS = [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
                0.107, 0.107, 0.087, 0.087, 0.089, 0.089]
_COCO_WEIGHTS = [1.0] * 7 + [1.2, 1.2, 1.5, 1.5, 1.0, 1.0, 1.2, 1.2, 1.5, 1.5]


def _coco() -> MetaInfo:
    return _build("coco", _COCO_NAMES, _lr_swaps(_COCO_NAMES), _COCO_SIGMAS, _COCO_LINKS,
                  _COCO_NAMES[:11], _COCO_NAMES[11:], _COCO_WEIGHTS)


def _coco_wholebody() -> MetaInfo:
    feet = [f"{s}_{p}" for s in ("left", "right") for p in ("big_toe", "small_toe", "heel")]
    face = [f"face-{i}" for i in range(68)]
    fingers = ["thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger"]
    hand = ["hand_root"] + [f"{f}{j}" for f in fingers for j in range(1, 5)]
    names = _COCO_NAMES + feet + face + [f"left_{h}" for h in hand] + [f"right_{h}" for h in hand]
    # iBUG-68 face mirror pairs: jaw, brows, nose base, eyes, outer and inner lips
    face_pairs = ([(i, 16 - i) for i in range(8)] + [(17 + i, 26 - i) for i in range(5)]
                  + [(31, 35), (32, 34), (36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46),
                     (48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64), (61, 63), (65, 67)])
    swaps = _lr_swaps(names) | {f"face-{a}": f"face-{b}" for a, b in face_pairs}
    hand_links = [(a, b) for f in fingers
                  for a, b in zip(["hand_root"] + [f"{f}{j}" for j in range(1, 4)], [f"{f}{j}" for j in range(1, 5)])]
    links = (_COCO_LINKS + [(f"{s}_ankle", f"{s}_{p}") for s in ("left", "right")
                            for p in ("big_toe", "small_toe", "heel")]
             + [(f"{s}_{a}", f"{s}_{b}") for s in ("left", "right") for a, b in hand_links])
    foot_sigmas = [0.068, 0.066, 0.066, 0.092, 0.094, 0.094]
    face_sigmas = [0.042, 0.043, 0.044, 0.043, 0.040, 0.035, 0.031, 0.025, 0.020, 0.023, 0.029, 0.032,
                   0.037, 0.038, 0.043, 0.041, 0.045, 0.013, 0.012, 0.011, 0.011, 0.012, 0.012, 0.011,
                   0.011, 0.013, 0.015, 0.009, 0.007, 0.007, 0.007, 0.012, 0.009, 0.008, 0.016, 0.010,
                   0.017, 0.011, 0.009, 0.011, 0.009, 0.007, 0.013, 0.008, 0.011, 0.012, 0.010, 0.034,
                   0.008, 0.008, 0.009, 0.008, 0.008, 0.007, 0.010, 0.008, 0.009, 0.009, 0.009, 0.007,
                   0.007, 0.008, 0.011, 0.008, 0.008, 0.008, 0.010, 0.008]
    hand_sigmas = [0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035, 0.018, 0.024,
                   0.022, 0.026, 0.017, 0.021, 0.021, 0.032, 0.020, 0.019, 0.022, 0.031]
    sigmas = _COCO_SIGMAS + foot_sigmas + face_sigmas + hand_sigmas + hand_sigmas
    # MMPose marks the body "upper"/"lower" and the feet "lower"; face and hands belong to neither
    return _build("coco_wholebody", names, swaps, sigmas, links, _COCO_NAMES[:11],
                  _COCO_NAMES[11:] + feet)


def _aic() -> MetaInfo:
    limbs = [f"{s}_{p}" for s in ("right", "left") for p in ("shoulder", "elbow", "wrist")]
    legs = [f"{s}_{p}" for s in ("right", "left") for p in ("hip", "knee", "ankle")]
    names = limbs + legs + ["head_top", "neck"]
    links = [("right_wrist", "right_elbow"), ("right_elbow", "right_shoulder"), ("right_shoulder", "neck"),
             ("neck", "left_shoulder"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
             ("right_ankle", "right_knee"), ("right_knee", "right_hip"), ("right_hip", "left_hip"),
             ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("head_top", "neck"),
             ("right_shoulder", "right_hip"), ("left_shoulder", "left_hip")]
    sigmas = [0.01388152, 0.01515228, 0.01057665, 0.01417709, 0.01497891, 0.01402144, 0.03909642,
              0.03686941, 0.01981803, 0.03843971, 0.03412318, 0.02415081, 0.01291456, 0.01236173]
    weights = [1.0, 1.2, 1.5] * 4 + [1.0, 1.0]
    return _build("aic", names, _lr_swaps(names), sigmas, links, limbs + ["head_top", "neck"], legs,
                  weights)


def _crowdpose() -> MetaInfo:
    names = _COCO_NAMES[5:] + ["top_head", "neck"]
    links = _COCO_LINKS[:12] + [("top_head", "neck"), ("right_shoulder", "neck"), ("left_shoulder", "neck")]
    sigmas = _COCO_SIGMAS[5:] + [0.079, 0.079]
    weights = [0.2, 0.2, 0.2, 1.3, 1.5, 0.2, 1.3, 1.5, 0.2, 0.2, 0.5, 0.2, 0.2, 0.5]
    return _build("crowdpose", names, _lr_swaps(names), sigmas, links, names[:6] + names[12:],
                  names[6:12], weights)


def _mpii() -> MetaInfo:
    names = ["right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "pelvis",
             "thorax", "upper_neck", "head_top", "right_wrist", "right_elbow", "right_shoulder",
             "left_shoulder", "left_elbow", "left_wrist"]
    chain = ["right_ankle", "right_knee", "right_hip", "pelvis", "left_hip", "left_knee", "left_ankle"]
    links = (list(zip(chain[:-1], chain[1:])) + [("pelvis", "thorax"), ("thorax", "upper_neck"),
                                                 ("upper_neck", "head_top")]
             + [(a, b) for s in ("right", "left") for a, b in
                (("upper_neck", f"{s}_shoulder"), (f"{s}_shoulder", f"{s}_elbow"), (f"{s}_elbow", f"{s}_wrist"))])
    sigmas = [0.089, 0.083, 0.107, 0.107, 0.083, 0.089, 0.026, 0.026, 0.026, 0.026, 0.062, 0.072,
              0.179, 0.179, 0.072, 0.062]
    weights = [1.5, 1.2, 1.0, 1.0, 1.2, 1.5, 1.0, 1.0, 1.0, 1.0, 1.5, 1.2, 1.0, 1.0, 1.2, 1.5]
    return _build("mpii", names, _lr_swaps(names), sigmas, links, names[7:], names[:7], weights)


def _ap10k() -> MetaInfo:
    names = ["L_Eye", "R_Eye", "Nose", "Neck", "Root of tail", "L_Shoulder", "L_Elbow", "L_F_Paw",
             "R_Shoulder", "R_Elbow", "R_F_Paw", "L_Hip", "L_Knee", "L_B_Paw", "R_Hip", "R_Knee", "R_B_Paw"]
    links = [("L_Eye", "R_Eye"), ("L_Eye", "Nose"), ("R_Eye", "Nose"), ("Nose", "Neck"),
             ("Neck", "Root of tail")] + [
        (a, b) for s in ("L", "R") for a, b in (("Neck", f"{s}_Shoulder"), (f"{s}_Shoulder", f"{s}_Elbow"),
                                                 (f"{s}_Elbow", f"{s}_F_Paw"))] + [
        (a, b) for s in ("L", "R") for a, b in (("Root of tail", f"{s}_Hip"), (f"{s}_Hip", f"{s}_Knee"),
                                                 (f"{s}_Knee", f"{s}_B_Paw"))]
    sigmas = [0.025, 0.025, 0.026, 0.035, 0.035, 0.079, 0.072, 0.062, 0.079, 0.072, 0.062, 0.107, 0.087,
              0.089, 0.107, 0.087, 0.089]
    weights = [1.0] * 7 + [1.2, 1.2, 1.5, 1.5, 1.0, 1.0, 1.2, 1.2, 1.5, 1.5]
    # as in MMPose's ap10k.py, R_F_Paw (10) is typed "lower" although L_F_Paw (7) is "upper"
    upper = [0, 1, 2, 3, 5, 6, 7, 8, 9]
    return _build("ap10k", names, _lr_swaps(names, "L_", "R_"), sigmas, links,
                  [names[i] for i in upper], [n for i, n in enumerate(names) if i not in upper], weights)


_BUILDERS = {"coco": _coco, "coco_wholebody": _coco_wholebody, "aic": _aic, "crowdpose": _crowdpose,
             "mpii": _mpii, "ap10k": _ap10k}


def get_metainfo(name: str) -> MetaInfo:
    """The metainfo of a named dataset: coco | coco_wholebody | aic | crowdpose | mpii | ap10k."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown dataset {name!r}; choose from {sorted(_BUILDERS)}")
    return _BUILDERS[name]()


_SIDE_PATTERNS = (("left", "right"), ("Left", "Right"), ("L_", "R_"), ("l_", "r_"))


def _mirror_name(name: str) -> str | None:
    for left, right in _SIDE_PATTERNS:
        for a, b in ((left, right), (right, left)):
            if a in name:
                return name.replace(a, b, 1)
    return None


def metainfo_from_coco(source: str | Path | dict, *, sigmas, name: str | None = None,
                       flip_pairs: list[tuple[int, int]] | None = None,
                       upper_body_ids: tuple[int, ...] = (), lower_body_ids: tuple[int, ...] = (),
                       category_id: int | None = None) -> MetaInfo:
    """Metainfo of a custom COCO-format set: names and skeleton from its category, user sigmas.

    Flip pairs are given, or derived from left/right names (``left_x`` <-> ``right_x``, ``L_x`` <->
    ``R_x``). A name with a side whose partner is missing, or a pair that is not symmetric, raises
    ``ValueError`` so an unflippable set is never trained with flip augmentation.
    """
    data = source if isinstance(source, dict) else json.loads(Path(source).read_text())
    label = "<dict>" if isinstance(source, dict) else str(source)
    cats = [c for c in data.get("categories", []) if "keypoints" in c]
    if category_id is not None:
        cats = [c for c in cats if c.get("id") == category_id]
    if not cats:
        raise ValueError(f"{label}: no category with 'keypoints' names (category_id={category_id})")
    cat = cats[0]
    names = list(cat["keypoints"])
    k = len(names)
    if len(sigmas) != k:
        raise ValueError(f"{label}: {len(sigmas)} sigmas given for {k} keypoints {names}")
    flip = list(range(k))
    if flip_pairs is None:
        index = {n: i for i, n in enumerate(names)}
        for i, n in enumerate(names):
            partner = _mirror_name(n)
            if partner is None:
                continue
            if partner not in index:
                raise ValueError(f"{label}: keypoint {n!r} has no flip partner {partner!r}; "
                                 "pass flip_pairs explicitly")
            flip[i] = index[partner]
    else:
        for a, b in flip_pairs:
            if flip[a] != a or flip[b] != b:
                raise ValueError(f"{label}: keypoint in flip pair {(a, b)} is already paired")
            flip[a], flip[b] = b, a
    if any(flip[flip[i]] != i for i in range(k)):
        raise ValueError(f"{label}: flip pairs are not symmetric: {flip}")
    skeleton = tuple((a - 1, b - 1) for a, b in cat.get("skeleton", []))  # COCO json links are 1-based
    return MetaInfo(name=name or cat.get("name", "custom"), keypoint_names=tuple(names),
                    flip_indices=tuple(flip), sigmas=np.asarray(sigmas, dtype=np.float64),
                    skeleton=skeleton, upper_body_ids=tuple(upper_body_ids),
                    lower_body_ids=tuple(lower_body_ids), joint_weights=(1.0,) * k)
