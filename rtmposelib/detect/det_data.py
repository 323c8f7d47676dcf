"""Letterboxed person-box dataset for training and evaluating RTMDet on any COCO-format annotation file.

Matches the pipelines of MMPose's ``rtmdet_nano_320-8xb32_coco-person.py`` (docs/official-behaviour.md "Model zoo"):

- evaluation: keep-ratio resize to fit 320 x 320, top-left placement, pad 114 (bottom / right), then
  (x - mean) / std with the BGR mean (103.53, 116.28, 123.675) / std (57.375, 57.12, 58.395) and no
  channel swap (``rtmposelib.infer.detector.letterbox``, the same function the pipeline uses);
- training: the official stage-2 pipeline (the one used for the last 20 of 300 epochs; we skip the
  cached mosaic of stage 1, which matters less on our one-scale synthetic scenes): ``RandomResize``
  to 320 x 320 with ratio in [0.5, 1.5] (keep ratio), ``RandomCrop`` 320 x 320 (boxes clipped, empty
  ones dropped; up to ten tries to keep at least one box), ``YOLOXHSVRandomAug`` (hue +-5, saturation
  and value +-30 in OpenCV units), ``RandomFlip`` 0.5, ``Pad`` to 320 x 320 with 114.

Annotations: category ``category_id`` (1 = person); crowd regions and boxes of non-positive size are
left out and counted in ``skipped``; boxes are COCO xywh -> xyxy (x, y, x + w, y + h). An image file
that is missing or unreadable raises FileNotFoundError / ValueError naming it.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from rtmposelib.data.image_decode import decode_image
from rtmposelib.data.person_filter import person_skip_reason
from rtmposelib.detect.letterbox import DET_MEAN, DET_STD, PAD_VALUE, letterbox


class DetectionDataset(Dataset):
    """COCO boxes of one category as letterboxed detector samples.

    item: dict(image (3, h, w) float32 tensor, normalised BGR; boxes (G, 4) float32 xyxy letterbox px;
    labels (G,) int64 (all 0); image_id int; ratio float (letterbox px per image px, 1 / 0 when
    training crops); orig_size (w, h)).
    """

    def __init__(self, *, ann_file: str | Path, image_dir: str | Path, input_size: tuple[int, int] = (320, 320),
                 train: bool = False, category_id: int = 1, scale_range: tuple[float, float] = (0.5, 1.5),
                 flip_prob: float = 0.5, hsv: bool = True, seed: int = 0) -> None:
        self.ann_file, self.image_dir = Path(ann_file), Path(image_dir)
        if not self.ann_file.is_file():
            raise FileNotFoundError(f"annotation file not found: {self.ann_file}")
        if not self.image_dir.is_dir():
            raise FileNotFoundError(f"image directory not found: {self.image_dir}")
        try:
            coco = json.loads(self.ann_file.read_text())
            images = coco["images"]
            annotations = coco["annotations"]
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{self.ann_file}: not a COCO annotation file ({err!r})") from None
        w_in, h_in = input_size
        self.input_size, self.train, self.category_id = (w_in, h_in), train, category_id
        self.scale_range, self.flip_prob, self.hsv, self.seed = scale_range, flip_prob, hsv, seed
        self.epoch = 0
        self.skipped: dict[str, int] = defaultdict(int)
        boxes: dict[int, list] = defaultdict(list)
        sizes = {img["id"]: (img["width"], img["height"]) for img in images}
        known = set(sizes)
        for ann in annotations:
            if ann.get("category_id") != category_id:
                continue
            if ann.get("image_id") not in known:
                raise ValueError(f"{self.ann_file}: annotation {ann.get('id')} refers to unknown image "
                                 f"{ann.get('image_id')}")
            try:
                x, y, w, h = (float(v) for v in ann["bbox"])
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"{self.ann_file}: annotation {ann.get('id')} has no bbox of 4 numbers") from None
            reason = person_skip_reason(ann, sizes[ann["image_id"]], require_keypoints=False)
            if reason:
                self.skipped[reason] += 1
                continue
            boxes[ann["image_id"]].append([x, y, x + w, y + h])
        self.images = [img for img in images if not train or boxes.get(img["id"])]   # filter_empty_gt
        if train:
            self.skipped["image_without_boxes"] += len(images) - len(self.images)
        self.boxes = {i: np.asarray(b, np.float32).reshape(-1, 4) for i, b in boxes.items()}

    def __len__(self) -> int:
        return len(self.images)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def read(self, index: int) -> tuple[np.ndarray, np.ndarray, dict]:
        """The original BGR image (H, W, 3) uint8, its boxes (G, 4) xyxy image px and COCO image record."""
        info = self.images[index]
        path = self.image_dir / info["file_name"]
        if not path.is_file():
            raise FileNotFoundError(f"image file not found: {path}")
        image = decode_image(np.fromfile(str(path), np.uint8))
        if image is None:
            raise ValueError(f"cannot decode image {path}")
        return image, self.boxes.get(info["id"], np.zeros((0, 4), np.float32)).copy(), info

    def __getitem__(self, index: int) -> dict:
        image, boxes, info = self.read(index)
        h0, w0 = image.shape[:2]
        if self.train:
            rng = np.random.default_rng((self.seed, self.epoch, index))
            batch, boxes = self._augment(image, boxes, rng)
            ratio = 0.0
        else:
            batch, ratio = letterbox(image, self.input_size)
            batch, boxes = batch[0], boxes * np.float32(ratio)
        return dict(image=torch.from_numpy(np.ascontiguousarray(batch)), boxes=torch.from_numpy(boxes),
                    labels=torch.zeros(len(boxes), dtype=torch.long), image_id=int(info["id"]),
                    ratio=float(ratio), orig_size=(w0, h0))

    def _augment(self, image: np.ndarray, boxes: np.ndarray, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray]:
        w_in, h_in = self.input_size
        h0, w0 = image.shape[:2]
        # 1. RandomResize: keep ratio, fit (w_in, h_in) * r
        r = rng.uniform(*self.scale_range)
        scale = min(w_in * r / w0, h_in * r / h0)
        new_w, new_h = max(1, int(w0 * scale + 0.5)), max(1, int(h0 * scale + 0.5))
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        boxes = boxes * np.array([new_w / w0, new_h / h0, new_w / w0, new_h / h0], np.float32)
        # 2. RandomCrop (w_in, h_in): clip boxes, drop empty ones; retry to keep a box
        for _ in range(10):
            x0 = int(rng.integers(0, max(new_w - w_in, 0) + 1))
            y0 = int(rng.integers(0, max(new_h - h_in, 0) + 1))
            cropped = boxes - np.array([x0, y0, x0, y0], np.float32)
            cropped[:, 0::2] = cropped[:, 0::2].clip(0, min(w_in, new_w - x0))
            cropped[:, 1::2] = cropped[:, 1::2].clip(0, min(h_in, new_h - y0))
            keep = (cropped[:, 2] > cropped[:, 0]) & (cropped[:, 3] > cropped[:, 1])
            if keep.any() or len(boxes) == 0:
                break
        image, boxes = image[y0:y0 + h_in, x0:x0 + w_in], cropped[keep]
        # 3. YOLOX HSV jitter (OpenCV hue in [0, 180)); drawn either way so switches keep the geometry
        gains = rng.uniform(-1, 1, 3) * np.array([5, 30, 30])
        if self.hsv:
            hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV).astype(np.int16)
            hsv[..., 0] = (hsv[..., 0] + int(gains[0])) % 180
            hsv[..., 1:] = np.clip(hsv[..., 1:] + gains[1:].astype(np.int16), 0, 255)
            image = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)
        # 4. RandomFlip (horizontal, about the crop's width)
        if rng.random() < self.flip_prob:
            image = image[:, ::-1]
            w_c = image.shape[1]
            boxes = np.stack([w_c - boxes[:, 2], boxes[:, 1], w_c - boxes[:, 0], boxes[:, 3]], axis=1)
        # 5. Pad bottom / right to (w_in, h_in) with 114, normalise BGR
        padded = np.full((h_in, w_in, 3), PAD_VALUE, np.uint8)
        padded[:image.shape[0], :image.shape[1]] = image
        norm = (padded.astype(np.float32) - np.array(DET_MEAN, np.float32)) / np.array(DET_STD, np.float32)
        return norm.transpose(2, 0, 1), boxes.astype(np.float32).reshape(-1, 4)


def collate(samples: list[dict]) -> dict:
    """Stack images; keep per-image boxes / labels as lists (their counts differ)."""
    return dict(image=torch.stack([s["image"] for s in samples]), boxes=[s["boxes"] for s in samples],
                labels=[s["labels"] for s in samples], image_id=[s["image_id"] for s in samples],
                ratio=[s["ratio"] for s in samples], orig_size=[s["orig_size"] for s in samples])
