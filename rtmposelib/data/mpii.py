"""MPII-format annotations (a json list of single-person records), as MMPose's ``MpiiDataset``.

Each record: ``image`` (file name), ``center`` (x, y, 1-based Matlab pixels), ``scale`` (box side / 200),
``joints`` (16 x 2) and ``joints_vis`` (16). As MMPose: the box is square, side = scale * 200; the
centre moves down by 15 / 200 of the side (to avoid cutting the legs) unless it is -1, then both are
shifted to 0-based pixels; area = 0.53 of the box. No instance filtering.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from rtmposelib.config import AugmentConfig
from rtmposelib.data.coco import Instance, TopdownDataset, load_json
from rtmposelib.data.metainfo import MetaInfo

PIXEL_STD = 200.0


class TopdownMpiiDataset(TopdownDataset):
    """MPII single-person crops; items as :class:`rtmposelib.data.coco.TopdownCocoDataset`."""

    def __init__(self, *, ann_file: str | Path, image_dir: str | Path, metainfo: MetaInfo, codec,
                 input_size: tuple[int, int], augment: AugmentConfig | None = None, bbox_padding: float = 1.25,
                 seed: int = 0, udp: bool = False) -> None:
        super().__init__(metainfo=metainfo, codec=codec, input_size=input_size, augment=augment,
                         bbox_padding=bbox_padding, seed=seed, udp=udp)
        self.ann_file, self.image_dir = Path(ann_file), Path(image_dir)
        records = load_json(self.ann_file)
        if not isinstance(records, list):
            raise ValueError(f"MPII annotation file {self.ann_file} must be a json list of records")
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
            self.instances.append(Instance(
                image_path=path, image_id=int(Path(rec["image"]).stem), id=i, keypoints=joints,
                visible=np.minimum(1, np.asarray(rec["joints_vis"], dtype=np.float32)), center=center,
                scale=np.array([side, side], np.float32), area=max(side * side * 0.53, 1.0)))
        self._check_nonempty(self.ann_file)
