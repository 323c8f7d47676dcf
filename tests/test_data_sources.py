"""resolve_data / build_datasets: SynthPose and COCO-layout roots, detector boxes, AIC extras, errors."""
from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from rtmposelib.config import PRESETS, DataConfig
from rtmposelib.data.combined import CombinedDataset
from rtmposelib.data.sources import build_datasets, resolve_data


def test_synth_source_builds_train_and_val():
    cfg = PRESETS["rtmpose-t"]
    train, val = build_datasets(cfg)
    assert train.augment == cfg.aug_stage1 and val.augment is None
    assert len(train) > 0 and len(val) > 0 and train.seed == cfg.train.seed
    item = val[0]
    assert item["image"].shape == (3, 256, 192) and item["box_size"][0] / item["box_size"][1] == pytest.approx(0.75)
    det = replace(cfg, data=replace(cfg.data, val_bbox_file="annotations/person_detection_results_val2017.json",
                                    det_score_thr=0.5))
    _, det_val = build_datasets(det)
    assert det_val.bbox_file is not None and min(i.bbox_score for i in det_val.instances) >= 0.5


def test_missing_files_are_listed(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_data(DataConfig(source=str(tmp_path / "nowhere")))
    (tmp_path / "annotations").mkdir()
    with pytest.raises(FileNotFoundError, match=r"missing: train_ann = .*person_keypoints_train2017.json"):
        resolve_data(DataConfig(source=str(tmp_path)))


def _coco_root(tmp, src_dir, ann_name):
    (tmp / "annotations").mkdir(parents=True)
    for split in ("train", "val"):
        shutil.copy(src_dir / ann_name, tmp / "annotations" / f"person_keypoints_{split}2017.json")
        (tmp / f"{split}2017").symlink_to(src_dir, target_is_directory=True)
    return tmp


def test_coco_root_plus_aic_extra(shared_data, tmp_path):
    coco = _coco_root(tmp_path / "coco", shared_data / "coco", "test_coco.json")
    aic = _coco_root(tmp_path / "aic", shared_data / "aic", "test_aic.json")
    cfg = PRESETS["rtmpose-t"]
    cfg = replace(cfg, data=replace(cfg.data, source=str(coco), extra_train=(f"aic:{aic}",)))
    train, val = build_datasets(cfg)
    assert isinstance(train, CombinedDataset) and train.repeats == [3, 1]
    assert len(train) == 3 * 12 + 9 and len(val) == 12
    assert train[len(train) - 1]["visible"][:5].sum() == 0


def test_dataloader_workers_give_the_same_batches():
    import torch
    from torch.utils.data import DataLoader
    train, _ = build_datasets(PRESETS["rtmpose-t"])
    train.set_epoch(3)
    a = next(iter(DataLoader(train, batch_size=4, num_workers=0)))
    b = next(iter(DataLoader(train, batch_size=4, num_workers=1)))
    assert a["image"].shape == (4, 3, 256, 192) and a["target_x"].shape == (4, 17, 384)
    assert all(torch.equal(a[k], b[k]) for k in a)
