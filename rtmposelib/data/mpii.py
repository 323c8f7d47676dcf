"""MPII-format annotations (a json list of single-person records), as MMPose's ``MpiiDataset``.

Each record: ``image`` (file name), ``center`` (x, y, 1-based Matlab pixels), ``scale`` (box side / 200),
``joints`` (16 x 2) and ``joints_vis`` (16). As MMPose: the box is square, side = scale * 200; the
centre moves down by 15 / 200 of the side (to avoid cutting the legs) unless it is -1, then both are
shifted to 0-based pixels; the joints stay 1-based (MMPose's PCKh adds 1 to the predictions for that);
area = 0.53 of the box. No instance filtering.

PCKh needs each person's head size. MMPose reads it from the official ``mpii_gt_val.mat``
(``headboxes_src``, (2, 2, N): corner x coordinate x record) as 0.6 x the head-box diagonal. Here the
head boxes come, in this order of preference, from

1. ``headbox_file``: that ``.mat``, or a ``.json`` list with one box per record, ``[x1, y1, x2, y2]``
   or ``[[x1, y1], [x2, y2]]`` (records in the annotation file's order);
2. a ``headbox`` field of each record, in the same box format;
3. otherwise an estimate: the head segment length ``||head_top - upper_neck||`` of the annotated
   joints. The MPII paper (Andriluka et al. 2014) defines PCKh by "50% of the head segment length";
   the official evaluation code approximates that length by 0.6 x the head-box diagonal, so the
   segment itself is the quantity the box stands in for. It is not bit-identical to the official
   normaliser: results are comparable with one another, not with published numbers to the decimal.
   A record whose head top or upper neck is not visible gets no head size (it loads and trains, but
   PCKh leaves it out, counted in ``skipped``).

``head_size_source`` says which was used ("headbox_file", "record headbox" or "keypoints").
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from rtmposelib.config import AugmentConfig
from rtmposelib.data.coco import Instance, TopdownDataset, load_json
from rtmposelib.data.metainfo import MetaInfo

PIXEL_STD = 200.0
SC_BIAS = 0.6                       # PCKh head size = head-box diagonal x SC_BIAS
UPPER_NECK, HEAD_TOP = 8, 9         # MPII joint indices


def _box_corners(box, where: str) -> np.ndarray:
    """[x1, y1, x2, y2] or [[x1, y1], [x2, y2]] -> (2, 2) float64; ValueError naming ``where``."""
    arr = np.asarray(box, dtype=np.float64)
    if arr.size != 4 or not np.isfinite(arr).all():
        raise ValueError(f"{where}: head box {box!r} is not [x1, y1, x2, y2] or [[x1, y1], [x2, y2]]")
    return arr.reshape(2, 2)


def load_head_boxes(path: str | Path, num_records: int) -> np.ndarray:
    """(N, 2, 2) head boxes [[x1, y1], [x2, y2]] from an MPII ``.mat`` (``headboxes_src``) or ``.json``.

    The N boxes must match the annotation file's N records one to one (FileNotFoundError / ValueError
    naming the file otherwise)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MPII head-box file {path} does not exist")
    if path.suffix == ".mat":
        from scipy.io import loadmat
        try:
            mat = loadmat(str(path))
        except Exception as err:                       # scipy raises several types for bad files
            raise ValueError(f"MPII head-box file {path} cannot be read as a .mat file: {err}") from None
        if "headboxes_src" not in mat:
            raise ValueError(f"MPII head-box file {path} has no 'headboxes_src' array "
                             f"(keys: {sorted(k for k in mat if not k.startswith('__'))})")
        src = np.asarray(mat["headboxes_src"], dtype=np.float64)
        if src.ndim != 3 or src.shape[:2] != (2, 2):
            raise ValueError(f"MPII head-box file {path}: headboxes_src has shape {src.shape}, expected (2, 2, N)")
        boxes = np.transpose(src, (2, 0, 1))           # (2 corners, 2 coords, N) -> (N, corner, coord)
    elif path.suffix == ".json":
        data = load_json(path, "MPII head-box file")
        if not isinstance(data, list):
            raise ValueError(f"MPII head-box file {path} must be a json list of boxes, one per record")
        boxes = np.stack([_box_corners(b, f"MPII head-box file {path}: entry {i}") for i, b in enumerate(data)]) \
            if data else np.zeros((0, 2, 2))
    else:
        raise ValueError(f"MPII head-box file {path} must be a .mat (mpii_gt_val.mat) or a .json list")
    if len(boxes) != num_records:
        raise ValueError(f"MPII head-box file {path} has {len(boxes)} boxes for {num_records} annotation records")
    return boxes


def head_segment_length(joints: np.ndarray, visible: np.ndarray) -> float:
    """||head_top - upper_neck|| in pixels, or 0.0 when either joint is not visible."""
    if not (visible[UPPER_NECK] > 0 and visible[HEAD_TOP] > 0):
        return 0.0
    return float(np.linalg.norm(np.asarray(joints[HEAD_TOP], np.float64) - joints[UPPER_NECK]))


def head_size(head_boxes: np.ndarray) -> np.ndarray:
    """(N, 2, 2) head boxes [[x1, y1], [x2, y2]] pixels -> (N,) PCKh normaliser: diagonal x SC_BIAS."""
    head_boxes = np.asarray(head_boxes, dtype=np.float64)
    return np.linalg.norm(head_boxes[:, 1] - head_boxes[:, 0], axis=-1) * SC_BIAS


class TopdownMpiiDataset(TopdownDataset):
    """MPII single-person crops; items as :class:`rtmposelib.data.coco.TopdownCocoDataset`.

    ``head_sizes`` (len(self),) float64 pixels: the PCKh normaliser of each kept instance, 0 where
    unknown; ``head_size_source``: "headbox_file" | "record headbox" | "keypoints".
    """

    def __init__(self, *, ann_file: str | Path, image_dir: str | Path, metainfo: MetaInfo, codec,
                 input_size: tuple[int, int], augment: AugmentConfig | None = None, bbox_padding: float = 1.25,
                 seed: int = 0, udp: bool = False, headbox_file: str | Path | None = None) -> None:
        super().__init__(metainfo=metainfo, codec=codec, input_size=input_size, augment=augment,
                         bbox_padding=bbox_padding, seed=seed, udp=udp)
        self.ann_file, self.image_dir = Path(ann_file), Path(image_dir)
        records = load_json(self.ann_file)
        if not isinstance(records, list):
            raise ValueError(f"MPII annotation file {self.ann_file} must be a json list of records")
        boxes = None
        if headbox_file is not None:
            boxes, self.head_size_source = load_head_boxes(headbox_file, len(records)), "headbox_file"
        elif records and all(isinstance(r, dict) and "headbox" in r for r in records):
            boxes = np.stack([_box_corners(r["headbox"], f"MPII annotation file {self.ann_file}: record {i}")
                              for i, r in enumerate(records)])
            self.head_size_source = "record headbox"
        else:
            self.head_size_source = "keypoints"
        head_sizes: list[float] = []
        k = metainfo.num_keypoints
        for i, rec in enumerate(records):
            where = f"MPII annotation file {self.ann_file}: record {i} ({rec.get('image')})"
            missing = {"image", "center", "scale", "joints", "joints_vis"} - set(rec)
            if missing:
                raise ValueError(f"{where} lacks {sorted(missing)}")
            joints = np.asarray(rec["joints"], dtype=np.float32)
            if joints.shape != (k, 2) or len(rec["joints_vis"]) != k:
                raise ValueError(f"{where} has joints of shape {joints.shape} and {len(rec['joints_vis'])} "
                                 f"visibility flags, expected ({k}, 2) and {k} for {metainfo.name!r}")
            side = float(rec["scale"]) * PIXEL_STD
            if not side > 0:
                self.skipped["non_positive_box"] += 1
                continue
            center = np.asarray(rec["center"], dtype=np.float32)
            if center[0] != -1:
                center[1] += 15.0 / PIXEL_STD * side
            center = center - 1
            path = self.image_dir / rec["image"]
            if not path.is_file():
                self.skipped["missing_image_file"] += 1
                continue
            visible = np.minimum(1, np.asarray(rec["joints_vis"], dtype=np.float32))
            if boxes is not None:
                head = float(head_size(boxes[i:i + 1])[0])               # 0.6 x diagonal
            else:
                head = head_segment_length(joints, visible) if k > HEAD_TOP else 0.0
            if not head > 0:
                self.skipped["no_head_size (left out of PCKh)"] += 1
            head_sizes.append(head)
            self.instances.append(Instance(
                image_path=path, image_id=int(Path(rec["image"]).stem), id=i, keypoints=joints,
                visible=visible, center=center, box_size=np.array([side, side], np.float32),
                area=max(side * side * 0.53, 1.0)))
        self.head_sizes = np.asarray(head_sizes, dtype=np.float64)
        self._check_nonempty(self.ann_file)
