"""Detector dataset: the evaluation letterbox equals the pipeline's; augmented boxes still frame the
object they annotate; skipped annotations are counted; bad files raise naming the file."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from rtmposelib.detect.det_data import DetectionDataset, collate
from rtmposelib.detect.letterbox import DET_MEAN, DET_STD, letterbox

BOX = (150.0, 90.0, 120.0, 200.0)          # x, y, w, h of the white rectangle in a 400 x 300 image


@pytest.fixture()
def coco(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    img = np.full((300, 400, 3), 40, np.uint8)
    x, y, w, h = (int(v) for v in BOX)
    img[y:y + h, x:x + w] = 255
    cv2.imwrite(str(images / "a.png"), img)
    cv2.imwrite(str(images / "b.png"), np.full((300, 400, 3), 40, np.uint8))
    anns = [dict(id=1, image_id=1, category_id=1, bbox=list(BOX), iscrowd=0, area=BOX[2] * BOX[3]),
            dict(id=2, image_id=1, category_id=1, bbox=[10, 10, 50, 50], iscrowd=1, area=2500),
            dict(id=3, image_id=2, category_id=1, bbox=[10, 10, 0, 50], iscrowd=0, area=0),
            dict(id=4, image_id=2, category_id=2, bbox=[10, 10, 30, 30], iscrowd=0, area=900)]
    data = dict(images=[dict(id=1, file_name="a.png", width=400, height=300),
                        dict(id=2, file_name="b.png", width=400, height=300)],
                annotations=anns, categories=[dict(id=1, name="person")])
    ann = tmp_path / "ann.json"
    ann.write_text(json.dumps(data))
    return ann, images


def test_eval_sample_is_the_pipeline_letterbox(coco):
    ann, images = coco
    ds = DetectionDataset(ann_file=ann, image_dir=images)
    assert len(ds) == 2 and dict(ds.skipped) == {"crowd": 1, "non_positive_box": 1}
    item = ds[0]
    ref, ratio = letterbox(cv2.imread(str(images / "a.png")), (320, 320))
    assert torch.equal(item["image"], torch.from_numpy(ref[0])) and item["ratio"] == ratio == 0.8
    x, y, w, h = BOX
    torch.testing.assert_close(item["boxes"], torch.tensor([[x, y, x + w, y + h]]) * 0.8)
    assert item["labels"].tolist() == [0] and item["orig_size"] == (400, 300)
    assert len(ds[1]["boxes"]) == 0                        # evaluation keeps images without boxes


def bright_box(image: torch.Tensor) -> np.ndarray:
    """xyxy of the white pixels of a normalised BGR (3, H, W) image."""
    bgr = image.numpy().transpose(1, 2, 0) * np.float32(DET_STD) + np.float32(DET_MEAN)
    ys, xs = np.nonzero(bgr.mean(-1) > 150)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


def test_augmented_boxes_frame_the_object(coco):
    ann, images = coco
    ds = DetectionDataset(ann_file=ann, image_dir=images, train=True, hsv=False)
    assert len(ds) == 1 and ds.skipped["image_without_boxes"] == 1   # filter_empty_gt
    widths = set()
    for epoch in range(12):
        ds.set_epoch(epoch)
        item = ds[0]
        assert item["image"].shape == (3, 320, 320)
        assert len(item["boxes"]) == 1                     # the crop keeps the only box
        np.testing.assert_allclose(item["boxes"][0].numpy(), bright_box(item["image"]), atol=1.5)
        widths.add(round(float(item["boxes"][0, 2] - item["boxes"][0, 0])))
    assert len(widths) > 1                                 # the random resize varies the scale
    again = DetectionDataset(ann_file=ann, image_dir=images, train=True, hsv=False)
    again.set_epoch(11)
    assert torch.equal(again[0]["image"], item["image"])   # deterministic in (seed, epoch, index)


def test_flip_mirrors_image_and_box(coco):
    ann, images = coco
    plain = DetectionDataset(ann_file=ann, image_dir=images, train=True, hsv=False, flip_prob=0.0)[0]
    flip = DetectionDataset(ann_file=ann, image_dir=images, train=True, hsv=False, flip_prob=1.0)[0]
    a, b = plain["boxes"][0], flip["boxes"][0]
    assert a[1] == b[1] and a[3] == b[3] and torch.isclose(a[2] - a[0], b[2] - b[0])
    assert not torch.equal(a, b)
    np.testing.assert_allclose(b.numpy(), bright_box(flip["image"]), atol=1.5)


def test_hsv_jitter_changes_colours_not_boxes(coco):
    ann, images = coco
    plain = DetectionDataset(ann_file=ann, image_dir=images, train=True, hsv=False)[0]
    jittered = DetectionDataset(ann_file=ann, image_dir=images, train=True, hsv=True)[0]
    torch.testing.assert_close(plain["boxes"], jittered["boxes"])
    assert not torch.equal(plain["image"], jittered["image"])


def test_collate_keeps_box_lists(coco):
    ann, images = coco
    ds = DetectionDataset(ann_file=ann, image_dir=images)
    batch = collate([ds[0], ds[1]])
    assert batch["image"].shape == (2, 3, 320, 320)
    assert [len(b) for b in batch["boxes"]] == [1, 0] and batch["image_id"] == [1, 2]


def test_bad_inputs_name_the_file(coco, tmp_path):
    ann, images = coco
    with pytest.raises(FileNotFoundError, match="nothing.json"):
        DetectionDataset(ann_file=tmp_path / "nothing.json", image_dir=images)
    (images / "a.png").unlink()
    with pytest.raises(FileNotFoundError, match="a.png"):
        DetectionDataset(ann_file=ann, image_dir=images)[0]
    (images / "a.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="cannot decode image .*a.png"):
        DetectionDataset(ann_file=ann, image_dir=images)[0]
    data = json.loads(ann.read_text())
    data["annotations"][0]["image_id"] = 99
    ann.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="annotation 1 refers to unknown image 99"):
        DetectionDataset(ann_file=ann, image_dir=images)
