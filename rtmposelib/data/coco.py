"""Top-down COCO-format keypoint datasets: one item per person instance (docs/official-behaviour.md "Training recipe").

Instance filtering is MMPose's ``BaseCocoStyleDataset`` in top-down mode: an annotation is dropped if
it has no bbox or keypoints, is a crowd region, has ``num_keypoints == 0``, has a non-positive box
after clipping the xyxy corners to [0, W-1] x [0, H-1], or has all keypoints 0. With a detection-
results file (COCO results format) the person boxes (category 1) scoring at least ``det_score_thr``
are used instead, unclipped, with all keypoints invisible. An item is the padded box
(``GetBBoxCenterScale(1.25)``) through the training pipeline of :mod:`rtmposelib.data.augment` (or the
val-time ``TopdownAffine``), packed as a (3, H, W) uint8 BGR tensor (normalised later, on the batch:
:func:`rtmposelib.data.preprocess.normalize_images`), with the codec's targets.

Bad input never disappears silently: malformed json, a wrong keypoint count or an unreadable image
raise an error naming the file and instance; filtered instances, missing image files and visible
keypoints outside the image (made invisible) are counted in ``dataset.skipped``.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from rtmposelib.config import AugmentConfig
from rtmposelib.data.augment import TopdownAugment, sample_rng, topdown_affine
from rtmposelib.data.bbox import xywh_to_clipped_xyxy, xyxy_to_center_size
from rtmposelib.data.image_cache import DecodedImageCache
from rtmposelib.data.image_decode import read_image
from rtmposelib.data.metainfo import MetaInfo
from rtmposelib.data.person_filter import person_skip_reason
from rtmposelib.data.preprocess import pack_crop

# COCO-WholeBody stores an annotation's 133 keypoints in five fields, in this order (x, y, v each)
WHOLEBODY_FIELDS = ("keypoints", "foot_kpts", "face_kpts", "lefthand_kpts", "righthand_kpts")


def wholebody_keypoints(ann: dict) -> list:
    """The flat 133 x 3 keypoint values of a COCO-WholeBody annotation: body 17, feet 6, face 68, left
    hand 21, right hand 21 (absent fields contribute nothing, so callers check the length)."""
    return [v for field in WHOLEBODY_FIELDS for v in ann.get(field, [])]


def load_json(path: str | Path, what: str = "annotation file"):
    """json.load with errors that name the file (FileNotFoundError, ValueError with line/column)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{what} {path} is malformed JSON: {err.msg} at line {err.lineno}, "
                         f"column {err.colno}") from None


@dataclass
class Instance:
    """One person to crop. center / box_size: the unpadded box, image px, box_size (w, h)."""

    image_path: Path
    image_id: int
    id: int
    keypoints: np.ndarray          # (K, 2) float32 image px
    visible: np.ndarray            # (K,) float32 in {0, 1}
    center: np.ndarray             # (2,) float32
    box_size: np.ndarray           # (2,) float32
    bbox_score: float = 1.0
    area: float = 0.0


class TopdownDataset(Dataset):
    """Shared item logic of the top-down datasets; subclasses fill ``instances`` and ``skipped``."""

    def __init__(self, *, metainfo: MetaInfo, codec, input_size: tuple[int, int],
                 augment: AugmentConfig | None = None, bbox_padding: float = 1.25, seed: int = 0,
                 udp: bool = False) -> None:
        self.metainfo = metainfo
        self.codec = codec
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.bbox_padding = bbox_padding
        self.seed = seed
        self.udp = udp
        self.epoch = 0
        self.instances: list[Instance] = []
        self.skipped: Counter = Counter()
        self._pipeline: TopdownAugment | None = None
        self.image_cache: DecodedImageCache | None = None   # decoded images kept between crops, if set
        self.set_augment(augment)

    def set_epoch(self, epoch: int) -> None:
        """Select the random stream of an epoch (augmentation is a function of seed, epoch, index)."""
        self.epoch = int(epoch)

    def set_augment(self, augment: AugmentConfig | None) -> None:
        """Switch the training pipeline (stage 1 / stage 2), or None for the val-time crop."""
        self.augment = augment
        self._pipeline = None if augment is None else TopdownAugment(
            augment, input_size=self.input_size, flip_indices=self.metainfo.flip_indices,
            upper_body_ids=self.metainfo.upper_body_ids, lower_body_ids=self.metainfo.lower_body_ids,
            udp=self.udp)

    def __len__(self) -> int:
        return len(self.instances)

    def load_image(self, inst: Instance) -> np.ndarray:
        """The instance's image, (H, W, 3) uint8 BGR; an error naming file and instance if unreadable."""
        cached = None if self.image_cache is None else self.image_cache.get(inst.image_path)
        if cached is not None:
            return cached
        image = read_image(inst.image_path, what=f"instance id {inst.id}, image id {inst.image_id}")
        return image if self.image_cache is None else self.image_cache.put(inst.image_path, image)

    def __getitem__(self, index: int) -> dict:
        return self.item(index)

    def item(self, index: int, *, key: int | None = None) -> dict:
        """Instance ``index``, augmented with the random stream of (seed, epoch, key); key defaults to
        index (a combined dataset passes its own position, so repeats differ)."""
        inst = self.instances[index]
        image = self.load_image(inst)
        center, box_size = inst.center, inst.box_size * np.float32(self.bbox_padding)
        if self._pipeline is not None:
            sample = self._pipeline(image, inst.keypoints, inst.visible, center, box_size,
                                    sample_rng(self.seed, self.epoch, index if key is None else key))
        else:
            sample = topdown_affine(image, inst.keypoints, inst.visible, center, box_size, self.input_size,
                                    udp=self.udp)
        targets = self.codec.encode(sample.keypoints[None], sample.visible[None])
        item = {key: value[0] for key, value in targets.items()}
        item.update(image=pack_crop(sample.crop), keypoints=sample.keypoints,
                    visible=sample.visible, center=sample.center, box_size=sample.box_size,
                    bbox_score=np.float32(inst.bbox_score), image_id=inst.image_id, id=inst.id,
                    area=np.float32(inst.area), bbox=self.input_box(inst))
        return item

    @staticmethod
    def input_box(inst: Instance) -> np.ndarray:
        """The instance's unpadded input box (the detection, or the clipped ground-truth box) as
        (4,) float32 ``[x, y, w, h]`` image px; its w x h is the result area the evaluator ranges by."""
        return np.concatenate([inst.center - inst.box_size / 2, inst.box_size]).astype(np.float32)

    def _check_nonempty(self, source: Path) -> None:
        if not self.instances:
            raise ValueError(f"{source}: no instances left after filtering; skipped {dict(self.skipped)}")


class TopdownCocoDataset(TopdownDataset):
    """COCO-format person keypoints, one item per kept instance (GT boxes or detector boxes).

    ``keypoint_mapping`` (optional, see :mod:`rtmposelib.data.combined`) converts another keypoint
    set to ``metainfo``'s before any augmentation, as MMPose's ``KeypointConverter``.
    """

    def __init__(self, *, ann_file: str | Path, image_dir: str | Path, metainfo: MetaInfo, codec,
                 input_size: tuple[int, int], augment: AugmentConfig | None = None,
                 bbox_file: str | Path | None = None, det_score_thr: float = 0.0, bbox_padding: float = 1.25,
                 seed: int = 0, udp: bool = False, keypoint_mapping=None) -> None:
        super().__init__(metainfo=metainfo, codec=codec, input_size=input_size, augment=augment,
                         bbox_padding=bbox_padding, seed=seed, udp=udp)
        self.ann_file, self.image_dir = Path(ann_file), Path(image_dir)
        self.bbox_file = None if bbox_file is None else Path(bbox_file)
        self.keypoint_mapping = keypoint_mapping
        data = load_json(self.ann_file)
        if not isinstance(data, dict) or "images" not in data or "annotations" not in data:
            raise ValueError(f"annotation file {self.ann_file} is not COCO format: expected a dict with "
                             "'images' and 'annotations'")
        self.images = {}
        for img in data["images"]:
            missing = {"id", "file_name", "width", "height"} - set(img)
            if missing:
                raise ValueError(f"annotation file {self.ann_file}: image entry {img.get('id')} lacks "
                                 f"{sorted(missing)}")
            self.images[img["id"]] = img
        self._exists: dict[int, bool] = {}
        if self.bbox_file is None:
            self._load_ground_truth(data["annotations"])
        else:
            self._load_detections(det_score_thr)
        self._check_nonempty(self.ann_file)

    @property
    def num_source_keypoints(self) -> int:
        m = self.keypoint_mapping
        return m.num_source_keypoints if m is not None else self.metainfo.num_keypoints

    def _image_ok(self, img: dict) -> bool:
        """Whether the instance's image file exists; each instance of a missing file is counted (instances,
        like every other ``skipped`` reason)."""
        if img["id"] not in self._exists:
            self._exists[img["id"]] = (self.image_dir / img["file_name"]).is_file()
        if not self._exists[img["id"]]:
            self.skipped["missing_image_file"] += 1
        return self._exists[img["id"]]

    def _load_ground_truth(self, annotations: list) -> None:
        k_src = self.num_source_keypoints
        for ann in annotations:
            img = self.images.get(ann.get("image_id"))
            where = f"annotation file {self.ann_file}: annotation id {ann.get('id')} (image id {ann.get('image_id')})"
            if img is None:
                raise ValueError(f"{where} refers to an image that is not in 'images'")
            if "bbox" not in ann or "keypoints" not in ann:
                self.skipped["no_bbox_or_keypoints"] += 1
                continue
            values = ann["keypoints"]
            if k_src == 133 and "foot_kpts" in ann:                # COCO-WholeBody stores the parts apart
                values = wholebody_keypoints(ann)
            raw = np.asarray(values, dtype=np.float32)
            if raw.size != 3 * k_src:
                raise ValueError(f"{where} has {raw.size} keypoint values, expected 3 x {k_src} "
                                 f"for {self.keypoint_mapping or self.metainfo.name!r}")
            if not np.isfinite(raw).all():
                raise ValueError(f"{where} has non-finite keypoint values")
            if len(ann["bbox"]) != 4:
                raise ValueError(f"{where} has bbox {ann['bbox']}, expected [x, y, w, h]")
            raw = raw.reshape(k_src, 3)
            xyxy = xywh_to_clipped_xyxy(ann["bbox"], (img["width"], img["height"]))
            reason = person_skip_reason(ann, (img["width"], img["height"]), keypoints=raw)
            if reason:
                self.skipped[reason] += 1
            elif self._image_ok(img):
                self._add_gt(ann, img, raw, xyxy)

    def _add_gt(self, ann: dict, img: dict, raw: np.ndarray, xyxy: np.ndarray) -> None:
        keypoints, visible = raw[:, :2].copy(), (raw[:, 2] > 0).astype(np.float32)   # min(1, v), v >= 0
        if self.keypoint_mapping is not None:
            keypoints, visible = self.keypoint_mapping.apply(keypoints, visible)
        outside = (visible > 0) & ((keypoints[:, 0] < 0) | (keypoints[:, 0] > img["width"])
                                   | (keypoints[:, 1] < 0) | (keypoints[:, 1] > img["height"]))
        if outside.any():
            self.skipped["keypoint_outside_image (made invisible)"] += int(outside.sum())
            visible[outside] = 0
        if "area" in ann:
            area = float(ann["area"])
        else:                                                  # MMPose: 0.53 of the clipped box
            area = max(float((xyxy[2] - xyxy[0]) * (xyxy[3] - xyxy[1])) * 0.53, 1.0)
        center, box_size = xyxy_to_center_size(xyxy)
        self.instances.append(Instance(image_path=self.image_dir / img["file_name"], image_id=ann["image_id"],
                                       id=ann["id"], keypoints=keypoints, visible=visible, center=center,
                                       box_size=box_size, bbox_score=1.0, area=area))

    def _load_detections(self, det_score_thr: float) -> None:
        assert self.bbox_file is not None
        dets = load_json(self.bbox_file, "detection-results file")
        if not isinstance(dets, list):
            raise ValueError(f"detection-results file {self.bbox_file} must be a list of "
                             "{image_id, category_id, bbox, score} dicts")
        k = self.metainfo.num_keypoints
        for i, det in enumerate(dets):
            missing = {"image_id", "category_id", "bbox", "score"} - set(det)
            if missing:
                raise ValueError(f"detection-results file {self.bbox_file}: entry {i} lacks {sorted(missing)}")
            img = self.images.get(det["image_id"])
            x, y, w, h = (float(v) for v in det["bbox"][:4])
            if det["category_id"] != 1:
                self.skipped["detection_not_person"] += 1
            elif det["score"] < det_score_thr:
                self.skipped["detection_below_score_thr"] += 1
            elif img is None:
                raise ValueError(f"detection-results file {self.bbox_file}: entry {i} has image id "
                                 f"{det['image_id']}, which is not in {self.ann_file}")
            elif not (w > 0 and h > 0):
                self.skipped["non_positive_box"] += 1
            elif self._image_ok(img):
                center, box_size = xyxy_to_center_size([x, y, x + w, y + h])
                self.instances.append(Instance(
                    image_path=self.image_dir / img["file_name"], image_id=det["image_id"],
                    id=len(self.instances), keypoints=np.zeros((k, 2), np.float32),
                    visible=np.zeros(k, np.float32), center=center, box_size=box_size,
                    bbox_score=float(det["score"]), area=w * h))
